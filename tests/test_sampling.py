"""The rollout's sampling path draws the actions SB3's distributions would, from the same random numbers."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.envs import FakeImageEnv, IdentityEnv, SimpleMultiObsEnv

from sb3_reinforce import REINFORCE
from sb3_reinforce.common.sampling import (
    RolloutSampler,
    _actor_output,
    _plain_actor_layers,
    sample_actions,
    sample_actions_and_values,
)

# The two ways to sample: once per call, and with the policy inspected once per rollout (what collect_rollouts uses).
SAMPLERS = {"sample_actions": sample_actions, "RolloutSampler": lambda policy, obs: RolloutSampler(policy)(obs)}


class SpaceEnv(gym.Env):
    """Observations of shape (5,), any action space."""

    observation_space = spaces.Box(-1.0, 1.0, (5,), np.float32)

    def __init__(self, action_space: spaces.Space):
        self.action_space = action_space

    def reset(self, *, seed=None, options=None):
        return np.zeros(5, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(5, dtype=np.float32), 0.0, True, False, {}


@pytest.mark.parametrize(
    ("action_space", "kwargs"),
    [
        (spaces.Discrete(5), {}),
        (spaces.MultiDiscrete([3, 4, 2]), {}),
        (spaces.MultiBinary(4), {}),
        (spaces.Box(-1.0, 1.0, (2, 3), np.float32), {}),
        (spaces.Box(-1.0, 1.0, (2,), np.float32), dict(use_sde=True)),
    ],
    ids=["Discrete", "MultiDiscrete", "MultiBinary", "Box", "Box-gSDE"],
)
@pytest.mark.parametrize("sampler", SAMPLERS)
def test_same_actions_as_sb3_distributions(action_space, kwargs, sampler):
    model = REINFORCE("MlpPolicy", SpaceEnv(action_space), policy_kwargs=dict(net_arch=[8]), device="cpu", seed=0, **kwargs)
    # Logits far from uniform, so that a wrong category order or scale would show.
    with th.no_grad():
        model.policy.action_net.weight.mul_(20.0)
    obs = th.as_tensor(np.random.default_rng(0).uniform(-1, 1, (5000, 5)), dtype=th.float32)
    with th.inference_mode():
        th.manual_seed(1)
        ours = SAMPLERS[sampler](model.policy, obs)
        th.manual_seed(1)
        expected = model.policy.get_distribution(obs).get_actions()
    assert ours.shape == expected.shape
    assert th.equal(ours, expected)


@pytest.mark.parametrize("policy", ["CnnPolicy", "MultiInputPolicy"])
@pytest.mark.parametrize("sampler", SAMPLERS)
def test_same_actions_with_image_and_dict_observations(policy, sampler):
    if policy == "CnnPolicy":
        env = FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, discrete=True)
    else:
        env = gym.wrappers.TimeLimit(SimpleMultiObsEnv(random_start=True), 20)
    model = REINFORCE(policy, env, policy_kwargs=dict(net_arch=[8]), device="cpu", seed=0)
    vec_env = model.get_env()
    obs = {key: np.repeat(value, 64, axis=0) for key, value in vec_env.reset().items()} if policy != "CnnPolicy" else None
    if obs is None:
        obs = np.random.default_rng(0).integers(0, 256, (64, 1, 36, 36), dtype=np.uint8)
    obs_tensor, _ = model.policy.obs_to_tensor(obs)
    with th.inference_mode():
        th.manual_seed(2)
        ours = SAMPLERS[sampler](model.policy, obs_tensor)
        th.manual_seed(2)
        expected = model.policy.get_distribution(obs_tensor).get_actions()
    assert th.equal(ours, expected)


def test_categorical_frequencies_match_the_probabilities():
    # Independent of SB3: 20,000 draws from fixed logits land on each action at the softmax rate (within 4 sigma).
    model = REINFORCE("MlpPolicy", IdentityEnv(3), policy_kwargs=dict(net_arch=[]), device="cpu", seed=0)
    with th.no_grad():
        model.policy.action_net.weight.zero_()
        model.policy.action_net.bias.copy_(th.tensor([0.0, 1.0, -2.0]))
    probs = th.softmax(model.policy.action_net.bias.detach(), 0).numpy()
    obs = th.zeros(20_000, dtype=th.long)  # Discrete(3) observations: one-hot encoded by the policy
    with th.inference_mode():
        counts = np.bincount(sample_actions(model.policy, obs).numpy(), minlength=3) / 20_000
    sigma = np.sqrt(probs * (1 - probs) / 20_000)
    assert np.all(np.abs(counts - probs) < 4 * sigma)


@pytest.mark.parametrize(
    ("policy", "kwargs"),
    [
        ("CnnPolicy", {}),
        ("CnnPolicy", dict(policy_kwargs=dict(net_arch=[8], share_features_extractor=False))),
        ("MlpPolicy", dict(use_sde=True)),
    ],
    ids=["Cnn-shared", "Cnn-separate", "Mlp-gSDE"],
)
def test_actions_and_values_in_one_pass(policy, kwargs):
    # The same actions as sample_actions (same random numbers) and the policy's own value estimates.
    if policy == "CnnPolicy":
        env = FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, discrete=True)
        obs = np.random.default_rng(0).integers(0, 256, (64, 1, 36, 36), dtype=np.uint8)
    else:
        env = SpaceEnv(spaces.Box(-1.0, 1.0, (2,), np.float32))
        obs = np.random.default_rng(0).uniform(-1, 1, (64, 5)).astype(np.float32)
    model = REINFORCE(policy, env, device="cpu", seed=0, **kwargs)
    obs_tensor, _ = model.policy.obs_to_tensor(obs)
    with th.inference_mode():
        th.manual_seed(3)
        actions, values = sample_actions_and_values(model.policy, obs_tensor)
        th.manual_seed(3)
        expected_actions = sample_actions(model.policy, obs_tensor)
        expected_values = model.policy.predict_values(obs_tensor).flatten()
    assert th.equal(actions, expected_actions)
    assert values.shape == (64,)
    th.testing.assert_close(values, expected_values)


class BoxObsEnv(gym.Env):
    """Observations of shape (2, 3): the flattening of SB3's FlattenExtractor matters."""

    observation_space = spaces.Box(-1.0, 1.0, (2, 3), np.float32)
    action_space = spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        return np.zeros((2, 3), dtype=np.float32), {}

    def step(self, action):
        return np.zeros((2, 3), dtype=np.float32), 0.0, True, False, {}


