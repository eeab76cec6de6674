"""Tests of the native PLE Pong port against the facts stated in ``specs/pong-ple.md``.

Expected values are computed by hand from the spec, or are the measured baselines of the original
(its Appendix A), which a bit-exact port has to reproduce exactly.
"""

from __future__ import annotations

import copy
import statistics
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import EnvSpec
from gymnasium.error import DependencyNotInstalled
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from sb3_reinforce.envs import register_envs
from sb3_reinforce.envs.actions import InvalidActionError
from sb3_reinforce.envs.pong_ple import MIN_HEIGHT, MIN_WIDTH, PongPLEEnv, ball_mask

ENV_ID = "Pong-PLE-v0"
UP, DOWN, NOOP = 0, 1, 2
DT = (1000.0 / 30) / 1000.0


def play(env: gym.Env, policy, seed: int | None = None, max_steps: int = 200_000) -> tuple[list[float], np.ndarray, bool]:
    """Run one episode; return the rewards, the last observation and whether it terminated."""
    obs, _ = env.reset(seed=seed)
    rewards = []
    for step in range(max_steps):
        obs, reward, terminated, truncated, _ = env.step(policy(obs, step))
        rewards.append(reward)
        if terminated or truncated:
            return rewards, obs, terminated
    return rewards, obs, False


def tracker(obs: np.ndarray, _step: int) -> int:
    """The spec's "simple tracker": follow the ball's y with a 1 px dead band."""
    if obs[4] < obs[0] - 1:
        return UP
    return DOWN if obs[4] > obs[0] + 1 else NOOP


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
    assert spec.entry_point == "sb3_reinforce.envs.pong_ple:PongPLEEnv"
    assert spec.max_episode_steps is None  # the original has no time limit
    env = gym.make(ENV_ID)
    assert isinstance(env.unwrapped, PongPLEEnv)
    # Training stack: order enforcing kept (a clear error for step() before reset()), the env checker left out
    wrappers = {type(wrapper).__name__ for wrapper in _wrapper_chain(env)}
    assert "OrderEnforcing" in wrappers and "PassiveEnvChecker" not in wrappers
    assert "PassiveEnvChecker" in {type(w).__name__ for w in _wrapper_chain(gym.make(ENV_ID, disable_env_checker=False))}
    assert env.observation_space == gym.spaces.Box(-np.inf, np.inf, (7,), np.float32)
    assert env.action_space == gym.spaces.Discrete(3)


def test_registration_conflict_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    other = EnvSpec(id=ENV_ID, entry_point="gym_pygame.envs:PongEnv")
    monkeypatch.setitem(gym.registry, ENV_ID, other)
    with pytest.warns(UserWarning, match="already registered with entry point 'gym_pygame.envs:PongEnv'"):
        register_envs()
    assert gym.registry[ENV_ID] is other  # the other package's registration is not overridden


@pytest.mark.parametrize("entry_point", ["sb3_reinforce.envs.pong_ple:PongPLEEnv", PongPLEEnv])
def test_registration_of_the_same_entry_point_is_silent(monkeypatch: pytest.MonkeyPatch, entry_point) -> None:
    monkeypatch.setitem(gym.registry, ENV_ID, EnvSpec(id=ENV_ID, entry_point=entry_point))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        register_envs()


def test_first_observation_unseeded() -> None:
    obs, info = gym.make(ENV_ID).reset()
    assert obs.dtype == np.float32 and obs.shape == (7,)
    np.testing.assert_array_equal(obs, np.array([24, 0, 24, 32, 24, 36, 7.182433798184739], dtype=np.float32))
    assert info == {}


@pytest.mark.parametrize(
    ("seed", "direction", "vy0"),
    [(0, 1, 7.7468171894071), (1, -1, 7.931681763917691), (42, -1, 16.22571503075698)],
)
def test_first_observation_seeded(seed: int, direction: int, vy0: float) -> None:
    obs, _ = PongPLEEnv().reset(seed=seed)
    np.testing.assert_array_equal(obs, np.array([24, 0, 24, 32, 24, 36 * direction, vy0], dtype=np.float32))


