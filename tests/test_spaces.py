"""Every observation and action space A2C takes, REINFORCE takes: the env gets actions of its space, predict returns them."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from sb3_reinforce import REINFORCE

SMALL_NET = dict(net_arch=[8])
BOX32 = spaces.Box(-1.0, 1.0, (2,), np.float32)
BOX64 = spaces.Box(-1.0, 1.0, (2,), np.float64)


class SpacesEnv(gym.Env):
    """Random observations of any space, 5-step episodes; it checks every action it gets against its action space."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space):
        self.observation_space, self.action_space = observation_space, action_space
        self.t = 0
        self.n_actions = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self.observation_space.seed(seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        action = np.asarray(action)
        assert action.shape == self.action_space.shape, (action.shape, self.action_space.shape)
        assert self.action_space.contains(action.astype(self.action_space.dtype)), action
        self.n_actions += 1
        self.t += 1
        return self.observation_space.sample(), 0.0, self.t == 5, False, {}


def learn_and_predict(env: SpacesEnv) -> np.ndarray:
    policy = "MultiInputPolicy" if isinstance(env.observation_space, spaces.Dict) else "MlpPolicy"
    model = REINFORCE(policy, env, n_steps=5, policy_kwargs=SMALL_NET, seed=0)
    model.learn(20)
    assert env.n_actions >= 20 and model._n_updates >= 1
    action, _ = model.predict(env.reset()[0], deterministic=False)
    assert action.shape == env.action_space.shape and env.action_space.contains(action.astype(env.action_space.dtype))
    return action


@pytest.mark.parametrize(
    "action_space",
    [
        spaces.Discrete(3),
        spaces.MultiDiscrete([2, 3]),
        spaces.MultiBinary(3),
        BOX32,
        BOX64,
        spaces.Box(-1.0, 1.0, (2, 2), np.float32),
    ],
    ids=["Discrete", "MultiDiscrete", "MultiBinary", "Box", "Box-float64", "Box-2x2"],
)
def test_action_spaces(action_space):
    action = learn_and_predict(SpacesEnv(BOX32, action_space))
    if isinstance(action_space, spaces.Box):
        assert action.dtype == action_space.dtype  # as A2C: predict returns the space's dtype


@pytest.mark.parametrize(
    "observation_space",
    [
        spaces.Discrete(4),
        spaces.MultiDiscrete([4, 3]),
        spaces.MultiBinary(4),
        spaces.MultiBinary((3, 2)),
        BOX64,
        spaces.Dict({"a": BOX32, "b": BOX64, "c": spaces.Discrete(3)}),
    ],
    ids=["Discrete", "MultiDiscrete", "MultiBinary", "MultiBinary-2d", "Box-float64", "Dict"],
)
def test_observation_spaces(observation_space):
    learn_and_predict(SpacesEnv(observation_space, spaces.Discrete(2)))


def test_multi_dimensional_multi_binary_actions_are_refused_as_by_a2c():
    with pytest.raises(AssertionError, match=r"Multi-dimensional MultiBinary\(.*\) action space is not supported"):
        REINFORCE("MlpPolicy", SpacesEnv(BOX32, spaces.MultiBinary([2, 3])))
