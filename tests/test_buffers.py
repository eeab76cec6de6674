import numpy as np
import pytest
import torch as th
from gymnasium import spaces

from sb3_reinforce.common.buffers import (
    DictEpisodicRolloutBuffer,
    EpisodeTooLongError,
    EpisodicRolloutBuffer,
    discounted_returns,
)

OBS_SPACE = spaces.Box(-np.inf, np.inf, (1,), np.float32)
ACTION_SPACE = spaces.Discrete(3)


def make_buffer(n_envs: int, gamma: float, **kwargs) -> EpisodicRolloutBuffer:
    return EpisodicRolloutBuffer(OBS_SPACE, ACTION_SPACE, device="cpu", gamma=gamma, n_envs=n_envs, **kwargs)


def add_steps(buffer: EpisodicRolloutBuffer, rewards: list[list[float]], dones: list[list[bool]], first_id: int = 0) -> None:
    """Add steps whose observation is a unique id (first_id, first_id + 1, ...) so transitions can be traced."""
    n_envs = buffer.n_envs
    for t, (reward, done) in enumerate(zip(rewards, dones, strict=True)):
        ids = first_id + t * n_envs + np.arange(n_envs)
        buffer.add(ids.reshape(n_envs, 1).astype(np.float32), ids.reshape(n_envs, 1) % 3, np.array(reward), np.array(done))


@pytest.mark.parametrize(
    ("rewards", "ends", "gamma", "expected"),
    [
        ([1.0, 1.0, 1.0], [False, False, True], 1.0, [3.0, 2.0, 1.0]),
        ([1.0, 2.0, 4.0], [False, False, True], 0.5, [1 + 0.5 * 2 + 0.25 * 4, 2 + 0.5 * 4, 4.0]),
        ([1.0, 2.0, 4.0], [False, True, True], 0.5, [2.0, 2.0, 4.0]),
        ([1.0, 2.0, 4.0], [True, True, True], 0.9, [1.0, 2.0, 4.0]),
        ([3.0, -1.0], [False, True], 0.0, [3.0, -1.0]),
    ],
)
def test_discounted_returns(rewards, ends, gamma, expected):
    returns = discounted_returns(np.array(rewards), np.array(ends), gamma)
    np.testing.assert_allclose(returns, expected)


def test_discounted_returns_needs_complete_episodes():
    with pytest.raises(ValueError, match="complete episodes"):
        discounted_returns(np.ones(3), np.array([False, True, False]), 0.9)


def test_returns_per_env_with_different_episode_lengths():
    # env 0: episodes of length 2 then 1; env 1: one episode of length 3. gamma = 0.5.
    buffer = make_buffer(n_envs=2, gamma=0.5)
    add_steps(buffer, rewards=[[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]], dones=[[False, False], [True, False], [True, True]])
    assert buffer.is_ready(min_transitions=6, min_episodes=3)
    assert not buffer.is_ready(min_transitions=7, min_episodes=1)
    buffer.finalize()

    # Observation ids: step t of env e has id 2 t + e. The batch is env-major.
    np.testing.assert_array_equal(buffer.observations.flatten(), [0, 2, 4, 1, 3, 5])
    np.testing.assert_allclose(buffer.returns, [1 + 0.5 * 2, 2, 4, 10 + 0.5 * 20 + 0.25 * 40, 20 + 0.5 * 40, 40])
    np.testing.assert_array_equal(buffer.actions.flatten(), np.array([0, 2, 4, 1, 3, 5]) % 3)
    assert buffer.n_batch_episodes == 3
    assert buffer.size() == 6
    assert buffer.n_unfinished_transitions == 0


