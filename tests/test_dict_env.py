"""Dict observations (MultiInputPolicy) with REINFORCE as with A2C: same model as a flat observation, images, wrappers."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.envs import BitFlippingEnv
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecNormalize

from sb3_reinforce import REINFORCE


class DictEnv(gym.Env):
    """Random Dict observations (optionally with an image and a nested Dict), 8-step episodes, reward 1 for action 0."""

    def __init__(
        self,
        image: bool = True,
        discrete: bool = True,
        channel_last: bool = True,
        vector_only: bool = False,
        nested: bool = False,
    ):
        image_shape = (36, 36, 1) if channel_last else (1, 36, 36)
        observations: dict[str, spaces.Space] = {"vec": spaces.Box(-1.0, 1.0, (2,), np.float32)}
        if not vector_only:
            if discrete:
                observations["discrete"] = spaces.Discrete(3)
            if image:
                observations["img"] = spaces.Box(0, 255, image_shape, np.uint8)
        if nested:
            observations["nested"] = spaces.Dict({"inner": spaces.Discrete(2)})
        self.observation_space = spaces.Dict(observations)
        self.action_space = spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self.observation_space.seed(seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return self.observation_space.sample(), float(action == 0), False, self.t == 8, {}


def test_a_one_key_dict_gives_the_same_model_as_the_flat_observation():
    # MultiInputPolicy flattens and concatenates the keys: with one key it is the MlpPolicy network, so the same seed
    # must give the same actions before and after learning.
    # (Each model learns right after it is built: the seed is torch's global one.)
    kwargs = dict(n_steps=8, gamma=0.5, policy_kwargs=dict(net_arch=[8, 8]), seed=1)
    dict_model = REINFORCE("MultiInputPolicy", DictEnv(vector_only=True), **kwargs).learn(48)
    flat_model = REINFORCE("MlpPolicy", gym.wrappers.FlattenObservation(DictEnv(vector_only=True)), **kwargs).learn(48)
    assert dict_model._n_updates == flat_model._n_updates == 6
    flat_weights = flat_model.policy.state_dict()
    for key, value in dict_model.policy.state_dict().items():
        np.testing.assert_allclose(value.numpy(), flat_weights[key].numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("channel_last", [True, False])
def test_images_vectors_and_discrete_keys(channel_last):
    model = REINFORCE("MultiInputPolicy", DictEnv(channel_last=channel_last), n_steps=8, policy_kwargs=dict(net_arch=[8]))
    model.learn(16)
    assert set(model.rollout_buffer.observations) == {"vec", "discrete", "img"}
    obs, _ = DictEnv(channel_last=channel_last).reset(seed=0)
    assert model.action_space.contains(model.predict(obs)[0])


def test_nested_dict_observations_are_refused():
    with pytest.raises(NotImplementedError, match="Nested observation spaces are not supported"):
        REINFORCE("MultiInputPolicy", DictEnv(nested=True))


def test_dict_with_frame_stack_and_vec_normalize():
    # VecFrameStack stacks Box keys only.
    env = VecNormalize(VecFrameStack(DummyVecEnv([lambda: DictEnv(discrete=False)] * 2), n_stack=2), norm_obs_keys=["vec"])
    model = REINFORCE("MultiInputPolicy", env, n_steps=8, policy_kwargs=dict(net_arch=[8]), seed=0)
    model.learn(32)
    assert model.observation_space["vec"].shape == (4,)  # two stacked frames
    assert model.rollout_buffer.observations["img"].shape[1:] == (2, 36, 36)  # stacked, then channel-first
    assert env.obs_rms["vec"].count > 32


def test_goal_env():
    # A GoalEnv's Dict of MultiBinary observations, without a HER buffer (on-policy algorithms do not use one).
    model = REINFORCE("MultiInputPolicy", BitFlippingEnv(n_bits=4), n_steps=16, policy_kwargs=dict(net_arch=[8]), seed=0)
    model.learn(48)
    assert model._n_updates >= 2
