"""Step budgets on Stable-Baselines3's identity tasks (its tests/test_identity.py): A2C's, and what REINFORCE needs.

SB3 2.9.2's test_identity.py trains A2C for 1,200 steps on the discrete identity tasks and 2,000 on the continuous one
(100-step episodes), then asks for a mean reward above 90 over 20 evaluation episodes. A2C updates every 5 steps (240
and 400 updates); REINFORCE updates once per complete episode (12 and 20 updates on the same budgets). This script runs
SB3's settings (seed, gamma, learning rate, network) with A2C at its budget, and with REINFORCE (one episode per update,
``n_steps=100``, otherwise its defaults) at A2C's budget and at each budget of ``--budgets`` until one passes.
It prints a Markdown table (the README's "Differences from A2C" comes from exactly this)::

    python benchmarks/identity_budgets.py
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import torch as th
from stable_baselines3 import A2C
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.envs import IdentityEnv, IdentityEnvBox, IdentityEnvMultiBinary, IdentityEnvMultiDiscrete
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_reinforce import REINFORCE

THRESHOLD = 90.0
DISCRETE_KWARGS: dict[str, Any] = dict(gamma=0.4, learning_rate=0.002, seed=3)

# task: (env factory, A2C's budget in SB3's test, keyword arguments SB3's test passes to A2C)
TASKS: dict[str, tuple[Callable[[], gym.Env], int, dict[str, Any]]] = {
    "Discrete(4)": (lambda: IdentityEnv(4), 1_200, DISCRETE_KWARGS),
    "MultiDiscrete([4, 4])": (lambda: IdentityEnvMultiDiscrete(4), 1_200, DISCRETE_KWARGS),
    "MultiBinary(4)": (lambda: IdentityEnvMultiBinary(4), 1_200, DISCRETE_KWARGS),
    "Box(-1, 1, (1,))": (
        lambda: IdentityEnvBox(eps=0.5),
        2_000,
        dict(learning_rate=1e-3, gamma=0.95, seed=0, policy_kwargs=dict(net_arch=[64, 64], log_std_init=-0.5)),
    ),
}


def score(algo: type[BaseAlgorithm], make_env: Callable[[], gym.Env], budget: int, **kwargs: Any) -> tuple[float, int]:
    """Train on ``budget`` steps; return the mean reward over 20 deterministic evaluation episodes and the updates made."""
    env = DummyVecEnv([make_env])
    model = algo("MlpPolicy", env, **kwargs).learn(budget)
    mean, _ = evaluate_policy(model, env, n_eval_episodes=20, warn=False)
    return float(mean), int(model._n_updates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[2_000, 5_000, 10_000, 20_000])
    args = parser.parse_args()
    th.set_num_threads(1)

    print("| task | A2C (SB3's budget) | REINFORCE, same budget | REINFORCE, smallest passing budget of --budgets |")
    print("|---|---|---|---|")
    for name, (make_env, a2c_budget, kwargs) in TASKS.items():
        a2c_mean, a2c_updates = score(A2C, make_env, a2c_budget, **kwargs)
        same_mean, same_updates = score(REINFORCE, make_env, a2c_budget, n_steps=100, **kwargs)
        passing = "-"
        if same_mean > THRESHOLD:
            passing = f"{a2c_budget:,} steps: {same_mean:.1f} ({same_updates} updates)"
        else:
            for budget in (b for b in sorted(args.budgets) if b > a2c_budget):
                mean, updates = score(REINFORCE, make_env, budget, n_steps=100, **kwargs)
                if mean > THRESHOLD:
                    passing = f"{budget:,} steps: {mean:.1f} ({updates} updates)"
                    break
        print(
            f"| {name} | {a2c_budget:,} steps: {a2c_mean:.1f} ({a2c_updates} updates) "
            f"| {same_mean:.1f} ({same_updates} updates) | {passing} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
