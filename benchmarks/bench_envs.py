"""Measure environment steps per second through ``gym.make``, random actions, resets included.

Each run creates the env with ``gym.make`` (so Gymnasium's default wrappers are included:
``PassiveEnvChecker``, ``OrderEnforcing`` and, for Pixelcopter, ``TimeLimit``), resets it, and
steps it with uniformly random actions, resetting whenever an episode ends. The actions are drawn in
advance with numpy so that the figure measures the environment, not the action sampler; pass
``--sample-actions`` to call ``env.action_space.sample()`` every step instead, as a naive loop would.

Run it on one core, with nothing else busy, e.g.::

    taskset -c 0 python benchmarks/bench_envs.py
    python benchmarks/bench_envs.py --cpu 0 --repeats 7

It prints a Markdown table with the median (and min / max) over the repeats of the wall-clock rate,
and the median rate over the process's CPU time, which is the figure to compare on a machine shared
with other jobs (on an otherwise idle core the two agree).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import gymnasium as gym
import numpy as np

import sb3_reinforce.envs

# Steps per repeat: enough for a stable figure, short enough to keep the whole run under a minute.
DEFAULT_STEPS = {"Pixelcopter-PLE-v0": 300_000, "Pong-PLE-v0": 1_000_000}
TARGETS = {"Pixelcopter-PLE-v0": 60_000, "Pong-PLE-v0": 200_000}
# The originals (PLE + gym_pygame + pygame), measured on one core of the same class of machine.
ORIGINAL = {"Pixelcopter-PLE-v0": "5,000-7,000", "Pong-PLE-v0": "~37,000"}


def steps_per_second(env_id: str, n_steps: int, seed: int, sample_actions: bool) -> tuple[float, float, int]:
    """Time ``n_steps`` random-action steps of a fresh ``gym.make(env_id)``, resets included.

    :return: steps per wall-clock second, steps per CPU second, and the number of episodes that ended
    """
    env = gym.make(env_id)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = np.random.default_rng(seed).integers(env.action_space.n, size=n_steps).tolist()  # type: ignore[attr-defined]
    step, reset, sample = env.step, env.reset, env.action_space.sample
    episodes = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    if sample_actions:
        for _ in range(n_steps):
            _, _, terminated, truncated, _ = step(sample())
            if terminated or truncated:
                reset()
                episodes += 1
    else:
        for action in actions:
            _, _, terminated, truncated, _ = step(action)
            if terminated or truncated:
                reset()
                episodes += 1
    elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    env.close()
    return n_steps / elapsed, n_steps / elapsed_cpu, episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=list(DEFAULT_STEPS), help="env ids to measure")
    parser.add_argument("--repeats", type=int, default=5, help="runs per env; the median is reported")
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default: per-env)")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU core (Linux)")
    parser.add_argument("--sample-actions", action="store_true", help="use env.action_space.sample() every step")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    sb3_reinforce.envs.register_envs()

    machine = platform.processor() or platform.machine()
    print(f"Python {platform.python_version()}, gymnasium {gym.__version__}, numpy {np.__version__}, {machine}")
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "n/a"
    print(f"CPU affinity: {affinity}; actions: {'action_space.sample()' if args.sample_actions else 'pre-drawn'}\n")
    print("| env id | steps/s (median) | min | max | steps per CPU-s (median) | episodes per run | target | original |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for env_id in args.envs:
        n_steps = args.steps or DEFAULT_STEPS.get(env_id, 200_000)
        results = [steps_per_second(env_id, n_steps, seed, args.sample_actions) for seed in range(args.repeats)]
        rates = [rate for rate, _, _ in results]
        cpu_rate = statistics.median(rate for _, rate, _ in results)
        episodes = statistics.median(n for _, _, n in results)
        target = f"{TARGETS[env_id]:,}" if env_id in TARGETS else ""
        print(
            f"| {env_id} | {statistics.median(rates):,.0f} | {min(rates):,.0f} | {max(rates):,.0f} | {cpu_rate:,.0f} "
            f"| {episodes:,.0f} | {target} | {ORIGINAL.get(env_id, '')} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
