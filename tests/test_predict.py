"""predict() and env wrapping as for any SB3 algorithm: shapes, dtypes, auto-wrapping, API mix-ups."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE

SMALL_NET = dict(net_arch=[8])


def test_a_gym_env_is_wrapped_in_monitor_and_dummy_vec_env():
    model = REINFORCE("MlpPolicy", gym.make("CartPole-v1"), n_steps=8, policy_kwargs=SMALL_NET, seed=0)
    assert isinstance(model.get_env(), DummyVecEnv)
    assert model.get_env().env_is_wrapped(Monitor) == [True]
    model.learn(50)
    assert len(model.ep_info_buffer) >= 1  # episode statistics come from the Monitor wrapper


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_predict_single_and_vectorized_observations(env_id):
    model = REINFORCE("MlpPolicy", env_id, policy_kwargs=SMALL_NET, seed=0)
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    action, state = model.predict(obs)
    assert isinstance(action, np.ndarray) and state is None
    assert action.shape == env.action_space.shape and env.action_space.contains(action)

    vec_env = DummyVecEnv([lambda: gym.make(env_id)] * 3)
    vec_obs = vec_env.reset()
    actions, _ = model.predict(vec_obs)
    assert actions.shape == (3, *env.action_space.shape)
    first, _ = model.predict(vec_obs, deterministic=True)
    again, _ = model.predict(vec_obs, deterministic=True)
    np.testing.assert_array_equal(first, again)


def test_predict_rejects_a_reset_tuple():
    model = REINFORCE("MlpPolicy", "CartPole-v1", policy_kwargs=SMALL_NET)
    with pytest.raises(ValueError, match="mixing Gym API"):
        model.predict(gym.make("CartPole-v1").reset())


class SubBox(spaces.Box):
    """A user's subclass of Box: SB3 treats it as a Box."""


class SubclassedSpacesEnv(gym.Env):
    def __init__(self):
        self.observation_space = SubBox(-1.0, 1.0, (2,), np.float32)
        self.action_space = SubBox(-1.0, 1.0, (2,), np.float32)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        assert self.action_space.contains(action.astype(np.float32))
        self.t += 1
        return self.observation_space.sample(), float(-np.abs(action).sum()), False, self.t == 5, {}


def test_subclassed_spaces():
    env = SubclassedSpacesEnv()
    model = REINFORCE("MlpPolicy", env, n_steps=5, policy_kwargs=SMALL_NET, seed=0)
    model.learn(20)
    obs, _ = env.reset()
    env.step(model.predict(obs)[0])