@pytest.mark.parametrize("activation_fn", [th.nn.Tanh, th.nn.ReLU, th.nn.ELU])
def test_plain_mlps_run_without_module_calls_and_give_the_same_numbers(activation_fn):
    model = REINFORCE("MlpPolicy", BoxObsEnv(), policy_kwargs=dict(net_arch=[16, 16], activation_fn=activation_fn), seed=0)
    policy = model.policy
    obs = th.as_tensor(np.random.default_rng(0).uniform(-1, 1, (64, 2, 3)), dtype=th.float32)
    layers = _plain_actor_layers(policy)
    assert (layers is None) == (activation_fn is th.nn.ELU)  # only the activations it knows run as functions
    with th.inference_mode():
        expected = policy.action_net(policy.mlp_extractor.forward_actor(policy.extract_features(obs)))
        assert th.equal(_actor_output(policy, obs), expected)


def test_modules_with_hooks_are_called():
    model = REINFORCE("MlpPolicy", BoxObsEnv(), policy_kwargs=dict(net_arch=[16]), seed=0)
    calls = []
    handle = model.policy.mlp_extractor.policy_net[0].register_forward_hook(lambda *args: calls.append(1))
    assert _plain_actor_layers(model.policy) is None
    model.predict(np.zeros((2, 3), dtype=np.float32), deterministic=True)
    assert calls == [1]
    handle.remove()
    with th.nn.modules.module.register_module_forward_hook(lambda *args: calls.append(2)):
        assert _plain_actor_layers(model.policy) is None
    assert _plain_actor_layers(model.policy) is not None


@pytest.mark.parametrize(
    "action_space", [spaces.Discrete(3), spaces.Box(-1.0, 1.0, (2,), np.float32)], ids=["Discrete", "Box"]
)
def test_rollout_sampler_reads_the_weights_at_each_call(action_space):
    # The optimizer updates the weights (and log_std) in place during learn(), and a user may load others: a sampler
    # used before a change must sample from the changed policy after it.
    model = REINFORCE("MlpPolicy", SpaceEnv(action_space), policy_kwargs=dict(net_arch=[8]), device="cpu", seed=0)
    policy = model.policy
    sampler = RolloutSampler(policy)
    obs = th.as_tensor(np.random.default_rng(0).uniform(-1, 1, (500, 5)), dtype=th.float32)

    def check() -> None:
        with th.inference_mode():
            th.manual_seed(4)
            ours = sampler(obs)
            th.manual_seed(4)
            expected = policy.get_distribution(obs).get_actions()
        assert th.equal(ours, expected)

    check()
    with th.no_grad():
        for parameter in policy.parameters():
            parameter.add_(th.randn_like(parameter))  # in place, as an optimizer step
    check()
    policy.load_state_dict({key: value + 1.0 for key, value in policy.state_dict().items()})  # copied in place
    check()
    for parameter in policy.parameters():
        parameter.data = -parameter.data  # new storage, same version counter
    check()


def test_rollout_sampler_calls_modules_hooked_before_it_was_made():
    model = REINFORCE("MlpPolicy", BoxObsEnv(), policy_kwargs=dict(net_arch=[16]), seed=0)
    calls = []
    model.policy.action_net.register_forward_hook(lambda *args: calls.append(1))
    with th.inference_mode():
        RolloutSampler(model.policy)(th.zeros(4, 2, 3))
    assert calls == [1]