@pytest.mark.parametrize("seed", [3, 1234, 2**32 - 1])
def test_first_observation_from_draws(seed: int) -> None:
    u1, u2 = np.random.RandomState(seed).random_sample(2)  # two draws at reset: direction, then vy
    obs, _ = PongPLEEnv().reset(seed=seed)
    expected = [24, 0, 24, 32, 24, 36.0 if u1 > 0.5 else -36.0, u2 * 36.0 - 18.0]
    np.testing.assert_array_equal(obs, np.array(expected, dtype=np.float32))


def test_unseeded_resets_continue_the_stream() -> None:
    env = PongPLEEnv()
    env.reset()
    second, _ = env.reset()
    draws = np.random.RandomState(24).random_sample(4)  # episode 2 uses draws 3 and 4 of RandomState(24)
    expected = [24, 0, 24, 32, 24, 36.0 if draws[2] > 0.5 else -36.0, draws[3] * 36.0 - 18.0]
    np.testing.assert_array_equal(second, np.array(expected, dtype=np.float32))


@pytest.mark.parametrize(
    ("action", "velocity"),
    [(UP, -19.200000000000003 * DT * 0.9), (DOWN, 19.200000000000003 * DT * 0.9), (NOOP, 0.0)],
)
def test_action_meanings(action: int, velocity: float) -> None:
    env = PongPLEEnv()
    assert env.get_action_meanings() == ["up", "down", "noop"]
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)
    assert obs[1] == pytest.approx(velocity)  # +-0.576 px/frame after one frame of acceleration
    assert obs[0] == pytest.approx(24 + velocity)
    assert obs[3] == pytest.approx(32 + 36 * DT)  # the ball moves 1.2 px per frame
    assert (reward, terminated, truncated, info) == (0.0, False, False, {})
    # The action acts on that frame only: the velocity then decays by 0.9 per frame.
    obs, *_ = env.step(NOOP)
    assert obs[1] == pytest.approx(velocity * 0.9)


@pytest.mark.parametrize(
    ("seed", "cpu_y"),
    # seed 0 serves towards the CPU, which tracks at 0.6 * 48 px/s (ties go down); seed 1 serves
    # away from it and the CPU drifts at a quarter of that speed (at y == 24 it drifts down).
    [(0, 24 + 28.799999999999997 * DT), (1, 24 + 28.799999999999997 / 4 * DT)],
)
def test_cpu_paddle_speed(seed: int, cpu_y: float) -> None:
    env = PongPLEEnv()
    env.reset(seed=seed)
    obs, *_ = env.step(NOOP)
    assert obs[2] == pytest.approx(cpu_y)


def test_paddle_hit_and_spin() -> None:
    env = PongPLEEnv()
    env.reset(seed=0)
    # Put the ball just right of the agent's paddle line (x = 4.5), flying left, the paddle moving down.
    env._bx = env._qx = 5.5
    env._by = env._qy = 24.0
    env._bvx, env._bvy = -36.0, 0.0
    env._av = 0.5
    noise_draw = copy.deepcopy(env._rng).random_sample()
    obs, *_ = env.step(NOOP)
    assert obs[3] == pytest.approx(5.5 - 1.2 + 1)  # pushed out by the radius
    assert obs[5] == pytest.approx(34.2)  # -(vx + 1.8): the agent's return is slower than the serve
    assert obs[6] == pytest.approx(0.5 * 2.0 + noise_draw * 0.001 - 0.0005, abs=1e-6)  # spin + one noise draw


def test_wall_bounce() -> None:
    env = PongPLEEnv()
    env.reset(seed=0)
    env._by, env._bvy = 1.5, -30.0
    obs, *_ = env.step(NOOP)
    # y = 1.5 - 1.0 = 0.5 touches the top (y - radius <= 0): vy *= -0.99 and y nudged down by 1 px.
    assert obs[4] == pytest.approx(1.5) and obs[6] == pytest.approx(29.7)


@pytest.mark.parametrize(
    ("policy", "mean", "std", "lengths"),
    [
        ("random", 465, 130, (297, 434, 810)),
        ("noop", 515, 235, (297, 485, 1902)),
        ("up", 378, 65, (297, 391, 578)),
    ],
)
def test_constant_and_random_policy_baselines(policy: str, mean: int, std: int, lengths: tuple[int, int, int]) -> None:
    """The spec's Appendix A, measured on the original: 100 episodes, ``reset(seed=i)``."""
    env = PongPLEEnv()
    episode_lengths, returns = [], []
    for i in range(100):
        if policy == "random":
            actions = np.random.RandomState(10000 + i)
            rewards, _, terminated = play(env, lambda _o, _s, a=actions: int(a.randint(3)), seed=i)
        else:
            rewards, _, terminated = play(env, lambda _o, _s: UP if policy == "up" else NOOP, seed=i)
        assert terminated
        episode_lengths.append(len(rewards))
        returns.append(sum(rewards))
    assert set(returns) == {-16.0}
    assert round(statistics.fmean(episode_lengths)) == mean
    assert round(statistics.pstdev(episode_lengths)) == std
    assert (min(episode_lengths), statistics.median(episode_lengths), max(episode_lengths)) == lengths


