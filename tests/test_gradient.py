"""The REINFORCE update matches the analytic policy gradient on problems where it is known."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env

from sb3_reinforce import REINFORCE

REWARDS = np.array([1.0, 0.0, 0.5])
LOGITS = th.tensor([0.5, -0.5, 0.0])


class Bandit(gym.Env):
    """One-step episodes, a constant zero observation, and a deterministic reward per arm."""

    observation_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = spaces.Discrete(len(REWARDS))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(1, dtype=np.float32), float(REWARDS[int(action)]), True, False, {}


class TwoStepChain(gym.Env):
    """Two decisions; only the second one is rewarded (1 for action 0)."""

    observation_space = spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        reward = float(action == 0) if self.t == 2 else 0.0
        return np.zeros(1, dtype=np.float32), reward, self.t == 2, False, {}


def estimate_logit_gradient(
    env_class: type[gym.Env], n_transitions: int, baseline: str, gamma: float = 1.0, seed: int = 0
) -> th.Tensor:
    """One REINFORCE update with plain SGD (lr 1): the change of the output bias is the gradient estimate for the logits."""
    model = REINFORCE(
        "MlpPolicy",
        make_vec_env(env_class, n_envs=4, seed=seed),
        learning_rate=1.0,
        n_steps=n_transitions // 4,
        gamma=gamma,
        baseline=baseline,
        normalize_advantage=False,
        max_grad_norm=float("inf"),
        policy_kwargs=dict(net_arch=[8], optimizer_class=th.optim.SGD, optimizer_kwargs={}),
        seed=seed,
    )
    action_bias = model.policy.action_net.bias
    n_actions = action_bias.shape[0]
    with th.no_grad():
        # With a zero observation (and zero hidden biases) the logits are exactly this bias.
        action_bias.copy_(LOGITS[:n_actions])
    before = action_bias.detach().clone()
    model.learn(n_transitions)
    assert model._n_updates == 1
    return action_bias.detach() - before


@pytest.mark.parametrize("baseline", ["none", "mean"])
def test_bandit_matches_analytic_gradient(baseline):
    # J = sum_a pi_a r_a, so dJ/dtheta_k = pi_k (r_k - J) for softmax logits theta.
    probs = th.softmax(LOGITS, dim=0).numpy()
    expected = probs * (REWARDS - probs @ REWARDS)
    estimate = estimate_logit_gradient(Bandit, 20_000, baseline).numpy()
    # Per-sample std of r_a (e_a - pi)_k is below 0.5: 20k samples give a standard error below 0.004.
    np.testing.assert_allclose(estimate, expected, atol=0.015)
    assert np.sign(estimate[0]) == 1 and np.sign(estimate[1]) == -1


def test_two_step_chain_discounts_from_each_step():
    # G_2 = r_2 and G_1 = gamma r_2. The first action does not change r_2, so only step 2 contributes in expectation:
    # pi_0 (e_0 - pi) per episode, halved by the mean over its 2 transitions. Discounting from the episode start
    # instead of from each step would give gamma times that.
    probs = th.softmax(LOGITS[:2], dim=0).numpy()
    expected = probs[0] * (np.array([1.0, 0.0]) - probs) / 2
    estimate = estimate_logit_gradient(TwoStepChain, 20_000, "none", gamma=0.5).numpy()
    np.testing.assert_allclose(estimate, expected, atol=0.01)
