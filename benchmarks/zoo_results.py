"""Train REINFORCE with the packaged zoo hyperparameters on several seeds, evaluate, plot the learning curves.

For every seed it runs the RL Zoo command a user would run (printed before it starts)::

    python -m sb3_reinforce.train --algo reinforce --env <env> --seed <seed> -f <logs>/<env>/seed<seed> \
        --eval-freq <freq> --eval-episodes 10 --n-eval-envs 1 --num-threads 1

then loads the final model (with its VecNormalize statistics) and evaluates it on 10 episodes, twice, on a
fresh env seeded ``10_000 + seed`` (and the sampling of actions seeded alike, so evaluations are reproducible):

- like the Hugging Face course: actions sampled from the policy, score = mean - std of the returns;
- like SB3 / the zoo: deterministic actions (stochastic for Atari, as the zoo does), mean ± std.

It writes ``<out>/<env>.json`` (every run, with the periodic evaluations of the zoo's EvalCallback), the
learning curve ``<out>/<env>.png`` (mean over seeds of the periodic evaluations, with min/max band), and
prints a Markdown row for the README. Example (the README's results table comes from exactly this)::

    python benchmarks/zoo_results.py --env CartPole-v1 --seeds 0 1 2 --eval-freq 10000

``--jobs 2`` trains two seeds at a time (one core each on a 2-core machine). Seeds trained by separate invocations
are merged into the same JSON file (a seed trained again replaces its earlier run). ``--evaluate-only`` redoes the
final evaluations of runs already trained in ``--logs`` (keeping their recorded training time).
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from rl_zoo3.utils import create_test_env, get_saved_hyperparams
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import load_results
from stable_baselines3.common.results_plotter import X_TIMESTEPS, ts2xy
from stable_baselines3.common.utils import set_random_seed

from sb3_reinforce import REINFORCE

ATARI_SUFFIXES = ("NoFrameskip-v4",)


def train_command(
    env_id: str, seed: int, log_folder: Path, eval_freq: int, curve_episodes: int, extra: list[str]
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sb3_reinforce.train",
        "--algo",
        "reinforce",
        "--env",
        env_id,
        "--seed",
        str(seed),
        "-f",
        str(log_folder),
        "--eval-freq",
        str(eval_freq),
        "--eval-episodes",
        str(curve_episodes),
        "--n-eval-envs",
        "1",
        "--num-threads",
        "1",
        *extra,
    ]


def evaluate(
    run_dir: Path, env_id: str, seed: int, deterministic: bool, n_episodes: int, max_steps: int | None
) -> tuple[list[float], list[int]]:
    """Returns and lengths of ``n_episodes`` episodes of the run's final model, on a fresh env."""
    stats_path = run_dir / env_id
    hyperparams, _ = get_saved_hyperparams(str(stats_path))
    env = create_test_env(
        env_id,
        n_envs=1,
        stats_path=str(stats_path),
        seed=10_000 + seed,
        should_render=False,
        hyperparams=hyperparams,
        env_kwargs={} if max_steps is None else {"max_episode_steps": max_steps},
    )
    model = REINFORCE.load(run_dir / f"{env_id}.zip", device="cpu")
    set_random_seed(10_000 + seed)  # the actions sampled by a stochastic evaluation
    returns, lengths = evaluate_policy(
        model, env, n_eval_episodes=n_episodes, deterministic=deterministic, warn=False, return_episode_rewards=True
    )
    env.close()
    return [float(r) for r in returns], [int(n) for n in lengths]  # type: ignore[union-attr]


def run_seed(args: argparse.Namespace, seed: int, extra: list[str]) -> dict[str, Any]:
    env_id, n_episodes, max_steps = args.env, args.eval_episodes, args.eval_max_steps
    logs = args.logs
    log_folder = logs / env_id / f"seed{seed}"
    run_dir = log_folder / "reinforce" / f"{env_id}_1"
    command = train_command(env_id, seed, log_folder, args.eval_freq, args.curve_episodes, extra)
    if args.evaluate_only:
        recorded = {run["seed"]: run for run in load_runs(args.out / f"{env_id}.json")}
        if not (run_dir / f"{env_id}.zip").exists() or seed not in recorded:
            raise SystemExit(f"--evaluate-only: seed {seed} has no trained model in {run_dir} or no record in {args.out}")
        train_seconds = recorded[seed]["train_seconds"]
    else:
        if run_dir.exists():
            raise SystemExit(f"{run_dir} exists: remove it (or pick another --logs) so that the run starts from scratch")
        print("$", shlex.join(["python", *command[1:]]), flush=True)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        train_seconds = time.perf_counter() - start

    evaluations = np.load(run_dir / "evaluations.npz")
    course_returns, course_lengths = evaluate(run_dir, env_id, seed, False, n_episodes, max_steps)
    course_mean, course_std = float(np.mean(course_returns)), float(np.std(course_returns))
    deterministic = not env_id.endswith(ATARI_SUFFIXES)
    sb3_returns, sb3_lengths = evaluate(run_dir, env_id, seed, deterministic, n_episodes, max_steps)
    sb3_mean, sb3_std = float(np.mean(sb3_returns)), float(np.std(sb3_returns))
    result = {
        "seed": seed,
        "train_seconds": round(train_seconds, 1),
        "course_mean": course_mean,
        "course_std": course_std,
        "course_score": course_mean - course_std,
        "eval_max_steps": max_steps,
        "sb3_deterministic": deterministic,
        "sb3_mean": sb3_mean,
        "sb3_std": sb3_std,
        # Per episode, so that a reader can count e.g. episodes cut by --eval-max-steps (length == eval_max_steps)
        "course_returns": course_returns,
        "course_lengths": course_lengths,
        "sb3_returns": sb3_returns,
        "sb3_lengths": sb3_lengths,
        "curve_timesteps": evaluations["timesteps"].tolist(),
        "curve_mean": evaluations["results"].mean(axis=1).tolist(),
        **training_curve(run_dir),
    }
    brief = {k: v for k, v in result.items() if not k.startswith("curve")}
    print(json.dumps({"env": env_id, **brief}), flush=True)
    return result


