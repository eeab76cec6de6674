"""Bad input fails loudly and early, naming the problem."""

import re

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import IdentityEnv
from stable_baselines3.common.preprocessing import get_flattened_obs_dim
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from sb3_reinforce import REINFORCE
from sb3_reinforce.common.buffers import DictEpisodicRolloutBuffer, EpisodeTooLongError, EpisodicRolloutBuffer
from sb3_reinforce.reinforce.reinforce import _check_finite


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(gamma=1.5), "gamma must be a float in \\[0, 1\\]"),
        (dict(gamma=-0.1), "gamma"),
        (dict(n_steps=0), "n_steps must be a positive integer"),
        (dict(n_steps=2.5), "n_steps must be a positive integer"),
        (dict(n_episodes=-1), "n_episodes must be a positive integer"),
        (dict(n_epochs=0), "n_epochs"),
        (dict(batch_size=0), "batch_size"),
        (dict(max_episode_length=0), "max_episode_length"),
        (dict(baseline="critic"), "baseline must be one of 'none', 'mean', 'value', got 'critic'"),
        (dict(gae_lambda=0.95), "gae_lambda=0.95 is not supported.*Monte Carlo"),
        (dict(learning_rate=-1e-3), "learning_rate must be > 0"),
        (dict(learning_rate=float("nan")), "learning_rate must be a finite float"),
        (dict(ent_coef=-0.1), "ent_coef must be a finite float >= 0"),
        (dict(vf_coef=float("inf")), "vf_coef"),
        (dict(max_grad_norm=0.0), "max_grad_norm must be a float > 0"),
        (dict(rollout_buffer_class=dict), "rollout_buffer_class must be a subclass of EpisodicRolloutBuffer"),
        (dict(gamma=True), "gamma must be a float in \\[0, 1\\], got True"),
        (dict(normalize_advantage="no"), "normalize_advantage must be True or False, got 'no'"),
        (dict(stats_window_size=0), "stats_window_size must be a positive integer"),
        (dict(sde_sample_freq=-5), "sde_sample_freq must be -1 .* or an integer >= 0, got -5"),
    ],
)
def test_invalid_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        REINFORCE("MlpPolicy", "CartPole-v1", **kwargs)