def test_loss_rewards_and_serve_direction() -> None:
    env = PongPLEEnv()
    env.reset(seed=1)
    rewards = []
    while True:
        obs, reward, terminated, _, _ = env.step(NOOP)
        rewards.append(reward)
        if reward:
            assert obs[3] == 32 and obs[5] == -36  # the new serve goes to the side that conceded
            assert -18 <= obs[6] < 18
        if terminated:
            break
    assert [r for r in rewards if r] == [-1.0] * 10 + [-6.0]  # -1 per point, -5 more on the 11th
    assert len(rewards) >= 11 * 27  # a serve needs 27 frames to reach x <= 0


def test_win_rewards() -> None:
    rewards, _, terminated = play(PongPLEEnv(), tracker, seed=0)
    assert terminated
    points = [r for r in rewards if r]
    assert rewards[-1] == 6.0  # +1 for the point, +5 for the win
    assert points.count(1.0) == 10 and set(points) <= {1.0, -1.0, 6.0}


def test_max_score_kwarg() -> None:
    rewards, _, terminated = play(gym.make(ENV_ID, MAX_SCORE=3), lambda _o, _s: NOOP, seed=5)
    assert terminated
    assert [r for r in rewards if r] == [-1.0, -1.0, -6.0]


def test_step_after_game_over() -> None:
    env = PongPLEEnv(MAX_SCORE=1)
    rewards, last_obs, terminated = play(env, lambda _o, _s: NOOP, seed=0)
    assert terminated and rewards[-1] == -6.0
    obs, reward, terminated, truncated, _ = env.step(UP)
    np.testing.assert_array_equal(obs, last_obs)
    assert (reward, terminated, truncated) == (0.0, True, False)


@pytest.mark.parametrize("seed", [0, 11])
def test_determinism(seed: int) -> None:
    def trajectory(env_seed: int) -> list:
        env = gym.make(ENV_ID)
        env.reset(seed=env_seed)
        out = []
        for action in np.random.default_rng(5).integers(3, size=1500):
            obs, reward, terminated, truncated, _ = env.step(int(action))
            out.append((obs.tolist(), reward, terminated))
            if terminated or truncated:
                env.reset()
        return out

    assert trajectory(seed) == trajectory(seed)
    assert trajectory(seed) != trajectory(seed + 1)


@pytest.mark.parametrize("action", [3, -1, 2.0, "up", None, np.array([1]), np.float64(0)])
def test_invalid_action_raises(action) -> None:
    env = PongPLEEnv()
    env.reset()
    with pytest.raises(ValueError, match="invalid action") as excinfo:
        env.step(action)
    assert isinstance(excinfo.value, InvalidActionError)
    # The message states what the original did (it never treated bad actions as a no-op).
    assert "IndexError or TypeError" in str(excinfo.value) and "no-op" not in str(excinfo.value)


def test_action_space_sampling() -> None:
    space = gym.make(ENV_ID).action_space
    assert isinstance(space, gym.spaces.Discrete) and space == gym.spaces.Discrete(3)
    space.seed(3)
    first = [space.sample() for _ in range(3000)]
    space.seed(3)
    assert [space.sample() for _ in range(3000)] == first  # reseeding restarts the sequence
    assert all(isinstance(a, np.int64) and space.contains(a) for a in first)
    counts = np.bincount(first, minlength=3)
    assert counts.min() > 900  # uniform over the 3 actions
    assert space.sample(mask=np.array([0, 0, 1], dtype=np.int8)) == 2


