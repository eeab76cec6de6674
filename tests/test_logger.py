"""Logging as with A2C: the default outputs, a logger set by the user, fps, the episode windows and the success rate."""

from unittest import mock

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import CSVOutputFormat, HumanOutputFormat, Logger, TensorBoardOutputFormat, configure

from sb3_reinforce import REINFORCE

SMALL_NET = dict(net_arch=[8])


def test_default_outputs_and_a_user_logger_are_kept(tmp_path):
    assert REINFORCE("MlpPolicy", "CartPole-v1", n_steps=4).learn(4).logger.output_formats == []
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=4, verbose=1, tensorboard_log=str(tmp_path)).learn(4)
    assert [type(output) for output in model.logger.output_formats] == [HumanOutputFormat, TensorBoardOutputFormat]

    logger = configure(str(tmp_path / "custom"), ["csv"])
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=4, verbose=1, policy_kwargs=SMALL_NET)
    model.set_logger(logger)
    model.learn(8)
    model.learn(8)
    assert model.logger is logger and [type(output) for output in logger.output_formats] == [CSVOutputFormat]
    assert (tmp_path / "custom" / "progress.csv").stat().st_size > 0


class InMemoryLogger(Logger):
    """Keeps the last dumped value of each key."""

    def __init__(self):
        super().__init__(folder=None, output_formats=[])
        self.values: dict = {}

    def dump(self, step: int = 0) -> None:
        self.values.update(self.name_to_value, step=step)
        super().dump(step)


def test_time_keys_and_no_division_by_zero_with_a_frozen_clock():
    memory = InMemoryLogger()
    rollouts = []

    class CountRollouts(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            rollouts.append(self.num_timesteps)

    with mock.patch("time.time", lambda: 42.0), mock.patch("time.time_ns", lambda: 42):
        model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=8, policy_kwargs=SMALL_NET, seed=0)
        model.set_logger(memory)
        model.learn(32, callback=CountRollouts())
    assert memory.values["time/total_timesteps"] == model.num_timesteps == memory.values["step"]
    # An iteration is a rollout, as for A2C (the last one, cut by the budget, may complete no episode and not update).
    assert memory.values["time/iterations"] == len(rollouts) >= model._n_updates
    assert "time/fps" in memory.values


@pytest.mark.parametrize("stats_window_size", [1, 42])
def test_stats_window_size(stats_window_size):
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=4, stats_window_size=stats_window_size).learn(4)
    assert model.ep_info_buffer.maxlen == model.ep_success_buffer.maxlen == stats_window_size


class SuccessEnv(gym.Env):
    """2-step episodes whose final info says is_success, following a fixed pattern."""

    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, pattern: list[bool]):
        self.pattern, self.episode, self.t = pattern, -1, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode, self.t = self.episode + 1, 0
        return 0, {}

    def step(self, action):
        self.t += 1
        done = self.t == 2
        info = {"is_success": self.pattern[self.episode % len(self.pattern)]} if done else {}
        return 0, 0.0, False, done, info


def test_success_rate():
    # Windows of 4 episodes; each rollout is 4 episodes (8 transitions) of the pattern T, F, T, T then F, F, F, T.
    memory = InMemoryLogger()
    env = SuccessEnv([True, False, True, True, False, False, False, True])
    model = REINFORCE("MlpPolicy", env, n_steps=8, stats_window_size=4, policy_kwargs=SMALL_NET, seed=0)
    model.set_logger(memory)
    model.learn(8)
    assert memory.values["rollout/success_rate"] == 0.75
    model.learn(8, reset_num_timesteps=False)
    assert memory.values["rollout/success_rate"] == 0.25
    assert np.isclose(memory.values["rollout/ep_len_mean"], 2.0)
