"""predict() and env wrapping as for any SB3 algorithm: shapes, dtypes, auto-wrapping, API mix-ups."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.envs import FakeImageEnv, SimpleMultiObsEnv
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv
from test_sampling import SpaceEnv  # tests/ is on sys.path (pytest rootdir-less test modules)

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


@pytest.mark.parametrize(
    ("action_space", "kwargs"),
    [
        (spaces.Discrete(5), {}),
        (spaces.MultiDiscrete([3, 4, 2]), {}),
        (spaces.MultiBinary(4), {}),
        (spaces.Box(-1.0, 1.0, (2, 3), np.float32), {}),
        (spaces.Box(-1.0, 1.0, (2,), np.float32), dict(use_sde=True)),
        (spaces.Box(-2.0, 3.0, (2,), np.float32), dict(use_sde=True, policy_kwargs=dict(net_arch=[8], squash_output=True))),
    ],
    ids=["Discrete", "MultiDiscrete", "MultiBinary", "Box-2x3", "Box-gSDE", "Box-gSDE-squashed"],
)
@pytest.mark.parametrize("deterministic", [True, False])
@pytest.mark.parametrize("batch", [None, 300])
def test_predict_returns_what_sb3_predict_returns(action_space, kwargs, deterministic, batch):
    # REINFORCE.predict skips SB3's distribution objects: same actions (sampled ones from the same random numbers),
    # same dtype and shape, with one observation or a batch.
    kwargs = {"policy_kwargs": SMALL_NET, **kwargs}
    model = REINFORCE("MlpPolicy", SpaceEnv(action_space), device="cpu", seed=0, **kwargs)
    with th.no_grad():
        model.policy.action_net.weight.mul_(20.0)  # far from uniform, so that a wrong order or scale would show
    shape = (5,) if batch is None else (batch, 5)
    obs = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    th.manual_seed(1)
    ours, _ = model.predict(obs, deterministic=deterministic)
    th.manual_seed(1)
    expected, _ = OnPolicyAlgorithm.predict(model, obs, deterministic=deterministic)
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    np.testing.assert_array_equal(ours, expected)


def test_predict_switches_the_policy_to_eval_mode():
    model = REINFORCE("MlpPolicy", "CartPole-v1", policy_kwargs=SMALL_NET, device="cpu")
    model.policy.set_training_mode(True)
    model.predict(np.zeros(4, dtype=np.float32))
    assert not model.policy.training


@pytest.mark.parametrize("policy", ["CnnPolicy", "MultiInputPolicy"])
@pytest.mark.parametrize("deterministic", [True, False])
def test_predict_images_and_dicts_as_sb3(policy, deterministic):
    if policy == "CnnPolicy":  # channel-last images: predict() transposes them as SB3 does
        env = FakeImageEnv(screen_height=36, screen_width=36, n_channels=3, discrete=True)
    else:
        env = gym.wrappers.TimeLimit(SimpleMultiObsEnv(random_start=True), 20)
    model = REINFORCE(policy, env, policy_kwargs=SMALL_NET, device="cpu", seed=0)
    obs = model.get_env().reset()
    th.manual_seed(2)
    ours, _ = model.predict(obs, deterministic=deterministic)
    th.manual_seed(2)
    expected, _ = OnPolicyAlgorithm.predict(model, obs, deterministic=deterministic)
    np.testing.assert_array_equal(ours, expected)
