"""Where a zoo training run spends its time: cProfile of ``learn()`` split into the parts of one training step.

Sets up the zoo entry of ``--env`` exactly as ``sb3-reinforce train`` does (see ``benchmarks/throughput.py``), runs
``learn(--steps)`` under cProfile on one torch thread, and prints the cumulative time of each part as a share of the
whole: the VecEnv stack (``VecEnv.step``: wrappers, Monitor, normalization), the game itself (the env class's
``step``), the policy during rollouts (SB3's ``get_distribution`` + ``get_actions``, or our sampler), the
rollout buffer, and the gradient updates (``train``). cProfile inflates Python-heavy code more than torch's C++:
read the split, not the absolute seconds (``benchmarks/throughput.py`` measures speed).

Usage (the table in docs/throughput.md comes from exactly this, once with each version of the code)::

    python benchmarks/profile_split.py --env Pixelcopter-PLE-v0 --steps 100000
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
from collections.abc import Callable
from typing import Any

import torch as th

from sb3_reinforce.zoo import register_reinforce

Key = tuple[str, int, str]
Match = Callable[[Key], bool]


def _is(func: str, file_end: str) -> Match:
    """:return: Whether a cProfile key is the function ``func`` of a file whose path ends with ``file_end``"""
    return lambda key: key[2] == func and key[0].endswith(file_end)


# (label, which functions, called by which function): the time of a part is the cumulative time of those calls.
PARTS = [
    ("VecEnv stack (VecEnv.step)", [_is("step", "vec_env/base_vec_env.py")], _is("collect_rollouts", "reinforce.py")),
    ("  of which the game (env.step)", [_is("step", "envs/pixelcopter.py"), _is("step", "envs/pong_ple.py")], None),
    (
        "policy in the rollout",
        [
            _is("get_distribution", "policies.py"),
            _is("get_actions", "distributions.py"),
            _is("sample_actions", "sampling.py"),
            _is("__call__", "sampling.py"),  # RolloutSampler
        ],
        _is("collect_rollouts", "reinforce.py"),
    ),
    ("rollout buffer (add, finalize)", [_is("add", "buffers.py"), _is("finalize", "buffers.py")], None),
    ("gradient updates (train)", [_is("train", "reinforce.py")], None),
]


def part_seconds(stats: dict[Key, Any], functions: list[Match], caller: Match | None) -> float:
    """Cumulative seconds of the calls to ``functions`` (only those made by ``caller``, if given)."""
    seconds = 0.0
    for key, (_, _, _, cumulative, callers) in stats.items():
        if any(match(key) for match in functions):
            if caller is None:
                seconds += cumulative
            else:
                seconds += sum(edge[3] for caller_key, edge in callers.items() if caller(caller_key))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Pixelcopter-PLE-v0")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    # Imported here so that the script can profile any checkout of the code put first on PYTHONPATH.
    from throughput import setup

    th.set_num_threads(1)
    register_reinforce()
    with tempfile.TemporaryDirectory() as log_folder:
        model = setup(args.env, args.steps, args.seed, log_folder)
        profiler = cProfile.Profile()
        profiler.enable()
        model.learn(args.steps)
        profiler.disable()

    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = part_seconds(stats, [_is("learn", "on_policy_algorithm.py")], None)
    print(f"\n{args.env}, {args.steps:,} steps under cProfile: learn() {total:.1f} s\n")
    print("| part | seconds | share of learn() |")
    print("|---|---:|---:|")
    for label, functions, caller in PARTS:
        seconds = part_seconds(stats, functions, caller)
        print(f"| {label} | {seconds:.1f} | {seconds / total:.0%} |")


if __name__ == "__main__":
    main()
