"""Tests of the native Pixelcopter port against the facts stated in ``specs/pixelcopter.md``.

Expected values are computed by hand from the spec (constants, draw order, update order), except the
long ``GOLDEN_*`` trajectory, whose figures were produced by the original PLE game code.
"""

from __future__ import annotations

import math
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from sb3_reinforce.envs import PIXELCOPTER_MAX_EPISODE_STEPS, register_envs
from sb3_reinforce.envs.actions import InvalidActionError
from sb3_reinforce.envs.pixelcopter import PixelcopterEnv, _geometry

ENV_ID = "Pixelcopter-PLE-v0"
UP, NOOP = 0, 1
GREEN = (120, 240, 80)

# An action sequence (one bit per step, 0 = up) that flies the seed-0 episode through three wall
# refills, and what the original game (PLE's pixelcopter.py) returns for it.
GOLDEN_SEED = 0
GOLDEN_LENGTH = 891
GOLDEN_ACTIONS_HEX = (
    "ff7df7ffbefffff7ffeffdfdfdfeff7dffefff7ffdffffbf7f7fbfd7fff7fefffbfff3ffffbffdffef7fdfbfefeffefff7ffeffefffbfdfdfe"
    "fbfeff7fff7feffffdfbffefbfdff9ffffff7fedfffbfdfbf7ff7ff7fffbfbffffbdffbeff7f7fdfffbffeffbfffedfffef7ef7bffffe"
)
GOLDEN_RETURN = 151.0
GOLDEN_DOUBLE_REWARD_STEPS = [66, 563]  # a gate and a wall column in the same frame
GOLDEN_NONZERO_REWARDS = 153
GOLDEN_OBS = {
    222: [24.815367836742677, -0.8082360387549775, 12.815367836742677, 11.184632163257323, 14.279999999999973, 28.0, 37.0],
    519: [16.715668458271427, 0.3231791064821045, 6.715668458271427, 17.284331541728573, 28.039999999999978, 15.0, 24.0],
    816: [17.857254322817955, 0.12604793613314794, 5.857254322817955, 18.142745677182045, 9.19999999999996, 28.0, 37.0],
    891: [11.087908938441224, 0.19122516223796235, 3.087908938441224, 20.912091061558776, 39.0, 20.0, 29.0],
}
# The first 80 actions of a flight through the unseeded first episode.
UNSEEDED_FLIGHT_HEX = "ff7df7f7fffdfff7ffef"


def decode_actions(hex_string: str, length: int) -> list[int]:
    bits = bin(int(hex_string, 16))[2:].zfill(len(hex_string) * 4)
    return [int(bit) for bit in bits[:length]]


def play(env: gym.Env, policy, seed: int | None = None, max_steps: int = 100_000) -> tuple[list[float], np.ndarray, bool]:
    """Run one episode; return the rewards, the last observation and whether it terminated."""
    obs, _ = env.reset(seed=seed)
    rewards = []
    for _ in range(max_steps):
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        rewards.append(reward)
        if terminated or truncated:
            return rewards, obs, terminated
    return rewards, obs, False


def expected_first_obs(seed: int) -> list[float]:
    """First observation after ``reset(seed)``, from the spec's draw order (no env code involved)."""
    rng = np.random.RandomState(seed)
    for _ in range(2):  # reset(seed) initialises the game twice; the episode uses the second init
        block_x, block_y = rng.randint(48, 72), rng.randint(12, 36)
        freq = 4.5 / 48 + rng.uniform(-0.01, 0.01)
        phases = [rng.uniform(0.0, 0.5) for _ in range(48)]
    # The copter's rect (x 15..16, y 23..24) first overlaps the column centred at x = 14 (index 3).
    ty = int(48 / 2.0 + 48 * 0.125 * math.sin(freq * 14 + phases[3]))
    return [24.0, 0.0, 24.0 - (ty - 12.0), (ty + 12.0) - 24.0, block_x - 16, block_y, block_y + 9]


@pytest.fixture(scope="module", autouse=True)
def _registered() -> None:
    register_envs()


def _wrapper_chain(env: gym.Env) -> list[gym.Env]:
    chain = [env]
    while isinstance(chain[-1], gym.Wrapper):
        chain.append(chain[-1].env)
    return chain


def test_registration() -> None:
    register_envs()  # idempotent
    spec = gym.spec(ENV_ID)
    assert spec.entry_point == "sb3_reinforce.envs.pixelcopter:PixelcopterEnv"
    assert spec.max_episode_steps == PIXELCOPTER_MAX_EPISODE_STEPS == 10_000
    env = gym.make(ENV_ID)
    assert isinstance(env.unwrapped, PixelcopterEnv)
    # Training stack: order enforcing kept (a clear error for step() before reset()), the env checker left out
    wrappers = {type(wrapper).__name__ for wrapper in _wrapper_chain(env)}
    assert "OrderEnforcing" in wrappers and "PassiveEnvChecker" not in wrappers
    assert "PassiveEnvChecker" in {type(w).__name__ for w in _wrapper_chain(gym.make(ENV_ID, disable_env_checker=False))}
    assert env.observation_space == gym.spaces.Box(-np.inf, np.inf, (7,), np.float32)
    assert env.action_space == gym.spaces.Discrete(2)


