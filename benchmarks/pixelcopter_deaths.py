"""Where trained Pixelcopter agents die: episode lengths, returns and the cause of every crash, for zoo runs.

For each run folder (``<logs>/reinforce/Pixelcopter-PLE-v0_<id>``, as ``sb3-reinforce train`` writes it), the final
model plays ``--episodes`` episodes on the zoo's evaluation env (its VecNormalize statistics and frame stack), once with
sampled actions (the course's protocol) and once with deterministic ones (``push-to-hub``'s), and each crash is put in
one of these classes from the game's state at the crash:

- ``floor`` / ``ceiling``: the copter touched the cave wall below / above it;
- ``block``: it touched a gate block (from above or below);
- ``edge``: it left the band of heights the game allows;
- ``cap``: no crash, the episode reached the 10,000-step cap.

It also prints the course's score, mean - std of the returns, of each block of 10 consecutive episodes: what 10-episode
certifications of the same agent would give.

Usage (the table in docs/zoo.md comes from exactly this)::

    python benchmarks/pixelcopter_deaths.py --episodes 30 logs/reinforce/Pixelcopter-PLE-v0_1 ...
"""

from __future__ import annotations

import argparse
import collections
import statistics
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from rl_zoo3.utils import create_test_env, get_saved_hyperparams
from stable_baselines3.common.utils import set_random_seed

from sb3_reinforce import REINFORCE
from sb3_reinforce.envs.pixelcopter import PixelcopterEnv
from sb3_reinforce.envs.pygame_rect import rect_start

ENV_ID = "Pixelcopter-PLE-v0"
CLASSES = ("floor", "ceiling", "block", "edge", "cap")


def crash_cause(game: PixelcopterEnv) -> str:
    """The class of the crash that just ended ``game``, from its state (the rules of the spec, "One frame, in order")."""
    geo, y = game._geo, game._y
    top = rect_start(y, geo.player_h)
    if y < geo.min_y or y > geo.max_y:
        return "edge"
    for ty in game._overlapping_tys(top):
        if y - geo.player_height <= ty - geo.gap:
            return "ceiling"
        if y >= ty + geo.gap:
            return "floor"
    return "block"


class CrashCause(gym.Wrapper):
    """Adds ``info["crash"]`` (a class of :data:`CLASSES`) at the end of each episode, before the VecEnv resets the game."""

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated:
            info["crash"] = crash_cause(self.env.unwrapped)  # type: ignore[arg-type]
        elif truncated:
            info["crash"] = "cap"
        return obs, float(reward), terminated, truncated, info


def play(
    run_dir: Path, deterministic: bool, episodes: int, seed: int
) -> tuple[list[int], list[float], collections.Counter[str]]:
    stats_path = run_dir / ENV_ID
    hyperparams, _ = get_saved_hyperparams(str(stats_path))
    hyperparams["env_wrapper"] = [f"{__name__}.CrashCause"] if __name__ != "__main__" else ["pixelcopter_deaths.CrashCause"]
    env = create_test_env(
        ENV_ID, n_envs=1, stats_path=str(stats_path), seed=seed, should_render=False, hyperparams=hyperparams
    )
    model = REINFORCE.load(run_dir / f"{ENV_ID}.zip", device="cpu")
    set_random_seed(seed)
    lengths: list[int] = []
    returns: list[float] = []
    causes: collections.Counter[str] = collections.Counter()
    obs, length, episode_return = env.reset(), 0, 0.0
    while len(lengths) < episodes:
        action, _ = model.predict(obs, deterministic=deterministic)  # type: ignore[arg-type]
        obs, rewards, dones, infos = env.step(action)
        length, episode_return = length + 1, episode_return + float(rewards[0])  # raw: no reward normalization at test time
        if dones[0]:
            causes[infos[0]["crash"]] += 1
            lengths.append(length)
            returns.append(episode_return)
            length, episode_return = 0, 0.0
    env.close()
    return lengths, returns, causes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="zoo run folders")
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20_000, help="of the evaluation env and of the sampled actions")
    args = parser.parse_args()
    print(
        "| run | actions | mean length | median length | " + " | ".join(CLASSES) + " | return | mean - std, per 10 episodes |"
    )
    print("|---|---|---:|---:|" + "---:|" * len(CLASSES) + "---:|---|")
    for run_dir in args.runs:
        for deterministic in (False, True):
            lengths, returns, causes = play(run_dir, deterministic, args.episodes, args.seed)
            kind = "deterministic" if deterministic else "sampled"
            counts = " | ".join(str(causes[name]) for name in CLASSES)
            blocks = np.array(returns[: len(returns) // 10 * 10]).reshape(-1, 10)
            scores = ", ".join(f"{score:.0f}" for score in blocks.mean(axis=1) - blocks.std(axis=1))
            summary = f"{np.mean(returns):.0f} ± {np.std(returns):.0f} | {scores}"
            print(
                f"| {run_dir} | {kind} | {np.mean(lengths):.0f} | {statistics.median(lengths):.0f} | {counts} | {summary} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
