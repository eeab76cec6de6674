"""Full-episode Monte Carlo rollout buffers for REINFORCE.

A rollout here is a set of *complete* episodes. Transitions are appended step by step for every env of a
VecEnv; when the algorithm asks for a batch (:meth:`EpisodicRolloutBuffer.finalize`), every episode that has
ended is moved into the batch with its discounted reward-to-go, and every episode still running stays
in the buffer (its "tail") and is completed during the next rollout.

Returns are pure Monte Carlo: ``G_t = r_t + gamma * r_{t+1} + ... + gamma^(T-t) * r_T`` where ``T`` is the
last step of the same episode of the same env. Nothing is bootstrapped from a value function, neither
at a time-limit truncation nor at the end of a rollout, and nothing leaks across episodes or envs.
"""

from collections.abc import Generator
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import BaseBuffer
from stable_baselines3.common.type_aliases import TensorDict

ObsArray = np.ndarray | dict[str, np.ndarray]


class EpisodicRolloutBufferSamples(NamedTuple):
    observations: th.Tensor
    actions: th.Tensor
    returns: th.Tensor
    # Value estimates made during the rollout with the weights of this update; NaN where there is none
    # (not recorded, or recorded before the previous update, for an episode carried over from an earlier rollout).
    values: th.Tensor


class DictEpisodicRolloutBufferSamples(NamedTuple):
    observations: TensorDict
    actions: th.Tensor
    returns: th.Tensor
    values: th.Tensor


class EpisodeTooLongError(RuntimeError):
    """An episode ran past ``max_episode_length`` transitions without terminating or being truncated."""


def discounted_returns(rewards: np.ndarray, episode_ends: np.ndarray, gamma: float) -> np.ndarray:
    """
    Discounted reward-to-go inside each episode of a sequence of complete episodes.

    :param rewards: Rewards of consecutive steps, shape ``(n,)``
    :param episode_ends: Booleans, ``True`` at the last step of each episode; the last entry must be ``True``
    :param gamma: Discount factor
    :return: ``G_t`` for every step, float64, shape ``(n,)``
    """
    n = len(rewards)
    if n > 0 and not episode_ends[-1]:
        raise ValueError("discounted_returns() needs complete episodes: the last step must end an episode")
    returns = np.empty(n, dtype=np.float64)
    running = 0.0
    # Plain floats: a Python loop over numpy scalars would be several times slower.
    reward_list = rewards.tolist()
    end_list = episode_ends.tolist()
    for t in range(n - 1, -1, -1):
        if end_list[t]:
            running = 0.0
        running = reward_list[t] + gamma * running
        returns[t] = running
    return returns


