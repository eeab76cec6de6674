"""Cost of one ``predict()`` call: REINFORCE's against SB3's, on the zoo entries' policies.

What evaluations pay per env step (the zoo's ``EvalCallback``, ``enjoy``, the Hub's model card, the course's
``evaluate_agent``): one observation in, one action out. For each env id, the zoo entry's model is built as
``sb3-reinforce train`` builds it, then ``REINFORCE.predict`` and SB3's own ``predict`` (``BaseAlgorithm.predict``,
which builds a ``torch.distributions`` object per call) are timed on the same observation, alternating, one torch
thread, deterministic and sampled actions; the script prints the medians (microseconds per call) and the ratio::

    python benchmarks/predict_speed.py --env CartPole-v1 Pixelcopter-PLE-v0 --calls 5000 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial

import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_reinforce.zoo import register_reinforce


def per_call_us(function: Callable[[], object], calls: int) -> float:
    function()
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", nargs="+", default=["CartPole-v1", "Pixelcopter-PLE-v0"])
    parser.add_argument("--calls", type=int, default=5000, help="predict() calls per timing")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    th.set_num_threads(1)
    register_reinforce()
    from throughput import setup  # benchmarks/ is on sys.path when this script runs

    print("| env | actions | SB3 predict (µs/call) | REINFORCE predict (µs/call) | speed-up |")
    print("|---|---|---:|---:|---:|")
    for env_id in args.env:
        with tempfile.TemporaryDirectory() as log_folder:
            model = setup(env_id, 1, 0, log_folder)
            vec_env = model.get_env()
            assert vec_env is not None
            obs = vec_env.reset()[:1]  # a batch of one, as an evaluation on one env passes it
            vec_env.close()
        for deterministic in (True, False):
            ours, sb3 = [], []
            for _ in range(args.repeats):
                sb3.append(per_call_us(partial(BaseAlgorithm.predict, model, obs, deterministic=deterministic), args.calls))
                ours.append(per_call_us(partial(model.predict, obs, deterministic=deterministic), args.calls))
            kind = "deterministic" if deterministic else "sampled"
            sb3_us, ours_us = statistics.median(sb3), statistics.median(ours)
            print(f"| {env_id} | {kind} | {sb3_us:.0f} | {ours_us:.0f} | {sb3_us / ours_us:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
