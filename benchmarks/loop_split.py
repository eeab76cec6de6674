"""Where ``learn()``'s wall-clock time goes, per env step, timed part by part without a profiler.

``benchmarks/profile_split.py`` uses cProfile, which inflates Python-heavy parts more than torch's C++. This script
sets up the zoo entry of ``--env`` exactly as ``sb3-reinforce train`` does (see ``benchmarks/throughput.py``), wraps
the parts of one training step in plain ``perf_counter`` timers (in this process only: the VecEnv's ``step``, the
rollout sampler, the buffer's ``add`` and ``finalize``, the NaN guard, the observation's conversion to a tensor, SB3's
callback and info bookkeeping, and ``train``), runs ``learn(--steps)`` on one torch thread and prints each part in µs
per env step (one step of one env), next to the raw VecEnv stack stepped with random actions. Then it times the
update's forward and backward passes alone on the last batch, outside the loop: the compute no bookkeeping change can
remove.

Usage (the per-step figures of docs/throughput.md come from exactly this)::

    python benchmarks/loop_split.py --env Pixelcopter-PLE-v0 --steps 200000
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch as th
from gymnasium import spaces
from rl_zoo3.utils import StoreDict
from throughput import raw_throughput, setup

import sb3_reinforce.reinforce.reinforce as reinforce_module
from sb3_reinforce.common.sampling import RolloutSampler
from sb3_reinforce.zoo import register_reinforce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Pixelcopter-PLE-v0")
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "-params", "--hyperparams", nargs="+", action=StoreDict, default=None, help="override zoo hyperparameters (key:value)"
    )
    args = parser.parse_args()
    register_reinforce()
    th.set_num_threads(1)
    seconds: collections.Counter[str] = collections.Counter()

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*call_args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*call_args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - start

        return wrapper

    with tempfile.TemporaryDirectory() as log_folder:
        model = setup(args.env, args.steps, args.seed, log_folder, args.hyperparams)
        env = model.get_env()
        assert env is not None
        # The wrappers live in this benchmark process only; the module-level names are put back afterwards.
        saved = (reinforce_module._check_finite, reinforce_module.obs_as_tensor, RolloutSampler.__call__)
        reinforce_module._check_finite = timed("NaN guard", reinforce_module._check_finite)
        reinforce_module.obs_as_tensor = timed("observation to tensor", reinforce_module.obs_as_tensor)
        RolloutSampler.__call__ = timed("rollout forward pass and sample", RolloutSampler.__call__)  # type: ignore[method-assign]
        env.step = timed("VecEnv stack (env.step)", env.step)  # type: ignore[method-assign]
        model._update_info_buffer = timed("SB3 info buffer", model._update_info_buffer)  # type: ignore[method-assign]
        model.train = timed("gradient update (train)", model.train)  # type: ignore[method-assign]
        setup_learn = model._setup_learn

        def timed_setup_learn(*call_args: Any, **kwargs: Any) -> Any:
            total_timesteps, callback = setup_learn(*call_args, **kwargs)
            buffer = model.rollout_buffer
            buffer.add = timed("buffer add", buffer.add)  # type: ignore[method-assign]
            buffer.finalize = timed("buffer finalize", buffer.finalize)  # type: ignore[method-assign]
            callback.update_locals = timed("SB3 callbacks", callback.update_locals)  # type: ignore[method-assign]
            callback.on_step = timed("SB3 callbacks", callback.on_step)  # type: ignore[method-assign]
            return total_timesteps, callback

        model._setup_learn = timed_setup_learn  # type: ignore[method-assign]
        try:
            start = time.perf_counter()
            model.learn(args.steps)
            total = time.perf_counter() - start
        finally:
            reinforce_module._check_finite, reinforce_module.obs_as_tensor, RolloutSampler.__call__ = saved  # type: ignore[method-assign]

        # The update's own compute on the last batch, outside the loop (empty when the budget ended the last rollout
        # before any of its episodes did).
        policy, buffer = model.policy, model.rollout_buffer
        update_compute = None
        if buffer.size() > 0:
            batch = next(buffer.get())
            discrete = isinstance(model.action_space, spaces.Discrete)  # as train() does
            actions = batch.actions.long().flatten() if discrete else batch.actions
            repeats = 20
            start = time.perf_counter()
            for _ in range(repeats):
                policy.optimizer.zero_grad()
                log_prob = policy.get_distribution(batch.observations).log_prob(actions)
                (-(log_prob * batch.returns).mean()).backward()
            update_compute = (time.perf_counter() - start) / repeats / buffer.size()
            policy.optimizer.zero_grad()
        env.close()

    raw_steps_per_second, _ = raw_throughput(args.env, args.steps, args.seed, args.hyperparams)
    steps = model.num_timesteps
    print(f"\n{args.env}: learn({args.steps:,}) at {steps / total:,.0f} env steps/s; raw VecEnv {raw_steps_per_second:,.0f}")
    print("\n| part | µs per env step | share of learn() |\n|---|---:|---:|")
    for name, value in seconds.most_common():
        print(f"| {name} | {value / steps * 1e6:.2f} | {value / total:.0%} |")
    accounted = sum(seconds.values())
    rest = total - accounted
    print(f"| the rest (the loop's own statements, logging) | {rest / steps * 1e6:.2f} | {rest / total:.0%} |")
    print(f"| **learn()** | {total / steps * 1e6:.2f} | 100% |")
    print(f"| raw VecEnv stack, random actions | {1e6 / raw_steps_per_second:.2f} | |")
    if update_compute is None:
        print("\nThe last rollout holds no complete episode (the budget ended it first): try another --steps")
    else:
        print(f"\nThe update's forward and backward passes alone, on its last batch ({buffer.size()} transitions):")
        print(f"{update_compute * 1e6:.2f} µs per transition, outside the loop")


if __name__ == "__main__":
    main()