class EpisodicRolloutBuffer(BaseBuffer):
    """
    Rollout buffer that holds complete episodes of every env of a VecEnv and their Monte Carlo returns.

    Episodes of different envs may have different lengths. Truncated episodes (time limit) count as ended:
    their return is the discounted sum of the rewards received up to the truncation (no bootstrap).

    :param observation_space: Observation space
    :param action_space: Action space
    :param device: PyTorch device to which the samples are sent
    :param gamma: Discount factor
    :param n_envs: Number of parallel environments
    :param max_episode_length: Largest number of transitions one episode may have in the buffer; an episode
        that runs longer raises :class:`EpisodeTooLongError` (this bounds memory for envs that never end).
    """

    observations: np.ndarray
    actions: np.ndarray
    returns: np.ndarray
    values: np.ndarray

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        gamma: float = 0.99,
        n_envs: int = 1,
        max_episode_length: int = 100_000,
    ):
        super().__init__(max_episode_length, observation_space, action_space, device, n_envs=n_envs)
        if max_episode_length < 1:
            raise ValueError(f"max_episode_length must be a positive integer, got {max_episode_length}")
        self.gamma = gamma
        self.max_episode_length = max_episode_length
        self.reset(discard_unfinished=True)

    def reset(self, discard_unfinished: bool = False) -> None:
        """
        Drop the last finalized batch.

        :param discard_unfinished: Also drop the steps of the episodes still running (needed when the envs
            are reset, since those episodes will never be completed)
        """
        super().reset()
        self.observations = self._empty_obs()  # type: ignore[assignment]
        self.actions = np.zeros((0, self.action_dim), dtype=np.float32)
        self.returns = np.zeros(0, dtype=np.float32)
        self.values = np.zeros(0, dtype=np.float32)
        self.n_batch_episodes = 0
        # Transitions of the batch collected during earlier rollouts (episodes that spanned an update): the
        # off-policy share that finishing running episodes instead of dropping them costs.
        self.n_batch_carried = 0
        if discard_unfinished:
            self._step_obs: list[ObsArray] = []
            self._step_actions: list[np.ndarray] = []
            self._step_rewards: list[np.ndarray] = []
            self._step_dones: list[np.ndarray] = []
            self._step_values: list[np.ndarray | None] = []
            # Per env, the steps of its running episode that were collected before the last finalize().
            self._tails: list[dict[str, Any]] = [self._empty_tail() for _ in range(self.n_envs)]
            self._episode_lengths = np.zeros(self.n_envs, dtype=np.int64)
            self._longest_running = 0
            self.n_complete_episodes = 0
            self.n_complete_transitions = 0

    def add(
        self, obs: ObsArray, action: np.ndarray, reward: np.ndarray, done: np.ndarray, value: np.ndarray | None = None
    ) -> None:
        """
        Append one step of every env.

        :param obs: Observations the actions were taken in, shape ``(n_envs, *obs_shape)``
        :param action: Actions, shape ``(n_envs, action_dim)``
        :param reward: Rewards, shape ``(n_envs,)``
        :param done: Whether the step ended the env's episode (terminated or truncated), shape ``(n_envs,)``
        :param value: Optional value estimates of ``obs`` by the current weights, shape ``(n_envs,)``: kept for the
            batch of the next :meth:`finalize` only (an episode carried past it gets NaN for these steps, since the
            update that follows changes the weights)
        """
        # VecEnv wrappers may hand out the same array object at every step: keep our own copy.
        self._step_obs.append(self._copy_obs(obs))
        self._step_actions.append(np.array(action, dtype=np.float32).reshape(self.n_envs, self.action_dim))
        self._step_rewards.append(np.array(reward, dtype=np.float64).reshape(self.n_envs))
        done = np.array(done, dtype=bool).reshape(self.n_envs)
        self._step_dones.append(done)
        self._step_values.append(None if value is None else np.array(value, dtype=np.float32).reshape(self.n_envs))

        self._episode_lengths += 1
        if done.any():
            self.n_complete_episodes += int(done.sum())
            self.n_complete_transitions += int(self._episode_lengths[done].sum())
            self._episode_lengths[done] = 0
            self._longest_running = int(self._episode_lengths.max())
        else:
            # Every running episode grew by one step: so did the longest (this runs at every env step, a max would not).
            self._longest_running += 1
        if self._longest_running > self.max_episode_length:
            env_idx = int(self._episode_lengths.argmax())
            raise EpisodeTooLongError(
                f"The episode of env {env_idx} has run {self._episode_lengths[env_idx]} steps without ending, more than "
                f"max_episode_length={self.max_episode_length}. REINFORCE learns from complete episodes only: wrap the env "
                "in gymnasium.wrappers.TimeLimit (or pass max_episode_steps to gym.make) or raise max_episode_length."
            )

    def is_ready(self, min_transitions: int, min_episodes: int) -> bool:
        """Whether the complete episodes collected so far hold at least that many transitions and episodes."""
        return self.n_complete_transitions >= min_transitions and self.n_complete_episodes >= min_episodes

    def finalize(self) -> None:
        """Move every complete episode into the batch (with its returns); running episodes stay for the next rollout."""
        if not self._step_rewards:
            return
        obs = self._stack_obs(self._step_obs)
        actions = np.stack(self._step_actions)
        rewards = np.stack(self._step_rewards)
        dones = np.stack(self._step_dones)
        nan_values = np.full(self.n_envs, np.nan, dtype=np.float32)
        values = np.stack([nan_values if value is None else value for value in self._step_values])
        self._step_obs, self._step_actions, self._step_rewards, self._step_dones, self._step_values = [], [], [], [], []

        batch_obs, batch_actions, batch_returns, batch_values = [], [], [], []
        for env_idx in range(self.n_envs):
            tail = self._tails[env_idx]
            n_tail = len(tail["rewards"])
            env_rewards = np.concatenate([tail["rewards"], rewards[:, env_idx]])
            env_dones = np.concatenate([np.zeros(n_tail, dtype=bool), dones[:, env_idx]])
            ends = np.flatnonzero(env_dones)
            cut = int(ends[-1]) + 1 if len(ends) > 0 else 0
            # The tail is one running episode (no end in it), so an episode that ends takes all of it: the steps of this
            # rollout split at new_cut. Observations (the bulk of the data) are copied once into the batch, from views.
            new_cut = max(cut - n_tail, 0)
            env_obs = self._index_obs(obs, (slice(None), env_idx))
            env_actions = actions[:, env_idx]
            if cut > 0:
                batch_obs += [tail["obs"], self._index_obs(env_obs, slice(0, new_cut))]
                batch_actions.append(np.concatenate([tail["actions"], env_actions[:new_cut]]))
                batch_returns.append(discounted_returns(env_rewards[:cut], env_dones[:cut], self.gamma))
                # The tail was collected before the last update: its values (if any) came from other weights.
                batch_values.append(np.concatenate([np.full(n_tail, np.nan, dtype=np.float32), values[:new_cut, env_idx]]))
                self.n_batch_episodes += len(ends)
                self.n_batch_carried += n_tail
                tail_obs = [self._index_obs(env_obs, slice(new_cut, None))]
                tail_actions = env_actions[new_cut:].copy()
            else:
                tail_obs = [tail["obs"], env_obs]
                tail_actions = np.concatenate([tail["actions"], env_actions])
            self._tails[env_idx] = {
                # copies, which do not hold on to this rollout's arrays
                "obs": self._concat_obs(tail_obs),
                "actions": tail_actions,
                "rewards": env_rewards[cut:],
            }

        if batch_returns:
            self.observations = self._concat_obs([self.observations, *batch_obs])  # type: ignore[assignment]
            self.actions = np.concatenate([self.actions, *batch_actions])
            self.returns = np.concatenate([self.returns, *batch_returns]).astype(np.float32)
            self.values = np.concatenate([self.values, *batch_values])
        self.pos = len(self.returns)
        self.full = False
        self.n_complete_episodes = 0
        self.n_complete_transitions = 0

    def size(self) -> int:
        """Number of transitions in the finalized batch."""
        return len(self.returns)

    @property
    def n_unfinished_transitions(self) -> int:
        """Transitions of episodes that are still running (kept for the next rollout)."""
        return int(self._episode_lengths.sum())

    def get(self, batch_size: int | None = None) -> Generator[EpisodicRolloutBufferSamples, None, None]:
        """
        Iterate over the finalized batch.

        :param batch_size: Minibatch size; ``None`` yields the whole batch once, in order. Minibatches are shuffled.
        """
        n = self.size()
        if n == 0:
            raise RuntimeError("The rollout buffer holds no complete episode: call finalize() after collecting episodes")
        if batch_size is None or batch_size >= n:
            yield self._get_samples(slice(0, n))  # a view: the whole batch is copied once, into the tensors
            return
        indices = np.random.permutation(n)
        for start in range(0, n, batch_size):
            yield self._get_samples(indices[start : start + batch_size])

    def _get_samples(self, batch_inds: np.ndarray | slice, env: Any = None) -> EpisodicRolloutBufferSamples:  # type: ignore[override]
        return EpisodicRolloutBufferSamples(
            observations=self.to_torch(self.observations[batch_inds]),
            actions=self.to_torch(self.actions[batch_inds]),
            returns=self.to_torch(self.returns[batch_inds]),
            values=self.to_torch(self.values[batch_inds]),
        )

    # Observation storage; the Dict variant overrides these five.
    def _empty_obs(self) -> ObsArray:
        return np.zeros((0, *self.obs_shape), dtype=self.observation_space.dtype)

    def _copy_obs(self, obs: ObsArray) -> ObsArray:
        return np.array(obs, dtype=self.observation_space.dtype).reshape(self.n_envs, *self.obs_shape)

    @staticmethod
    def _stack_obs(steps: list[ObsArray]) -> ObsArray:
        return np.stack(steps)  # type: ignore[arg-type]

    @staticmethod
    def _concat_obs(parts: list[ObsArray]) -> ObsArray:
        return np.concatenate(parts)  # type: ignore[arg-type]

    @staticmethod
    def _index_obs(obs: ObsArray, index: Any) -> ObsArray:
        return obs[index]  # type: ignore[index]

    def _empty_tail(self) -> dict[str, Any]:
        return {
            "obs": self._empty_obs(),
            "actions": np.zeros((0, self.action_dim), dtype=np.float32),
            "rewards": np.zeros(0, dtype=np.float64),
        }


