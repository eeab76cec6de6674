"""As with A2C: rollouts and predict run the policy in eval mode, the update in train mode (BatchNorm, Dropout)."""

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.preprocessing import get_flattened_obs_dim
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from sb3_reinforce import REINFORCE


class BatchNormDropoutExtractor(BaseFeaturesExtractor):
    def __init__(self, observation_space: gym.spaces.Box):
        super().__init__(observation_space, get_flattened_obs_dim(observation_space))
        self.layers = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(self.features_dim), nn.Dropout(0.5))

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.layers(observations)


def batch_norm_state(model: REINFORCE) -> dict[str, th.Tensor]:
    batch_norm = model.policy.features_extractor.layers[1]
    return {key: value.clone() for key, value in batch_norm.state_dict().items()}


class CheckRolloutMode(BaseCallback):
    """Fails the run if a rollout step runs in train mode or moves the BatchNorm statistics."""

    def _on_rollout_start(self) -> None:
        self.at_start = batch_norm_state(self.model)

    def _on_step(self) -> bool:
        assert not self.model.policy.training
        now = batch_norm_state(self.model)
        assert all(th.equal(now[key], self.at_start[key]) for key in now)
        return True


def test_rollouts_in_eval_mode_updates_in_train_mode():
    policy_kwargs = dict(net_arch=[8], features_extractor_class=BatchNormDropoutExtractor)
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=16, policy_kwargs=policy_kwargs, seed=1)
    before = batch_norm_state(model)
    model.learn(64, callback=CheckRolloutMode())
    after = batch_norm_state(model)
    # The update ran in train mode: the running statistics moved (and the affine parameters were trained).
    assert model._n_updates >= 2
    assert not th.allclose(before["running_mean"], after["running_mean"])
    assert not th.allclose(before["bias"], after["bias"])

    # predict runs in eval mode: deterministic (no dropout) and without touching the statistics.
    obs = np.random.default_rng(0).uniform(-0.1, 0.1, (16, 4)).astype(np.float32)
    first, _ = model.predict(obs, deterministic=True)
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], first)
    assert all(th.equal(batch_norm_state(model)[key], after[key]) for key in after)
