"""policy_kwargs as with A2C: network shapes, activation, optimizer class and its arguments (kept by save/load)."""

import gymnasium as gym
import pytest
import torch as th
from torch import nn

from sb3_reinforce import REINFORCE


def linear_sizes(module: nn.Module) -> list[int]:
    return [layer.out_features for layer in module.modules() if isinstance(layer, nn.Linear)]


@pytest.mark.parametrize(
    ("net_arch", "policy_sizes", "value_sizes"),
    [([], [], []), ([8], [8], [8]), ([8, 4], [8, 4], [8, 4]), (dict(pi=[8], vf=[4, 4]), [8], [4, 4])],
)
def test_flexible_mlp(net_arch, policy_sizes, value_sizes):
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=8, baseline="value", policy_kwargs=dict(net_arch=net_arch), seed=0)
    assert linear_sizes(model.policy.mlp_extractor.policy_net) == policy_sizes
    assert linear_sizes(model.policy.mlp_extractor.value_net) == value_sizes
    model.learn(16)


def test_activation_and_no_orthogonal_init():
    model = REINFORCE("MlpPolicy", "CartPole-v1", policy_kwargs=dict(net_arch=[8], activation_fn=nn.ReLU, ortho_init=False))
    assert any(isinstance(layer, nn.ReLU) for layer in model.policy.mlp_extractor.policy_net)


@pytest.mark.parametrize(
    ("optimizer_class", "optimizer_kwargs"),
    [(th.optim.SGD, dict(momentum=0.9)), (th.optim.RMSprop, dict(alpha=0.99, eps=1e-5)), (th.optim.AdamW, dict())],
)
def test_custom_optimizer(tmp_path, optimizer_class, optimizer_kwargs):
    policy_kwargs = dict(net_arch=[8], optimizer_class=optimizer_class, optimizer_kwargs=optimizer_kwargs)
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=8, learning_rate=3e-3, policy_kwargs=policy_kwargs, seed=0)
    model.learn(16)
    model.save(tmp_path / "model.zip")
    loaded = REINFORCE.load(tmp_path / "model.zip", env=gym.make("CartPole-v1"))
    for optimizer in (model.policy.optimizer, loaded.policy.optimizer):
        assert type(optimizer) is optimizer_class
        group = optimizer.param_groups[0]
        assert group["lr"] == pytest.approx(3e-3) and all(group[key] == value for key, value in optimizer_kwargs.items())
    loaded.learn(16)