class DictEpisodicRolloutBuffer(EpisodicRolloutBuffer):
    """
    :class:`EpisodicRolloutBuffer` for ``spaces.Dict`` observations (``MultiInputPolicy``).

    :param observation_space: Observation space (a ``spaces.Dict``)
    :param action_space: Action space
    :param device: PyTorch device to which the samples are sent
    :param gamma: Discount factor
    :param n_envs: Number of parallel environments
    :param max_episode_length: Largest number of transitions one episode may have in the buffer
    """

    observation_space: spaces.Dict
    obs_shape: dict[str, tuple[int, ...]]  # type: ignore[assignment]
    observations: dict[str, np.ndarray]  # type: ignore[assignment]

    def __init__(
        self,
        observation_space: spaces.Dict,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        gamma: float = 0.99,
        n_envs: int = 1,
        max_episode_length: int = 100_000,
    ):
        if not isinstance(observation_space, spaces.Dict):
            raise ValueError(f"DictEpisodicRolloutBuffer needs a spaces.Dict observation space, got {observation_space}")
        super().__init__(observation_space, action_space, device, gamma, n_envs, max_episode_length)

    def get(self, batch_size: int | None = None) -> Generator[DictEpisodicRolloutBufferSamples, None, None]:  # type: ignore[override]
        yield from super().get(batch_size)  # type: ignore[misc]

    def _get_samples(self, batch_inds: np.ndarray | slice, env: Any = None) -> DictEpisodicRolloutBufferSamples:  # type: ignore[override]
        return DictEpisodicRolloutBufferSamples(
            observations={key: self.to_torch(obs[batch_inds]) for key, obs in self.observations.items()},
            actions=self.to_torch(self.actions[batch_inds]),
            returns=self.to_torch(self.returns[batch_inds]),
            values=self.to_torch(self.values[batch_inds]),
        )

    def _empty_obs(self) -> dict[str, np.ndarray]:
        return {key: np.zeros((0, *shape), dtype=self.observation_space[key].dtype) for key, shape in self.obs_shape.items()}

    def _copy_obs(self, obs: ObsArray) -> dict[str, np.ndarray]:
        assert isinstance(obs, dict)
        return {
            key: np.array(obs[key], dtype=self.observation_space[key].dtype).reshape(self.n_envs, *shape)
            for key, shape in self.obs_shape.items()
        }

    @staticmethod
    def _stack_obs(steps: list[ObsArray]) -> dict[str, np.ndarray]:
        return {key: np.stack([step[key] for step in steps]) for key in steps[0]}  # type: ignore[index]

    @staticmethod
    def _concat_obs(parts: list[ObsArray]) -> dict[str, np.ndarray]:
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}  # type: ignore[index]

    @staticmethod
    def _index_obs(obs: ObsArray, index: Any) -> dict[str, np.ndarray]:
        return {key: value[index] for key, value in obs.items()}  # type: ignore[union-attr]
