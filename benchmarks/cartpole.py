"""CartPole-v1 side by side: REINFORCE (defaults and zoo settings), SB3 PPO and A2C (RL Zoo settings), and the HF course's
plain-PyTorch REINFORCE, all in one run on the same machine.

Per algorithm and seed it records the env steps and the training wall-clock (evaluation time excluded) until the
first 10-episode deterministic evaluation with mean 500, whether the final evaluation is 500 +/- 0, and the training
throughput (env steps/s). It prints one line per run and a Markdown table of medians.

Usage (the README's table comes from exactly this)::

    python benchmarks/cartpole.py --seeds 0 1 2 3 4 --out benchmarks/results/cartpole.json

Every run uses one torch thread, so that algorithms are compared on equal terms.
"""

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch as th
import yaml
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rl_zoo3
from course_reinforce import evaluate_course_policy, train_course_reinforce

from sb3_reinforce import REINFORCE

ENV_ID = "CartPole-v1"
TARGET = 500.0
ZOO_HYPERPARAMS = Path(rl_zoo3.__file__).parent / "hyperparams"
OUR_HYPERPARAMS = Path(__file__).resolve().parents[1] / "hyperparams" / "reinforce.yml"


class Recorder:
    """Evaluates every ``eval_freq`` steps and keeps the clock of training time only."""

    def __init__(self, evaluate: Callable[[], tuple[float, float]], eval_freq: int):
        self.evaluate = evaluate
        self.eval_freq = eval_freq
        self.next_eval = eval_freq
        self.train_time = 0.0
        self.first_target: tuple[int, float] | None = None
        self.curve: list[tuple[int, float]] = []
        self._last = time.perf_counter()

    def start(self) -> None:
        self._last = time.perf_counter()

    def maybe_evaluate(self, num_timesteps: int, force: bool = False) -> None:
        if num_timesteps < self.next_eval and not force:
            return
        self.train_time += time.perf_counter() - self._last
        while self.next_eval <= num_timesteps:
            self.next_eval += self.eval_freq
        mean, _ = self.evaluate()
        self.curve.append((num_timesteps, mean))
        if self.first_target is None and mean >= TARGET:
            self.first_target = (num_timesteps, self.train_time)
        self._last = time.perf_counter()


class RecorderCallback(BaseCallback):
    def __init__(self, recorder: Recorder):
        super().__init__()
        self.recorder = recorder

    def _on_training_start(self) -> None:
        self.recorder.start()

    def _on_step(self) -> bool:
        self.recorder.maybe_evaluate(self.num_timesteps)
        return True


def zoo_settings(path: Path) -> dict[str, Any]:
    """The RL Zoo's CartPole-v1 entry, with ``lin_`` schedules and ``policy_kwargs`` strings turned into objects."""
    settings = dict(yaml.safe_load(path.read_text())[ENV_ID])
    for key in ("learning_rate", "clip_range"):
        value = settings.get(key)
        if isinstance(value, str) and value.startswith("lin_"):
            start = float(value[4:])
            settings[key] = lambda progress, start=start: progress * start
    if isinstance(settings.get("policy_kwargs"), str):
        settings["policy_kwargs"] = eval(settings["policy_kwargs"], {"nn": th.nn, "dict": dict})
    return settings


def sb3_run(algo_class: type[BaseAlgorithm], settings: dict[str, Any], seed: int, eval_freq: int) -> dict[str, Any]:
    settings = dict(settings)
    n_envs = int(settings.pop("n_envs", 1))
    total = int(float(settings.pop("n_timesteps")))
    policy = settings.pop("policy", "MlpPolicy")
    env = make_vec_env(ENV_ID, n_envs=n_envs, seed=seed)
    model = algo_class(policy, env, seed=seed, **settings)
    eval_env = gym.make(ENV_ID)
    recorder = Recorder(lambda: evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True), eval_freq)  # type: ignore[arg-type,return-value]
    model.learn(total, callback=RecorderCallback(recorder))
    recorder.maybe_evaluate(model.num_timesteps, force=True)
    final_mean, final_std = evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True)
    return summarize(recorder, model.num_timesteps, float(final_mean), float(final_std))