def training_curve(run_dir: Path, n_points: int = 40) -> dict[str, list[float]]:
    """Mean return of the training episodes (the zoo's Monitor files, all envs) ending in each of ``n_points`` step bins."""
    ends, returns = ts2xy(load_results(str(run_dir)), X_TIMESTEPS)
    grid = np.linspace(ends[-1] / n_points, ends[-1], n_points)
    bins = np.searchsorted(ends, grid, side="right")
    means, start = [], 0
    for stop in bins:
        # A bin without an episode end (long episodes) repeats the last mean
        means.append(float(returns[start:stop].mean()) if stop > start else means[-1] if means else float(returns[0]))
        start = stop
    return {"train_curve_timesteps": grid.round().tolist(), "train_curve_mean": means}


def load_runs(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text()) if path.exists() else []


def plot(env_id: str, runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    panels = (
        ("train_curve", "training episodes (sampled actions)"),
        ("curve", "periodic evaluations (zoo's EvalCallback)"),
    )
    for ax, (key, title) in zip(axes, panels, strict=True):
        length = min(len(run[f"{key}_timesteps"]) for run in runs)
        steps = np.array(runs[0][f"{key}_timesteps"][:length])
        curves = np.array([run[f"{key}_mean"][:length] for run in runs])
        ax.plot(steps, curves.mean(axis=0), label=f"mean of {len(runs)} seeds")
        ax.fill_between(steps, curves.min(axis=0), curves.max(axis=0), alpha=0.25, label="min / max over seeds")
        ax.set_xlabel("environment steps")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean episode return")
    axes[1].legend(loc="lower right")
    fig.suptitle(f"REINFORCE on {env_id} (zoo hyperparameters)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def markdown_row(env_id: str, runs: list[dict[str, Any]]) -> str:
    course = ", ".join(f"{r['course_score']:.1f}" for r in runs)
    sb3 = ", ".join(f"{r['sb3_mean']:.1f} ± {r['sb3_std']:.1f}" for r in runs)
    minutes = statistics.median(r["train_seconds"] for r in runs) / 60
    steps = runs[0]["curve_timesteps"][-1] if runs[0]["curve_timesteps"] else "-"
    return f"| {env_id} | {len(runs)} | {steps:,} | {minutes:.1f} | {course} | {sb3} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-freq", type=int, required=True, help="Periodic evaluation every N env steps (the curve)")
    parser.add_argument("--eval-episodes", type=int, default=10, help="Episodes of each final evaluation")
    parser.add_argument("--curve-episodes", type=int, default=10, help="Episodes of each periodic evaluation")
    parser.add_argument(
        "--eval-max-steps", type=int, default=None, help="Cap the final evaluation episodes (Pong-PLE has no time limit)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="Seeds trained at the same time")
    parser.add_argument("--evaluate-only", action="store_true", help="Only redo the final evaluations of trained runs")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="Where the JSON and PNG go")
    parser.add_argument("--logs", type=Path, default=Path("logs/zoo_results"), help="The zoo's log folders (models)")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="After --: more flags for the train command")
    args = parser.parse_args()
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra

    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda seed: run_seed(args, seed, extra), args.seeds))
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / f"{args.env}.json"
    # Seeds may be trained by separate invocations: keep the other seeds' runs already recorded.
    seeds = {run["seed"] for run in runs}
    runs += [run for run in load_runs(results_path) if run["seed"] not in seeds]
    runs.sort(key=lambda run: run["seed"])
    results_path.write_text(json.dumps(runs, indent=1))
    plot(args.env, runs, args.out / f"{args.env}.png")
    print()
    print("| env | seeds | steps | median train min | course score (mean - std), per seed | SB3 eval (mean ± std), per seed |")
    print("|---|---|---|---|---|---|")
    print(markdown_row(args.env, runs))


if __name__ == "__main__":
    main()
