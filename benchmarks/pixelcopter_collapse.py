"""Does the start of a Pixelcopter run collapse onto "do nothing"? Short zoo runs on many seeds.

Early in training, "do nothing" (fall to the floor: 20 steps, return -3) beats random flying (about 7 steps, -5): a
policy that moves too fast towards it stops exploring and never learns to hover (its episodes last 21 steps for
ever). With the observation stack of the Pixelcopter entry (32 x 7 inputs) Adam's first steps move the policy 32
times as far as with the plain observation, and this happened to one seed of five 16M-step runs at a learning rate of
3e-3. This script trains the zoo entry for ``--steps`` steps per seed (a constant learning rate by default: the first
400,000 steps of the entry's linear decay over 16M are within 3% of its start), no evaluations, and prints the mean
length of 100 training episodes at 20,000 and 100,000 steps and at the end: a collapsed run stays at ~21::

    python benchmarks/pixelcopter_collapse.py --seeds 3 5 6 7 8 9 10 11 12 13 14 15 -- -params learning_rate:0.002
    python benchmarks/pixelcopter_collapse.py --seeds 3 5 6 7 8 9 10 11 12 13 14 15 -- -params learning_rate:0.003

Each run is ``python -m sb3_reinforce.train --env Pixelcopter-PLE-v0 -n <steps> --eval-freq -1 --num-threads 1 <extra>``
in a temporary folder (removed afterwards).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from stable_baselines3.common.monitor import load_results


def episode_lengths(log_folder: Path) -> np.ndarray:
    """Lengths of the run's training episodes (all envs), in the order they ended."""
    (run_dir,) = (log_folder / "reinforce").iterdir()
    return load_results(str(run_dir)).sort_values("t")["l"].to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--steps", type=int, default=400_000)
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="After --: more flags for the train command")
    args = parser.parse_args()
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    print("| seed | length at 20k steps | at 100k | at the end |")
    print("|---:|---:|---:|---:|")
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            command = [sys.executable, "-m", "sb3_reinforce.train", "--env", "Pixelcopter-PLE-v0", "--seed", str(seed)]
            command += ["-f", folder, "-n", str(args.steps), "--eval-freq", "-1", "--num-threads", "1", *extra]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            lengths = episode_lengths(Path(folder))
        ends = np.cumsum(lengths)
        at = [lengths[np.searchsorted(ends, step) :][:100].mean() for step in (20_000, 100_000)]
        print(f"| {seed} | {at[0]:.0f} | {at[1]:.0f} | {lengths[-100:].mean():.0f} |", flush=True)


if __name__ == "__main__":
    main()