def course_run(seed: int, eval_freq: int, total: int) -> dict[str, Any]:
    eval_env = gym.make(ENV_ID)
    holder: dict[str, Any] = {}
    recorder = Recorder(lambda: evaluate_course_policy(holder["policy"], eval_env, 10, seed=10_000), eval_freq)

    def on_step(num_timesteps: int, policy: Any) -> None:
        holder["policy"] = policy
        recorder.maybe_evaluate(num_timesteps)

    recorder.start()
    policy = train_course_reinforce(ENV_ID, total, seed, on_step)
    holder["policy"] = policy
    final_mean, final_std = evaluate_course_policy(policy, eval_env, 10, seed=10_000)
    return summarize(recorder, total, final_mean, final_std)


def summarize(recorder: Recorder, num_timesteps: int, final_mean: float, final_std: float) -> dict[str, Any]:
    return {
        "steps_to_500": recorder.first_target[0] if recorder.first_target else None,
        "seconds_to_500": round(recorder.first_target[1], 2) if recorder.first_target else None,
        "final_mean": final_mean,
        "final_std": final_std,
        "final_500": final_mean == TARGET and final_std == 0.0,
        "timesteps": num_timesteps,
        "train_seconds": round(recorder.train_time, 2),
        "steps_per_second": round(num_timesteps / recorder.train_time, 1),
        "curve": recorder.curve,
    }


def algorithms(course_timesteps: int, reinforce_default_timesteps: int) -> dict[str, Callable[[int, int], dict[str, Any]]]:
    return {
        "REINFORCE (defaults)": lambda seed, freq: sb3_run(
            REINFORCE, {"n_timesteps": reinforce_default_timesteps}, seed, freq
        ),
        "REINFORCE (zoo)": lambda seed, freq: sb3_run(REINFORCE, zoo_settings(OUR_HYPERPARAMS), seed, freq),
        "PPO (zoo)": lambda seed, freq: sb3_run(PPO, zoo_settings(ZOO_HYPERPARAMS / "ppo.yml"), seed, freq),
        "A2C (zoo)": lambda seed, freq: sb3_run(A2C, zoo_settings(ZOO_HYPERPARAMS / "a2c.yml"), seed, freq),
        "course REINFORCE (PyTorch)": lambda seed, freq: course_run(seed, freq, course_timesteps),
    }


def median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def markdown_table(results: dict[str, list[dict[str, Any]]]) -> str:
    ppo = results.get("PPO (zoo)")
    ppo_fps = median_or_none([r["steps_per_second"] for r in ppo]) if ppo else None
    ppo_time = median_or_none([r["seconds_to_500"] for r in ppo]) if ppo else None
    lines = [
        "| algorithm | seeds reaching 500 | median steps to 500 | median s to 500 (vs PPO) | final 500 ± 0 "
        "| median steps/s (vs PPO) |",
        "|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        n = len(runs)
        reached = sum(r["steps_to_500"] is not None for r in runs)
        steps = median_or_none([r["steps_to_500"] for r in runs])
        seconds = median_or_none([r["seconds_to_500"] for r in runs])
        fps = median_or_none([r["steps_per_second"] for r in runs])
        time_ratio = f" ({seconds / ppo_time:.2f}x)" if seconds is not None and ppo_time else ""
        fps_ratio = f" ({fps / ppo_fps:.2f}x)" if fps is not None and ppo_fps else ""
        lines.append(
            f"| {name} | {reached}/{n} | {'-' if steps is None else int(steps)} | "
            f"{'-' if seconds is None else f'{seconds:.1f}'}{time_ratio} | {sum(r['final_500'] for r in runs)}/{n} | "
            f"{'-' if fps is None else int(fps)}{fps_ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--algos", nargs="+", default=None, help="Subset of algorithm names (default: all)")
    parser.add_argument("--eval-freq", type=int, default=5000)
    parser.add_argument("--course-timesteps", type=int, default=200_000)
    parser.add_argument("--reinforce-default-timesteps", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None, help="Write all runs (with learning curves) as JSON")
    args = parser.parse_args()

    th.set_num_threads(1)
    registry = algorithms(args.course_timesteps, args.reinforce_default_timesteps)
    names = args.algos or list(registry)
    results: dict[str, list[dict[str, Any]]] = {}
    # Seeds outer, algorithms inner: a change in the machine's load during the run hits every algorithm alike.
    for seed in args.seeds:
        for name in names:
            run = registry[name](seed, args.eval_freq)
            results.setdefault(name, []).append(run)
            brief = {k: v for k, v in run.items() if k != "curve"}
            print(json.dumps({"algorithm": name, "seed": seed, **brief}), flush=True)
    print()
    print(markdown_table(results))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
