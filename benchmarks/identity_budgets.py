"""Step budgets on Stable-Baselines3's identity tasks (its tests/test_identity.py): A2C's, and what REINFORCE needs.

SB3 2.9.2's test_identity.py trains A2C for 1,200 steps on the discrete identity tasks and 2,000 on the continuous one
(100-step episodes), then asks for a mean reward above 90 over 20 evaluation episodes. A2C updates every 5 steps (240
and 400 updates); REINFORCE updates once per complete episode (12 and 20 updates on the same budgets). This script runs
SB3's settings (gamma, learning rate, network) for each seed of ``--seeds``: A2C at its budget, and REINFORCE (one
episode per update, ``n_steps=100``, otherwise its defaults) at A2C's budget, then at each larger budget of
``--budgets`` until every seed passes (or the budgets run out). It prints a Markdown table; the README's "Differences
from A2C" comes from exactly this::

    python benchmarks/identity_budgets.py --seeds 0 1 2 3 4
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
DISCRETE_KWARGS: dict[str, Any] = dict(gamma=0.4, learning_rate=0.002)

# task: (env factory, A2C's budget in SB3's test, keyword arguments SB3's test passes to A2C)
TASKS: dict[str, tuple[Callable[[], gym.Env], int, dict[str, Any]]] = {
    "Discrete(4)": (lambda: IdentityEnv(4), 1_200, DISCRETE_KWARGS),
    "MultiDiscrete([4, 4])": (lambda: IdentityEnvMultiDiscrete(4), 1_200, DISCRETE_KWARGS),
    "MultiBinary(4)": (lambda: IdentityEnvMultiBinary(4), 1_200, DISCRETE_KWARGS),
    "Box(-1, 1, (1,))": (
        lambda: IdentityEnvBox(eps=0.5),
        2_000,
        dict(learning_rate=1e-3, gamma=0.95, policy_kwargs=dict(net_arch=[64, 64], log_std_init=-0.5)),
    ),
}


def scores(
    algo: type[BaseAlgorithm], make_env: Callable[[], gym.Env], budget: int, seeds: list[int], **kwargs: Any
) -> tuple[str, bool]:
    """Train one model per seed on ``budget`` steps, evaluate each on 20 deterministic episodes; summarize."""
    means, updates = [], 0
    for seed in seeds:
        env = DummyVecEnv([make_env])
        model = algo("MlpPolicy", env, seed=seed, **kwargs).learn(budget)
        means.append(float(evaluate_policy(model, env, n_eval_episodes=20, warn=False)[0]))
        updates = int(model._n_updates)
    passed = sum(mean > THRESHOLD for mean in means)
    summary = (
        f"{budget:,} steps, {updates} updates: {passed}/{len(seeds)} pass (mean rewards {min(means):.0f}-{max(means):.0f})"
    )
    return summary, passed == len(seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--budgets", type=int, nargs="+", default=[2_000, 5_000, 10_000, 20_000])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    args = parser.parse_args()
    th.set_num_threads(1)

    print("| task | A2C at SB3's budget | REINFORCE at A2C's budget | REINFORCE at larger budgets, until all seeds pass |")
    print("|---|---|---|---|")
    for name in args.tasks:
        make_env, a2c_budget, kwargs = TASKS[name]
        a2c, _ = scores(A2C, make_env, a2c_budget, args.seeds, **kwargs)
        same, all_pass = scores(REINFORCE, make_env, a2c_budget, args.seeds, n_steps=100, **kwargs)
        larger = []
        for budget in sorted(args.budgets):
            if budget > a2c_budget and not all_pass:
                summary, all_pass = scores(REINFORCE, make_env, budget, args.seeds, n_steps=100, **kwargs)
                larger.append(summary)
        print(f"| {name} | {a2c} | {same} | {'; '.join(larger) or '-'} |", flush=True)


if __name__ == "__main__":
    main()
