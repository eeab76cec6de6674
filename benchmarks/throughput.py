"""Training throughput of the zoo entries against the raw throughput of the same VecEnv stack.

For each env id, rl_zoo3's experiment manager (with our ``reinforce.yml``, exactly as ``sb3-reinforce train`` builds it:
``n_envs``, Monitor files, VecNormalize, network) is set up twice per repeat, in one process on one torch thread:

- **train**: ``learn(steps)`` of the zoo entry (no periodic evaluation), env steps per second;
- **raw**: the same VecEnv stack stepped ``steps`` times with uniformly random actions drawn beforehand.

The two alternate within each repeat, so that a change in the machine's load hits both alike; the script prints the
medians and the ratio train / raw (how much of the environment's speed the training loop keeps), in steps per second
of wall-clock time and in steps per CPU-second of this process (one thread: the same on an idle machine, and much
steadier than wall-clock time on a shared one).

Usage (the README's throughput table comes from exactly this)::

    python benchmarks/throughput.py --env CartPole-v1 Pixelcopter-PLE-v0 --steps 200000 --repeats 3

``--threads 1 2`` measures training at each torch thread count (alternating within each repeat), and ``--busy N`` keeps N
other processes spinning meanwhile (a shared machine), which is how the CLI's default thread count was chosen::

    python benchmarks/throughput.py --env CartPole-v1 Pixelcopter-PLE-v0 --steps 100000 --threads 1 2 --busy 0
    python benchmarks/throughput.py --env CartPole-v1 Pixelcopter-PLE-v0 --steps 100000 --threads 1 2 --busy 1
    python benchmarks/throughput.py --env PongNoFrameskip-v4 --steps 10000 --threads 1 2 --busy 0 --no-raw
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from rl_zoo3.utils import StoreDict
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_reinforce.zoo import ReinforceExperimentManager, hyperparams_path, register_reinforce


def setup(
    env_id: str, steps: int, seed: int, log_folder: str, params: dict[str, Any] | None = None, vec_env: str = "dummy"
) -> BaseAlgorithm:
    """:return: The zoo's model for ``env_id`` (its env is the zoo's VecEnv stack), as ``sb3-reinforce train`` makes it"""
    manager = ReinforceExperimentManager(
        argparse.Namespace(),
        "reinforce",
        env_id,
        log_folder,
        n_timesteps=steps,
        eval_freq=-1,
        seed=seed,
        verbose=0,
        log_interval=-1,
        config=str(hyperparams_path()),
        hyperparams=params,
        vec_env_type=vec_env,
    )
    result = manager.setup_experiment()
    assert result is not None
    model, _ = result
    model.set_random_seed(seed)
    return model


def train_throughput(
    env_id: str, steps: int, seed: int, params: dict[str, Any] | None, vec_env: str = "dummy"
) -> tuple[float, float]:
    """:return: Env steps per wall-clock second and per CPU-second (of this process) of ``learn(steps)``"""
    with tempfile.TemporaryDirectory() as log_folder:
        model = setup(env_id, steps, seed, log_folder, params, vec_env)
        wall, cpu = time.perf_counter(), time.process_time()
        model.learn(steps)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert model.get_env() is not None
        model.get_env().close()  # type: ignore[union-attr]
    return model.num_timesteps / wall, model.num_timesteps / cpu


def raw_throughput(
    env_id: str, steps: int, seed: int, params: dict[str, Any] | None, vec_env: str = "dummy"
) -> tuple[float, float]:
    """:return: Env steps per wall-clock second and per CPU-second (of this process) of the VecEnv stack, random actions"""
    with tempfile.TemporaryDirectory() as log_folder:
        env = setup(env_id, steps, seed, log_folder, params, vec_env).get_env()
        assert env is not None
        env.action_space.seed(seed)
        n_steps = steps // env.num_envs
        actions = [np.array([env.action_space.sample() for _ in range(env.num_envs)]) for _ in range(n_steps)]
        env.reset()
        rates = step_rates(env.step, actions, env.num_envs)
        env.close()
    return rates


def step_rates(step: Any, actions: Any, n_envs: int) -> tuple[float, float]:
    """:return: Env steps per wall-clock second and per CPU-second of calling ``step`` on each batch of ``actions``"""
    wall, cpu = time.perf_counter(), time.process_time()
    for action in actions:
        step(action)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(actions) * n_envs / wall, len(actions) * n_envs / cpu


def _spin() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", nargs="+", default=["CartPole-v1", "Pixelcopter-PLE-v0"])
    parser.add_argument("--steps", type=int, default=200_000, help="env steps per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--threads", type=int, nargs="+", default=[1], help="torch thread counts to train with")
    parser.add_argument("--busy", type=int, default=0, help="other processes kept busy during the measurements")
    parser.add_argument("--no-raw", action="store_true", help="only measure training")
    parser.add_argument(
        "--vec-env",
        choices=["dummy", "subproc"],
        default="dummy",
        help="the zoo's --vec-env: subproc steps the envs in worker processes (CPU-s then count this process only)",
    )
    parser.add_argument(
        "-params", "--hyperparams", nargs="+", action=StoreDict, default=None, help="override zoo hyperparameters (key:value)"
    )
    args = parser.parse_args()

    register_reinforce()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for spinner in spinners:
        spinner.start()
    sides = [f"train_{n}" for n in args.threads] + ([] if args.no_raw else ["raw"])
    results: dict[str, Any] = {}
    try:
        for env_id in args.env:
            runs: dict[str, list[float]] = {f"{side}_{unit}": [] for side in sides for unit in ("wall", "cpu")}
            for repeat in range(args.repeats):
                for side in sides:
                    th.set_num_threads(int(side.split("_")[1]) if side != "raw" else 1)
                    measure = raw_throughput if side == "raw" else train_throughput
                    wall, cpu = measure(env_id, args.steps, args.seed + repeat, args.hyperparams, args.vec_env)
                    runs[f"{side}_wall"].append(wall)
                    runs[f"{side}_cpu"].append(cpu)
                    print(f"{env_id} repeat {repeat} {side}: {wall:,.0f} steps/s, {cpu:,.0f} steps per CPU-s", flush=True)
            results[env_id] = runs
    finally:
        for spinner in spinners:
            spinner.kill()

    median = statistics.median
    print(f"\nMedians of {args.repeats}, {args.steps:,} steps each, {args.vec_env} VecEnv, {args.busy} busy processes:\n")
    print("| env | measured | torch threads | steps/s | steps per CPU-s | vs raw (wall) | vs raw (CPU) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for env_id, runs in results.items():
        raw_wall = median(runs["raw_wall"]) if "raw_wall" in runs else None
        raw_cpu = median(runs["raw_cpu"]) if "raw_cpu" in runs else None
        for side in sides:
            wall, cpu = median(runs[f"{side}_wall"]), median(runs[f"{side}_cpu"])
            what, threads = ("raw VecEnv", "-") if side == "raw" else ("train", side.split("_")[1])
            ratio_wall = f"{wall / raw_wall:.0%}" if raw_wall else "-"
            ratio_cpu = f"{cpu / raw_cpu:.0%}" if raw_cpu else "-"
            print(f"| {env_id} | {what} | {threads} | {wall:,.0f} | {cpu:,.0f} | {ratio_wall} | {ratio_cpu} |")
    if args.out:
        settings = {"steps": args.steps, "repeats": args.repeats, "threads": args.threads, "busy": args.busy}
        args.out.write_text(json.dumps({**settings, "results": results}, indent=2))


if __name__ == "__main__":
    main()