def test_running_episodes_are_carried_to_the_next_rollout():
    buffer = make_buffer(n_envs=2, gamma=0.5)
    # env 0 ends an episode at step 1 and starts another; env 1 runs on.
    add_steps(buffer, rewards=[[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]], dones=[[False, False], [True, False], [False, False]])
    buffer.finalize()
    np.testing.assert_array_equal(buffer.observations.flatten(), [0, 2])
    np.testing.assert_allclose(buffer.returns, [1.5, 1.0])
    assert buffer.n_unfinished_transitions == 4  # env 0: 1 step, env 1: 3 steps
    assert buffer.n_batch_carried == 0

    buffer.reset()
    add_steps(buffer, rewards=[[2.0, 2.0], [8.0, 8.0]], dones=[[True, False], [False, True]], first_id=100)
    buffer.finalize()
    # env 0: the carried step (id 4, r=1) then id 100 (r=2, end). env 1: ids 1, 3, 5 (r=1), 101 (r=2), 103 (r=8, end).
    np.testing.assert_array_equal(buffer.observations.flatten(), [4, 100, 1, 3, 5, 101, 103])
    env1 = [1 + 0.5 * (1 + 0.5 * (1 + 0.5 * (2 + 0.5 * 8))), 1 + 0.5 * (1 + 0.5 * (2 + 0.5 * 8)), 1 + 0.5 * (2 + 0.5 * 8)]
    np.testing.assert_allclose(buffer.returns, [1 + 0.5 * 2, 2.0, *env1, 2 + 0.5 * 8, 8.0])
    assert buffer.n_unfinished_transitions == 1  # env 0 started a new episode at id 102
    assert buffer.n_batch_carried == 4  # ids 4, 1, 3, 5 were collected during the first rollout


def test_an_episode_spanning_three_rollouts():
    buffer = make_buffer(n_envs=2, gamma=1.0)
    # env 1 runs through the first two rollouts without ending; env 0 ends an episode in each.
    add_steps(buffer, rewards=[[1.0, 1.0]], dones=[[True, False]])
    buffer.finalize()
    buffer.reset()
    add_steps(buffer, rewards=[[2.0, 2.0]], dones=[[True, False]], first_id=10)
    buffer.finalize()
    np.testing.assert_array_equal(buffer.observations.flatten(), [10])
    assert buffer.n_unfinished_transitions == 2
    buffer.reset()
    add_steps(buffer, rewards=[[3.0, 3.0], [4.0, 4.0]], dones=[[False, True], [True, False]], first_id=20)
    buffer.finalize()
    # env 0: ids 20, 22 (one episode); env 1: ids 1, 11 (carried), 21 (end); env 1's id 23 is carried on.
    np.testing.assert_array_equal(buffer.observations.flatten(), [20, 22, 1, 11, 21])
    np.testing.assert_array_equal(buffer.actions.flatten(), np.array([20, 22, 1, 11, 21]) % 3)
    np.testing.assert_allclose(buffer.returns, [7.0, 4.0, 6.0, 5.0, 3.0])
    assert buffer.n_batch_carried == 2
    assert buffer.n_unfinished_transitions == 1


def test_truncation_ends_the_episode_without_bootstrap():
    # A time-limit truncation arrives as done=True: the return is the rewards up to it, nothing more.
    buffer = make_buffer(n_envs=1, gamma=0.99)
    add_steps(buffer, rewards=[[1.0]] * 3, dones=[[False], [False], [True]])
    buffer.finalize()
    np.testing.assert_allclose(buffer.returns, [1 + 0.99 + 0.99**2, 1 + 0.99, 1.0], rtol=1e-6)


def test_reset_discards_unfinished_episodes_only_when_asked():
    buffer = make_buffer(n_envs=1, gamma=1.0)
    add_steps(buffer, rewards=[[1.0]] * 2, dones=[[True], [False]])
    buffer.finalize()
    buffer.reset()
    assert buffer.size() == 0 and buffer.n_unfinished_transitions == 1
    buffer.reset(discard_unfinished=True)
    add_steps(buffer, rewards=[[5.0]], dones=[[True]])
    buffer.finalize()
    np.testing.assert_allclose(buffer.returns, [5.0])


def test_episode_longer_than_cap_raises():
    buffer = make_buffer(n_envs=2, gamma=1.0, max_episode_length=3)
    add_steps(buffer, rewards=[[0.0, 0.0]] * 3, dones=[[False, True], [False, False], [False, False]])
    with pytest.raises(EpisodeTooLongError, match=r"env 0 .*max_episode_length=3.*TimeLimit"):
        add_steps(buffer, rewards=[[0.0, 0.0]], dones=[[False, False]])