def test_first_observation_unseeded() -> None:
    obs, info = gym.make(ENV_ID).reset()
    assert obs.dtype == np.float32 and obs.shape == (7,)
    np.testing.assert_array_equal(obs, [24, 0, 7, 17, 49, 31, 40])
    assert info == {}


@pytest.mark.parametrize("seed", [0, 1, 42, 123, 2**32 - 1])
def test_first_observation_seeded(seed: int) -> None:
    obs, _ = PixelcopterEnv().reset(seed=seed)
    np.testing.assert_array_equal(obs, np.array(expected_first_obs(seed), dtype=np.float32))
    assert obs[2] + obs[3] == 24  # distances to ceiling and floor always sum to the 24 px opening


def test_unseeded_episodes_continue_the_stream() -> None:
    env = PixelcopterEnv()
    first, _ = env.reset()
    second, _ = env.reset()
    again, _ = PixelcopterEnv().reset()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(
    ("action", "momentum"),
    [(UP, (0 - 0.56) * 0.99), (NOOP, (0 + 0.0576) * 0.99)],
)
def test_action_meanings(action: int, momentum: float) -> None:
    env = PixelcopterEnv()
    assert env.get_action_meanings() == ["up", "noop"]
    env.reset()
    obs, reward, terminated, truncated, info = env.step(action)
    assert obs[1] == pytest.approx(momentum, abs=1e-6)
    assert obs[0] == pytest.approx(24 + momentum, abs=1e-5)
    assert obs[4] == pytest.approx(49 - 0.64, abs=1e-5)  # the gate block scrolls 0.64 px per frame
    assert (reward, terminated, truncated, info) == (0.0, False, False, {})


@pytest.mark.parametrize(
    ("action", "length", "episode_return"),
    [(NOOP, 20, -3.0), (UP, 4, -5.0)],  # the spec's "always do nothing" / "always up" outcomes
)
def test_constant_policies(action: int, length: int, episode_return: float) -> None:
    rewards, obs, terminated = play(gym.make(ENV_ID), lambda _: action)
    assert terminated
    assert len(rewards) == length
    assert sum(rewards) == episode_return
    assert rewards[-1] == -5.0  # death costs 5
    if action == NOOP:
        assert [i for i, r in enumerate(rewards, 1) if r == 1.0] == [10, 16]  # wall columns leaving
        assert obs[3] <= 0  # it hit the floor
    else:
        assert obs[2] - 2.4 <= 0  # it hit the ceiling (the test uses the copter's float size 2.4)


def test_wall_column_and_gate_rewards() -> None:
    actions = iter(decode_actions(UNSEEDED_FLIGHT_HEX, 80))
    env = PixelcopterEnv()
    env.reset()
    rewards = [env.step(next(actions))[1] for _ in range(80)]
    # Column k (x = 2 + 4k) leaves at the first frame with 2 + 4k - 0.64 n <= -4.
    column_frames = [math.ceil((6 + 4 * k) / 0.64) for k in range(12) if math.ceil((6 + 4 * k) / 0.64) <= 80]
    assert column_frames == [10, 16, 22, 29, 35, 41, 47, 54, 60, 66, 72, 79]
    # The gate block starts at x = 65 and is passed when x <= 16: frame ceil(49 / 0.64) = 77.
    assert [i for i, r in enumerate(rewards, 1) if r] == sorted([*column_frames, 77])
    assert set(rewards) == {0.0, 1.0}


def test_gate_respawn_and_next_gate_distance() -> None:
    actions = iter(decode_actions(UNSEEDED_FLIGHT_HEX, 80))
    env = PixelcopterEnv()
    env.reset()
    for _ in range(76):
        obs, *_ = env.step(next(actions))
    assert obs[4] == pytest.approx(49 - 76 * 0.64, abs=1e-4)
    obs, *_ = env.step(next(actions))
    # The passed block is behind the copter; the observation shows the new one, spawned at x in [48, 72).
    assert 48 - 16 - 1 <= obs[4] < 72 - 16
    assert 12 <= obs[5] < 36 and obs[6] == obs[5] + 9