def test_render_rgb_array() -> None:
    env = gym.make(ENV_ID, render_mode="rgb_array", render_scale=1)
    env.reset(seed=1)
    frame = env.render()
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    white = (frame == 255).all(axis=-1)
    assert ((frame == 0).all(axis=-1) | white).all()  # black and white only
    # Paddles: 1 x 7 at x = 4 and x = 60, rows round(24) - 3 .. + 6; ball: 2 x 2 at x 31..32, y 23..24.
    expected = np.zeros((48, 64), dtype=bool)
    expected[21:28, 4] = expected[21:28, 60] = True
    expected[23:25, 31:33] = True
    np.testing.assert_array_equal(white, expected)

    # In the frame the CPU scores, the ball is drawn where it left the field, not at the new serve.
    while True:
        _, reward, *_ = env.step(NOOP)
        if reward:
            break
    white = (env.render() == 255).all(axis=-1)
    assert white[:, :2].any() and not white[:, 30:34].any()


def test_default_frames_are_video_sized() -> None:
    """By default a frame is the screen upscaled 8x: what record-video and push-to-hub's replay show."""
    env = gym.make(ENV_ID, render_mode="rgb_array")
    screen = gym.make(ENV_ID, render_mode="rgb_array", render_scale=1)
    env.reset(seed=2)
    screen.reset(seed=2)
    frame = env.render()
    assert frame.shape == (384, 512, 3)
    np.testing.assert_array_equal(frame, np.repeat(np.repeat(screen.render(), 8, axis=0), 8, axis=1))


def test_render_scale_and_size_kwargs() -> None:
    small = gym.make(ENV_ID, render_mode="rgb_array", render_scale=1)
    big = gym.make(ENV_ID, render_mode="rgb_array", render_scale=3)
    small.reset(seed=2)
    big.reset(seed=2)
    for _ in range(10):
        small.step(UP)
        big.step(UP)
    assert big.render().shape == (144, 192, 3)
    np.testing.assert_array_equal(big.render(), np.repeat(np.repeat(small.render(), 3, axis=0), 3, axis=1))

    large = gym.make(ENV_ID, width=128, height=96, render_mode="rgb_array", render_scale=1)
    obs, _ = large.reset()
    assert obs[0] == 48 and obs[3] == 64
    assert large.render().shape == (96, 128, 3)
    with pytest.raises(ValueError):
        PongPLEEnv(height=8)


def pygame_ball(radius: int) -> np.ndarray:
    """What the original draws as its ball image: ``pygame.draw.circle`` on a black ``2r x 2r`` surface."""
    pygame = pytest.importorskip("pygame", reason="pygame is not installed (optional: the human extra)")
    image = pygame.Surface((2 * radius, 2 * radius))
    pygame.draw.circle(image, (255, 255, 255), (radius, radius), radius, 0)
    return pygame.surfarray.array3d(image)[:, :, 0].T > 0


def pygame_frame(env: PongPLEEnv) -> np.ndarray:
    """The original's drawing of the current state: black screen, two paddle images, the ball image."""
    pygame = pytest.importorskip("pygame", reason="pygame is not installed (optional: the human extra)")
    screen = pygame.Surface((env.width, env.height))
    paddle = pygame.Surface((env._paddle_w, env._paddle_h))
    paddle.fill((255, 255, 255))
    ball = pygame.Surface((2 * env._radius, 2 * env._radius))
    pygame.draw.circle(ball, (255, 255, 255), (env._radius, env._radius), env._radius, 0)
    for image, centre in ((paddle, (env._agent_x, env._ay)), (paddle, (env._cpu_x, env._cy)), (ball, (env._bx, env._by))):
        rect = image.get_rect()
        rect.center = centre
        screen.blit(image, rect)
    return np.transpose(pygame.surfarray.array3d(screen), (1, 0, 2))


@pytest.mark.parametrize("radius", range(1, 9))
def test_ball_matches_pygame_circle(radius: int) -> None:
    np.testing.assert_array_equal(ball_mask(radius), pygame_ball(radius))


def test_ball_matches_pygame_for_every_allowed_height() -> None:
    radii = sorted({PongPLEEnv(height=height)._radius for height in range(MIN_HEIGHT, 2000, 7)} | {60})
    assert radii[0] == 1 and radii[-1] == round(1999 * 0.03) == 60
    for radius in radii:
        np.testing.assert_array_equal(ball_mask(radius), pygame_ball(radius), err_msg=f"radius {radius}")


