"""Atari Pong training throughput: REINFORCE (our ``atari`` zoo entry) against SB3 A2C (RL Zoo's ``atari`` entry).

Both train on ``PongNoFrameskip-v4`` with the zoo's Atari pipeline (``AtariWrapper``, 4 stacked frames,
``CnnPolicy``) and their own zoo settings (n_envs, optimizer, ...), for the same number of env steps, in one
process, alternating algorithm by repeat so that a change in the machine's load hits both alike. It prints
env steps per second of training (environment stepping included) and the ratio.

Usage (the README's Atari figures come from exactly this)::

    python benchmarks/atari_throughput.py --steps 20000 --repeats 3 --device cpu
    python benchmarks/atari_throughput.py --steps 200000 --repeats 3 --device cuda   # on a GPU machine

Needs the ``atari`` extra: ``pip install "sb3-reinforce[atari]"``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import ale_py
import gymnasium as gym
import rl_zoo3
import torch as th
import yaml
from rl_zoo3.utils import StoreDict, linear_schedule
from stable_baselines3 import A2C
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.vec_env import VecFrameStack

from sb3_reinforce import REINFORCE

ENV_ID = "PongNoFrameskip-v4"
OURS = Path(__file__).resolve().parents[1] / "hyperparams" / "reinforce.yml"
ZOO_A2C = Path(rl_zoo3.__file__).parent / "hyperparams" / "a2c.yml"


def atari_settings(path: Path) -> dict[str, Any]:
    """The ``atari`` entry of a zoo file, with schedules and ``policy_kwargs`` turned into objects."""
    settings = dict(yaml.safe_load(path.read_text())["atari"])
    for key in ("env_wrapper", "frame_stack", "n_timesteps"):
        settings.pop(key, None)
    for key, value in list(settings.items()):
        if isinstance(value, str) and value.startswith("lin_"):
            settings[key] = linear_schedule(float(value[4:]))
    if isinstance(settings.get("policy_kwargs"), str):
        settings["policy_kwargs"] = eval(settings["policy_kwargs"], {"dict": dict, "RMSpropTFLike": RMSpropTFLike})
    return settings


def measure(algo_class: type[BaseAlgorithm], settings: dict[str, Any], steps: int, seed: int, device: str) -> float:
    """:return: Env steps per second of ``learn(steps)`` (model and env creation excluded)"""
    settings = dict(settings)
    n_envs = int(settings.pop("n_envs"))
    policy = settings.pop("policy")
    env = VecFrameStack(make_atari_env(ENV_ID, n_envs=n_envs, seed=seed), n_stack=4)
    model = algo_class(policy, env, seed=seed, device=device, **settings)
    start = time.perf_counter()
    model.learn(steps)
    elapsed = time.perf_counter() - start
    env.close()
    return model.num_timesteps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20_000, help="Env steps per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument(
        "--reinforce-params", nargs="+", action=StoreDict, default={}, help="override REINFORCE's settings (key:value)"
    )
    args = parser.parse_args()

    gym.register_envs(ale_py)
    if args.threads:
        th.set_num_threads(args.threads)
    algos = {
        "REINFORCE": (REINFORCE, {**atari_settings(OURS), **args.reinforce_params}),
        "A2C (zoo)": (A2C, atari_settings(ZOO_A2C)),
    }
    rates: dict[str, list[float]] = {name: [] for name in algos}
    for repeat in range(args.repeats):
        for name, (algo_class, settings) in algos.items():
            rate = measure(algo_class, settings, args.steps, seed=repeat, device=args.device)
            rates[name].append(rate)
            print(json.dumps({"algorithm": name, "repeat": repeat, "steps_per_second": round(rate, 1)}), flush=True)

    device = th.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or platform.machine()
    print(
        f"\n{ENV_ID}, {args.steps} env steps per run, {args.repeats} runs, device {args.device} ({device}), "
        f"torch {th.__version__}, {th.get_num_threads()} threads"
    )
    print("| algorithm | env steps/s (median) | min | max | vs A2C |")
    print("|---|---:|---:|---:|---:|")
    a2c = statistics.median(rates["A2C (zoo)"])
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"| {name} | {median:,.0f} | {min(values):,.0f} | {max(values):,.0f} | {median / a2c:.2f}x |")


if __name__ == "__main__":
    main()