def test_golden_trajectory_matches_original() -> None:
    env = PixelcopterEnv()
    env.reset(seed=GOLDEN_SEED)
    rewards = []
    for step, action in enumerate(decode_actions(GOLDEN_ACTIONS_HEX, GOLDEN_LENGTH), 1):
        obs, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        assert terminated == (step == GOLDEN_LENGTH) and not truncated
        if step in GOLDEN_OBS:
            np.testing.assert_array_equal(obs, np.array(GOLDEN_OBS[step], dtype=np.float32))
    assert sum(rewards) == GOLDEN_RETURN
    assert sum(r != 0 for r in rewards) == GOLDEN_NONZERO_REWARDS
    assert [i for i, r in enumerate(rewards, 1) if r == 2.0] == GOLDEN_DOUBLE_REWARD_STEPS
    assert rewards[-1] == -3.0  # a column and a gate (+2) in the frame it dies (-5)


def test_wall_refill_schedule() -> None:
    """New wall batches arrive at frame 222 and then every 297 frames (spec), while the env is stepped."""
    geo = _geometry(48, 48)
    assert geo.start_layout.x0 == tuple(range(2, 192, 4))  # 48 columns over 4 screen widths
    assert geo.refill_layout.x0 == tuple(range(50, 242, 4))  # and 48 more, starting off screen
    env = PixelcopterEnv()
    env.reset(seed=GOLDEN_SEED)
    refills, columns_left = [], []
    for step, action in enumerate(decode_actions(GOLDEN_ACTIONS_HEX, GOLDEN_LENGTH), 1):
        before = env._n_columns
        env.step(action)
        if env._n_columns > before:
            refills.append(step)
            columns_left.append(env._n_columns - 48)
            assert env._batches[-1].born == step and env._batches[-1].layout is geo.refill_layout
        assert env._n_columns == sum(len(batch.tys) - batch.head for batch in env._batches) > 13
    assert refills == [222, 519, 816]
    assert columns_left == [13, 13, 13]  # refilled in the frame the 13-column threshold is reached


def test_step_after_game_over() -> None:
    env = PixelcopterEnv()
    _, last_obs, terminated = play(env, lambda _: UP)
    assert terminated
    for action in (UP, NOOP):
        obs, reward, terminated, truncated, _ = env.step(action)
        np.testing.assert_array_equal(obs, last_obs)
        assert (reward, terminated, truncated) == (0.0, True, False)


def test_time_limit_truncates() -> None:
    env = gym.make(ENV_ID)
    assert env.spec is not None and env.spec.max_episode_steps == 10_000
    short = gym.make(ENV_ID, max_episode_steps=5)
    rewards, _, terminated = play(short, lambda _: NOOP)
    assert len(rewards) == 5 and not terminated


def test_registered_cap_truncates_at_step_10000(monkeypatch: pytest.MonkeyPatch) -> None:
    """The course's cap, reached for real: a copter that cannot die plays until ``gym.make``'s TimeLimit ends it."""
    env = gym.make(ENV_ID)
    game = env.unwrapped
    assert isinstance(game, PixelcopterEnv)
    real_step = game.step

    def immortal_step(action):
        obs, reward, terminated, truncated, info = real_step(action)
        if terminated:
            game._init_game()  # a fresh cave in place of the game over, within the same episode
        return obs, reward, False, truncated, info

    monkeypatch.setattr(game, "step", immortal_step)
    env.reset(seed=0)
    truncated_at = []
    for step in range(1, PIXELCOPTER_MAX_EPISODE_STEPS + 1):
        _, _, terminated, truncated, _ = env.step(step % 2)
        assert not terminated
        if truncated:
            truncated_at.append(step)
    assert truncated_at == [10_000]
    env.reset()  # a new episode starts a new count
    assert not any(env.step(NOOP)[3] for _ in range(100))


@pytest.mark.parametrize("seed", [0, 7])
def test_determinism(seed: int) -> None:
    def trajectory(env_seed: int) -> list:
        env = gym.make(ENV_ID)
        env.reset(seed=env_seed)
        actions = np.random.default_rng(99).integers(2, size=300)
        out = []
        for action in actions:
            obs, reward, terminated, truncated, _ = env.step(int(action))
            out.append((obs.tolist(), reward, terminated))
            if terminated or truncated:
                env.reset()
        return out

    assert trajectory(seed) == trajectory(seed)
    assert trajectory(seed) != trajectory(seed + 1)


@pytest.mark.parametrize("action", [2, -1, 0.0, 1.5, "up", None, np.array([0]), np.float32(1)])
def test_invalid_action_raises(action) -> None:
    env = PixelcopterEnv()
    env.reset()
    with pytest.raises(ValueError, match="invalid action") as excinfo:
        env.step(action)
    assert isinstance(excinfo.value, InvalidActionError)
    # The message states what the original did (it never treated bad actions as a no-op).
    assert "IndexError or TypeError" in str(excinfo.value) and "no-op" not in str(excinfo.value)