@pytest.mark.parametrize(
    ("height", "ball"),
    # 100 and 200 give radii 3 and 6, where a plain disc would be too fat; the last two are cut by the edges.
    [(48, (31.5, 24.4)), (100, (40.2, 50.5)), (200, (33.7, 99.5)), (200, (2.4, 197.6)), (160, (62.5, 1.0))],
)
def test_rendered_frame_matches_pygame(height: int, ball: tuple[float, float]) -> None:
    env = PongPLEEnv(height=height, render_mode="rgb_array", render_scale=1)
    env.reset(seed=0)
    for _ in range(3):
        env.step(UP)
    env._bx, env._by = ball
    np.testing.assert_array_equal(env.render(), pygame_frame(env))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"width": MIN_WIDTH - 1}, "width"),  # round(0.023 * 21) = 0: no paddle
        ({"height": MIN_HEIGHT - 1}, "height"),  # round(0.03 * 16) = 0: no ball
        ({"width": 2000}, "width"),
        ({"height": 48.0}, "height"),
        ({"MAX_SCORE": 0}, "MAX_SCORE"),
        ({"MAX_SCORE": -3}, "MAX_SCORE"),
        ({"MAX_SCORE": 2.5}, "MAX_SCORE"),
        ({"MAX_SCORE": True}, "MAX_SCORE"),
        ({"cpu_speed_ratio": 0}, "cpu_speed_ratio"),
        ({"cpu_speed_ratio": -0.6}, "cpu_speed_ratio"),
        ({"players_speed_ratio": float("nan")}, "players_speed_ratio"),
        ({"players_speed_ratio": "0.4"}, "players_speed_ratio"),
        ({"ball_speed_ratio": float("inf")}, "ball_speed_ratio"),
        ({"ball_speed_ratio": 0.0}, "ball_speed_ratio"),
    ],
)
def test_invalid_constructor_values_raise(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        PongPLEEnv(**kwargs)
    with pytest.raises(ValueError, match=f"^{name} must be"):
        gym.make(ENV_ID, **kwargs)


def test_speed_ratio_setters_validate() -> None:
    env = PongPLEEnv()
    env.cpu_speed_ratio = 0.5
    assert env.cpu_speed_ratio == 0.5
    for name in ("cpu_speed_ratio", "players_speed_ratio", "ball_speed_ratio"):
        with pytest.raises(ValueError, match=f"^{name} must be"):
            setattr(env, name, 0.0)
    assert env.cpu_speed_ratio == 0.5


def test_smallest_screen_plays_and_renders() -> None:
    env = PongPLEEnv(width=MIN_WIDTH, height=MIN_HEIGHT, MAX_SCORE=np.int64(2), render_mode="rgb_array")
    assert (env._paddle_w, env._radius) == (1, 1)
    rewards, _, terminated = play(env, lambda _o, _s: NOOP, seed=0)
    assert terminated and [r for r in rewards if r] == [-1.0, -6.0]
    assert (env.render() == 255).any()


def test_human_mode_needs_pygame(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pygame", None)  # makes `import pygame` fail
    env = PongPLEEnv(render_mode="human")
    with pytest.raises(DependencyNotInstalled, match="pygame"):
        env.reset()


def test_human_mode_with_pygame(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pygame", reason="pygame is not installed (optional: the human extra)")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = PongPLEEnv(render_mode="human")
    env.metadata = {**env.metadata, "render_fps": 10_000}
    env.reset(seed=0)
    env.step(UP)
    env.close()


def test_no_pygame_needed() -> None:
    """Both games step and render to arrays in a process where ``import pygame`` fails."""
    code = (
        "import sys; sys.modules['pygame'] = None\n"
        "import gymnasium as gym, sb3_reinforce.envs as envs\n"
        "envs.register_envs()\n"
        "for env_id in ('Pong-PLE-v0', 'Pixelcopter-PLE-v0'):\n"
        "    env = gym.make(env_id, render_mode='rgb_array')\n"
        "    env.reset(seed=0)\n"
        "    for _ in range(50):\n"
        "        if env.step(env.action_space.sample())[2]:\n"
        "            env.reset()\n"
        "    assert env.render().ndim == 3\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.filterwarnings("ignore:.*Box observation space (minimum|maximum) value is")  # the original's space
def test_gymnasium_env_checker() -> None:
    gym_check_env(gym.make(ENV_ID, render_mode="rgb_array").unwrapped)


def test_sb3_env_checker() -> None:
    sb3_check_env(PongPLEEnv(), warn=True)
