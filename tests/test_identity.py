"""REINFORCE learns SB3's identity tasks on every action space (fixed seed, step budget).

SB3's own test_identity.py gives A2C 1,200-2,000 steps of 100-step episodes (240-400 updates of 5 steps). REINFORCE
updates once per complete episode, so these tests use 10-step episodes (30-60 updates): the budgets here are REINFORCE's.
See the README's "Differences from A2C" and benchmarks/identity_budgets.py for SB3's exact settings.
"""

import pytest
from stable_baselines3.common.envs import IdentityEnv, IdentityEnvBox, IdentityEnvMultiBinary, IdentityEnvMultiDiscrete
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE

EP_LENGTH = 10
# The reward depends on the current action only: with gamma=0 each action's return is its own reward.
DISCRETE = dict(gamma=0.0, learning_rate=0.01)


@pytest.mark.parametrize(
    ("make_env", "budget", "kwargs"),
    [
        (lambda: IdentityEnv(4, ep_length=EP_LENGTH), 300, DISCRETE),
        (lambda: IdentityEnvMultiDiscrete(4, ep_length=EP_LENGTH), 600, DISCRETE),
        (lambda: IdentityEnvMultiBinary(2, ep_length=EP_LENGTH), 600, DISCRETE),
        (
            lambda: IdentityEnvBox(eps=0.5, ep_length=EP_LENGTH),
            500,
            dict(gamma=0.0, learning_rate=1e-3, policy_kwargs=dict(net_arch=[64, 64], log_std_init=-0.5)),
        ),
    ],
    ids=["Discrete", "MultiDiscrete", "MultiBinary", "Box"],
)
def test_identity(make_env, budget, kwargs):
    env = DummyVecEnv([make_env])
    # (Seeds 0-7 all pass these budgets: the margin is not one seed's luck.)
    model = REINFORCE("MlpPolicy", env, n_steps=EP_LENGTH, seed=1, **kwargs).learn(budget)
    assert model._n_updates == budget // EP_LENGTH  # one update per episode
    evaluate_policy(model, env, n_eval_episodes=20, reward_threshold=0.9 * EP_LENGTH, warn=False)
    obs = env.reset()
    assert model.predict(obs)[0].shape == (1, *model.action_space.shape)
