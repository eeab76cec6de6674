"""Score of a uniform-random policy on the PLE ports: mean and standard deviation over N episodes.

Episode ``i`` starts with ``env.reset(seed=i)`` and picks actions with
``numpy.random.default_rng(10_000 + i)``, so the figures are reproducible::

    python benchmarks/random_policy_scores.py --episodes 100
"""

from __future__ import annotations

import argparse
import statistics

import gymnasium as gym
import numpy as np

import sb3_reinforce.envs


def random_episode(env: gym.Env, seed: int) -> tuple[float, int]:
    """Play one episode with uniformly random actions; return its return and length."""
    env.reset(seed=seed)
    rng = np.random.default_rng(10_000 + seed)
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    total, length, done = 0.0, 0, False
    while not done:
        _, reward, terminated, truncated, _ = env.step(int(rng.integers(n_actions)))
        total += float(reward)
        length += 1
        done = terminated or truncated
    return total, length


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=["Pixelcopter-PLE-v0", "Pong-PLE-v0"])
    parser.add_argument("--episodes", type=int, default=100)
    args = parser.parse_args()
    sb3_reinforce.envs.register_envs()

    print("| env id | episodes | return (mean ± std) | min / max return | episode length (mean ± std) |")
    print("|---|---:|---:|---:|---:|")
    for env_id in args.envs:
        env = gym.make(env_id)
        results = [random_episode(env, seed) for seed in range(args.episodes)]
        env.close()
        returns = [r for r, _ in results]
        lengths = [n for _, n in results]
        print(
            f"| {env_id} | {args.episodes} | {statistics.fmean(returns):.2f} ± {statistics.pstdev(returns):.2f} "
            f"| {min(returns):g} / {max(returns):g} "
            f"| {statistics.fmean(lengths):.1f} ± {statistics.pstdev(lengths):.1f} |"
        )


if __name__ == "__main__":
    main()