@pytest.mark.parametrize("batch_size", [None, 1, 4, 100])
def test_get_covers_every_transition_once(batch_size):
    buffer = make_buffer(n_envs=3, gamma=0.9)
    add_steps(buffer, rewards=[[1.0, 2.0, 3.0]] * 3, dones=[[False] * 3, [True, False, False], [True, True, True]])
    buffer.finalize()
    batches = list(buffer.get(batch_size))
    observations = th.cat([batch.observations for batch in batches]).flatten().tolist()
    assert sorted(observations) == list(range(9))
    assert all(len(batch.returns) <= (batch_size or 9) for batch in batches)
    # Each sample keeps its own return.
    lookup = dict(zip(buffer.observations.flatten().tolist(), buffer.returns.tolist(), strict=True))
    for batch in batches:
        for obs, ret in zip(batch.observations.flatten().tolist(), batch.returns.tolist(), strict=True):
            assert ret == pytest.approx(lookup[obs])


def test_get_on_empty_buffer_raises():
    buffer = make_buffer(n_envs=1, gamma=0.9)
    with pytest.raises(RuntimeError, match="no complete episode"):
        next(buffer.get())


def test_buffer_copies_observations():
    buffer = make_buffer(n_envs=1, gamma=1.0)
    obs = np.zeros((1, 1), dtype=np.float32)
    buffer.add(obs, np.zeros((1, 1)), np.ones(1), np.array([False]))
    obs[:] = 7.0  # a VecEnv may reuse its observation array
    buffer.add(obs, np.zeros((1, 1)), np.ones(1), np.array([True]))
    buffer.finalize()
    np.testing.assert_array_equal(buffer.observations.flatten(), [0.0, 7.0])


def test_dict_buffer():
    obs_space = spaces.Dict({"vec": spaces.Box(-1, 1, (2,), np.float32), "img": spaces.Box(0, 255, (2, 2, 1), np.uint8)})
    buffer = DictEpisodicRolloutBuffer(obs_space, spaces.Box(-1, 1, (2,)), device="cpu", gamma=0.5, n_envs=2)
    for t in range(3):
        obs = {
            "vec": np.full((2, 2), t, dtype=np.float32),
            "img": np.full((2, 2, 2, 1), 10 * t + np.arange(2)[:, None, None, None]),
        }
        buffer.add(obs, np.zeros((2, 2)), np.array([1.0, 2.0]), np.array([t == 2, t == 1]))
    buffer.finalize()
    # env 0: steps 0..2 (one episode); env 1: steps 0..1 (one episode); env 1's step 2 is carried.
    np.testing.assert_array_equal(buffer.observations["vec"][:, 0], [0, 1, 2, 0, 1])
    np.testing.assert_array_equal(buffer.observations["img"][:, 0, 0, 0], [0, 10, 20, 1, 11])
    assert buffer.observations["img"].dtype == np.uint8
    np.testing.assert_allclose(buffer.returns, [1.75, 1.5, 1.0, 3.0, 2.0])
    batch = next(buffer.get())
    assert set(batch.observations) == {"vec", "img"}
    assert batch.observations["img"].shape == (5, 2, 2, 1)
    with pytest.raises(ValueError, match=r"spaces\.Dict"):
        DictEpisodicRolloutBuffer(OBS_SPACE, ACTION_SPACE)  # type: ignore[arg-type]


def test_values_kept_for_this_batch_only():
    # Values recorded in a rollout belong to the weights of the coming update: an episode carried past that update
    # gets NaN (recomputed by the algorithm) for its earlier steps; steps added without values get NaN too.
    buffer = make_buffer(n_envs=2, gamma=1.0)
    for t, done in enumerate([[False, False], [True, False]]):
        buffer.add(np.zeros((2, 1)), np.zeros((2, 1)), np.ones(2), np.array(done), value=np.array([t, 10 + t]))
    buffer.finalize()  # env 0's episode (2 steps) is in the batch; env 1's 2 steps are carried
    np.testing.assert_array_equal(buffer.values, [0.0, 1.0])
    buffer.reset()
    buffer.add(np.zeros((2, 1)), np.zeros((2, 1)), np.ones(2), np.array([False, True]), value=np.array([2.0, 12.0]))
    buffer.add(np.zeros((2, 1)), np.zeros((2, 1)), np.ones(2), np.array([True, False]))
    buffer.finalize()
    # env 0: a new episode, values [2, nan]; env 1: carried steps (nan, nan), then step 12.
    np.testing.assert_array_equal(buffer.values, [2.0, np.nan, np.nan, np.nan, 12.0])
    batch = next(buffer.get())
    assert batch.values.shape == (5,) and th.isnan(batch.values).sum() == 3