@pytest.mark.parametrize("action", [np.int64(0), np.int32(1), np.array(1), True])
def test_integer_like_actions_accepted(action) -> None:
    env = PixelcopterEnv()
    env.reset()
    env.step(action)


def test_render_rgb_array() -> None:
    env = gym.make(ENV_ID, render_mode="rgb_array", render_scale=1)
    env.reset()
    frame = env.render()
    assert frame.shape == (48, 48, 3) and frame.dtype == np.uint8
    colours = {tuple(c) for c in frame.reshape(-1, 3)}
    assert colours == {(0, 0, 0), (255, 255, 255), GREEN}
    # The 2 x 2 copter at x 15..16, y 23..24.
    assert (frame[23:25, 15:17] == 255).all()
    assert (np.argwhere((frame == 255).all(axis=-1)) == [[23, 15], [23, 16], [24, 15], [24, 16]]).all()
    # The column centred at x = 14 (ty = 29 here) spans x 12..15: wall above ty - 12, open, wall from ty + 14.
    assert (frame[:17, 12] == GREEN).all() and (frame[17:43, 12] == 0).all() and (frame[43:, 12] == GREEN).all()
    for _ in range(3):
        env.step(NOOP)
        frame = env.render()
        assert {tuple(c) for c in frame.reshape(-1, 3)} <= {(0, 0, 0), (255, 255, 255), GREEN}


def test_render_scale_and_kwargs() -> None:
    small = gym.make(ENV_ID, render_mode="rgb_array", render_scale=1)
    big = gym.make(ENV_ID, render_mode="rgb_array", render_scale=4)
    small.reset(seed=3)
    big.reset(seed=3)
    frame = big.render()
    assert frame.shape == (192, 192, 3)
    np.testing.assert_array_equal(frame, np.repeat(np.repeat(small.render(), 4, axis=0), 4, axis=1))

    wide = gym.make(ENV_ID, width=64, height=64, render_mode="rgb_array", render_scale=1)
    obs, _ = wide.reset()
    assert obs[0] == 32 and obs[2] + obs[3] == 32
    assert wide.render().shape == (64, 64, 3)
    with pytest.raises(ValueError):
        PixelcopterEnv(render_scale=0)


def test_default_frames_are_video_sized() -> None:
    """By default a frame is the screen upscaled 8x: what record-video and push-to-hub's replay show."""
    env = gym.make(ENV_ID, render_mode="rgb_array")
    screen = gym.make(ENV_ID, render_mode="rgb_array", render_scale=1)
    env.reset(seed=3)
    screen.reset(seed=3)
    frame = env.render()
    assert frame.shape == (384, 384, 3)
    np.testing.assert_array_equal(frame, np.repeat(np.repeat(screen.render(), 8, axis=0), 8, axis=1))


@pytest.mark.parametrize("kwargs", [{"width": 19}, {"height": 19}, {"width": 10}, {"height": 2000}, {"width": 48.0}])
def test_invalid_screen_sizes_raise(kwargs: dict) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=f"^{name} must be"):
        PixelcopterEnv(**kwargs)


def test_smallest_screen_plays_and_renders() -> None:
    """At 20 x 20 px every sprite is still at least one pixel (the copter is ``int(20 * 0.05) = 1`` px)."""
    env = PixelcopterEnv(width=20, height=20, render_mode="rgb_array")
    geo = env._geo
    assert min(geo.player_w, geo.player_h, geo.col_w, geo.block_w, geo.block_h) >= 1
    rewards, _, terminated = play(env, lambda _: NOOP, seed=0)
    assert terminated and rewards[-1] < 0
    assert (env.render() == 255).all(axis=-1).any()  # the copter is visible


def test_render_without_mode_returns_none() -> None:
    env = PixelcopterEnv()
    env.reset()
    with pytest.warns(UserWarning):
        assert env.render() is None


@pytest.mark.filterwarnings("ignore:.*Box observation space (minimum|maximum) value is")  # the original's space
def test_gymnasium_env_checker() -> None:
    gym_check_env(gym.make(ENV_ID, render_mode="rgb_array").unwrapped)


def test_sb3_env_checker() -> None:
    sb3_check_env(PixelcopterEnv(), warn=True)


def test_import_sb3_reinforce_registers_the_games() -> None:
    """What ``rl_zoo3 ... --gym-packages sb3_reinforce`` does: import the package, then ``gym.make``."""
    code = (
        "import importlib, gymnasium as gym\n"
        "importlib.import_module('sb3_reinforce')\n"
        "assert gym.make('Pixelcopter-PLE-v0').spec.max_episode_steps == 10000\n"
        "gym.make('Pong-PLE-v0', MAX_SCORE=3)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
