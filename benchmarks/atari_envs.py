"""Raw speed of two Atari Pong pipelines with the same preprocessing, stepped with uniformly random actions.

- **SB3**: ``make_atari_env`` (``AtariWrapper``: 30 no-op starts, frame skip 4 with max-pooling of the last two frames,
  84x84 grayscale, reward clipping, fire on reset, end of life as end of episode) + ``VecFrameStack(4)`` over a
  ``DummyVecEnv``: what the zoo builds for our ``atari`` entry;
- **ale-py**: ``ale_py.vector_env.AtariVectorEnv`` (the same steps in C++, with its own worker threads), configured to
  match (``episodic_life=True``, same-step autoreset as SB3's VecEnvs).

The two alternate within each repeat, so that a change in the machine's load hits both alike. Env steps per second of
wall-clock time and per CPU-second of this process (ale-py's threads included)::

    python benchmarks/atari_envs.py --n-envs 8 --steps 20000 --repeats 3 --threads 1
"""

from __future__ import annotations

import argparse
import statistics

import ale_py
import gymnasium as gym
import numpy as np
from ale_py.vector_env import AtariVectorEnv
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import VecFrameStack
from throughput import step_rates


def sb3_pipeline(n_envs: int, steps: int, seed: int) -> tuple[float, float]:
    env = VecFrameStack(make_atari_env("PongNoFrameskip-v4", n_envs=n_envs, seed=seed), n_stack=4)
    actions = np.random.default_rng(seed).integers(0, env.action_space.n, (steps // n_envs, n_envs))  # type: ignore[attr-defined]
    env.reset()
    rates = step_rates(env.step, actions, n_envs)
    env.close()
    return rates


def ale_pipeline(n_envs: int, steps: int, seed: int, threads: int) -> tuple[float, float]:
    env = AtariVectorEnv("pong", n_envs, num_threads=threads, episodic_life=True, autoreset_mode="SameStep")
    actions = np.random.default_rng(seed).integers(0, env.single_action_space.n, (steps // n_envs, n_envs))
    env.reset(seed=seed)
    rates = step_rates(env.step, actions, n_envs)
    env.close()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="ale-py worker threads")
    args = parser.parse_args()

    gym.register_envs(ale_py)
    rates: dict[str, list[tuple[float, float]]] = {"SB3 AtariWrapper + VecFrameStack": [], "ale-py AtariVectorEnv": []}
    for repeat in range(args.repeats):
        rates["SB3 AtariWrapper + VecFrameStack"].append(sb3_pipeline(args.n_envs, args.steps, repeat))
        rates["ale-py AtariVectorEnv"].append(ale_pipeline(args.n_envs, args.steps, repeat, args.threads))
        print({name: [round(wall) for wall, _ in values] for name, values in rates.items()}, flush=True)

    settings = f"{args.n_envs} envs, {args.steps:,} steps per run, medians of {args.repeats}, ale-py threads: {args.threads}"
    print(f"\nPong, {settings}")
    print("| pipeline | env steps/s | env steps per CPU-s |")
    print("|---|---:|---:|")
    for name, values in rates.items():
        wall = statistics.median(value[0] for value in values)
        cpu = statistics.median(value[1] for value in values)
        print(f"| {name} | {wall:,.0f} | {cpu:,.0f} |")


if __name__ == "__main__":
    main()