class BufferWithOption(EpisodicRolloutBuffer):
    def __init__(self, *args, option: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.option = option


def test_custom_rollout_buffer_and_kwargs():
    model = REINFORCE("MlpPolicy", "CartPole-v1", rollout_buffer_class=BufferWithOption, rollout_buffer_kwargs=dict(option=3))
    assert isinstance(model.rollout_buffer, BufferWithOption) and model.rollout_buffer.option == 3
    # As with A2C: an unknown keyword, or one the algorithm passes itself, is a TypeError.
    with pytest.raises(TypeError, match="unexpected keyword argument 'wrong_keyword'"):
        REINFORCE("MlpPolicy", "CartPole-v1", rollout_buffer_kwargs=dict(wrong_keyword=1))
    for name in ("gamma", "n_envs", "device", "max_episode_length"):
        with pytest.raises(TypeError, match=f"rollout_buffer_kwargs must not set {name}"):
            REINFORCE("MlpPolicy", "CartPole-v1", rollout_buffer_kwargs={name: 1})
    with pytest.raises(ValueError, match=r"needs a spaces\.Dict observation space"):
        REINFORCE("MlpPolicy", "CartPole-v1", rollout_buffer_class=DictEpisodicRolloutBuffer)


def test_numpy_scalars_are_accepted():
    # What a config file parsed with numpy, or an Optuna sampler, may hand over.
    model = REINFORCE("MlpPolicy", "CartPole-v1", gamma=np.float32(0.5), learning_rate=np.float64(1e-3), n_steps=np.int64(8))
    assert model.gamma == 0.5 and isinstance(model.gamma, float)
    assert model.lr_schedule(1.0) == pytest.approx(1e-3)


def test_custom_buffer_subclass_is_accepted():
    class MyBuffer(EpisodicRolloutBuffer):
        pass

    model = REINFORCE("MlpPolicy", "CartPole-v1", rollout_buffer_class=MyBuffer)
    assert isinstance(model.rollout_buffer, MyBuffer)


def test_unsupported_action_space():
    env = IdentityEnv(space=spaces.Tuple([spaces.Discrete(2), spaces.Discrete(2)]))
    with pytest.raises(ValueError, match=r"does not support the action space Tuple.*supported are Box, Discrete"):
        REINFORCE("MlpPolicy", env)


class BrokenEnv(gym.Env):
    """Returns a bad reward or observation (``bad_value``: NaN, inf, or beyond float32's range) at step ``bad_step``."""

    action_space = spaces.Discrete(2)

    def __init__(self, what: str, bad_step: int = 3, ends: bool = True, bad_value: float = np.nan, dtype=np.float32):
        self.what, self.bad_step, self.ends, self.bad_value, self.dtype = what, bad_step, ends, bad_value, dtype
        self.observation_space = spaces.Box(-np.inf, np.inf, (3,), dtype)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(3, dtype=self.dtype), {}

    def step(self, action):
        self.t += 1
        bad = self.t == self.bad_step
        obs = np.zeros(3, dtype=self.dtype)
        if bad and self.what == "observation":
            obs[0] = self.bad_value
        reward = self.bad_value if bad and self.what == "reward" else 1.0
        return obs, reward, self.ends and self.t >= 10, False, {}


@pytest.mark.parametrize("what", ["reward", "observation"])
@pytest.mark.parametrize(
    ("bad_value", "dtype"), [(np.nan, np.float32), (np.inf, np.float32), (1e300, np.float64)], ids=["nan", "inf", "1e300"]
)
def test_non_finite_env_output_stops_training_before_the_update(what, bad_value, dtype):
    # 1e300 is finite in float64 but inf in the float32 the network computes in: it must be refused as well.
    env = make_vec_env(lambda: BrokenEnv(what, bad_value=bad_value, dtype=dtype), n_envs=2)
    model = REINFORCE("MlpPolicy", env, n_steps=50)
    weights = {k: v.clone() for k, v in model.policy.state_dict().items()}
    message = f"Non-finite {what} (NaN, inf or beyond float32's range) from env(s) [0, 1]"
    with pytest.raises(ValueError, match=re.escape(message)):
        model.learn(1000)
    assert model._n_updates == 0
    assert all((weights[k] == v).all() for k, v in model.policy.state_dict().items())


@pytest.mark.parametrize(
    ("values", "bad_envs"),
    [
        ([[3e38, 3e38], [3e38, -1.0]], None),  # all finite, though their float32 sum overflows
        ([[0.0, 0.0], [np.nan, 0.0]], [1]),
        ([[np.inf, 0.0], [0.0, -np.inf]], [0, 1]),  # inf - inf: a NaN sum
        ([[0.0, -np.inf], [0.0, 0.0]], [0]),
    ],
    ids=["large-finite", "nan", "inf-and-minus-inf", "minus-inf"],
)
def test_finiteness_check_of_float32_arrays(values, bad_envs):
    array = np.array(values, dtype=np.float32)
    if bad_envs is None:
        _check_finite("observation", array, 7)
    else:
        message = f"Non-finite observation (NaN, inf or beyond float32's range) from env(s) {bad_envs} at timestep 7"
        with pytest.raises(ValueError, match=re.escape(message)):
            _check_finite("observation", array, 7)


class SqrtFeatures(BaseFeaturesExtractor):
    """sqrt(|W x + b|): finite outputs, but an infinite derivative wherever W x + b = 0 (at x = 0 with b = 0)."""

    def __init__(self, observation_space: spaces.Box):
        super().__init__(observation_space, features_dim=4)
        self.linear = th.nn.Linear(get_flattened_obs_dim(observation_space), 4)
        th.nn.init.zeros_(self.linear.bias)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return th.sqrt(self.linear(observations).abs())


def test_non_finite_gradient_is_never_applied():
    # Observations of zeros: the loss is finite, its gradient is not. The step must be refused, weights and the
    # optimizer's state untouched, so that nothing corrupted can be saved afterwards.
    env = make_vec_env(lambda: BrokenEnv("none", bad_step=-1), n_envs=2)
    model = REINFORCE("MlpPolicy", env, n_steps=10, policy_kwargs=dict(features_extractor_class=SqrtFeatures), seed=0)
    weights = {k: v.clone() for k, v in model.policy.state_dict().items()}
    with pytest.raises(FloatingPointError, match=r"gradient norm of the REINFORCE loss is (nan|inf).*not applied"):
        model.learn(40)
    assert model._n_updates == 0
    assert all(th.equal(weights[k], v) for k, v in model.policy.state_dict().items())
    assert model.policy.optimizer.state_dict()["state"] == {}


def test_never_ending_episodes_hit_the_cap():
    env = make_vec_env(lambda: BrokenEnv("none", bad_step=-1, ends=False), n_envs=1)
    model = REINFORCE("MlpPolicy", env, max_episode_length=200)
    with pytest.raises(EpisodeTooLongError, match="max_episode_length=200"):
        model.learn(10_000)
    assert model.num_timesteps <= 201
