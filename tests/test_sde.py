"""Generalized State-Dependent Exploration (gSDE) with REINFORCE, as A2C uses it."""

import numpy as np
import pytest
from stable_baselines3.common.envs import IdentityEnvBox
from stable_baselines3.common.logger import configure
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_reinforce import REINFORCE


class CountingNoiseResets(ActorCriticPolicy):
    noise_resets = 0

    def reset_noise(self, n_envs: int = 1) -> None:
        type(self).noise_resets += 1
        super().reset_noise(n_envs)


@pytest.mark.parametrize("sde_sample_freq", [-1, 1, 4])
def test_exploration_noise_is_resampled_as_in_a2c(sde_sample_freq):
    # One 20-step rollout (a whole episode): noise at the rollout start, then every sde_sample_freq steps from step 0.
    CountingNoiseResets.noise_resets = 0
    model = REINFORCE(
        CountingNoiseResets,
        IdentityEnvBox(ep_length=20),
        n_steps=20,
        use_sde=True,
        sde_sample_freq=sde_sample_freq,
        policy_kwargs=dict(net_arch=[8]),
        seed=0,
    )
    CountingNoiseResets.noise_resets = 0
    model.learn(20)
    assert model._n_updates == 1
    expected = {-1: 1, 1: 1 + 20, 4: 1 + 5}[sde_sample_freq]
    assert CountingNoiseResets.noise_resets == expected


@pytest.mark.parametrize("use_expln", [False, True])
@pytest.mark.parametrize("squash_output", [False, True])
def test_state_dependent_noise_variants(tmp_path, use_expln, squash_output):
    policy_kwargs = dict(net_arch=[8], log_std_init=-1.0, use_expln=use_expln, squash_output=squash_output)
    env = IdentityEnvBox(low=-1.0, high=1.0, ep_length=10)
    model = REINFORCE("MlpPolicy", env, n_steps=10, use_sde=True, sde_sample_freq=2, policy_kwargs=policy_kwargs, seed=0)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(20)
    assert "train/std" in (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    actions, _ = model.predict(np.linspace(-1, 1, 8, dtype=np.float32).reshape(8, 1))
    assert np.all(np.abs(actions) <= 1.0)
    with pytest.raises(ValueError, match="gSDE"):
        REINFORCE("MlpPolicy", "CartPole-v1", use_sde=True)  # gSDE needs a Box action space
