"""
Package an agent for the Hub (evaluation, replay, model files, model card) and upload it in one commit. Only files
that packaging wrote (listed in the folder's ``.sb3-reinforce-package.json``) are ever replaced or removed.
"""

import datetime
import inspect
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from glob import escape
from pathlib import Path
from pprint import pformat
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData, get_token
from huggingface_hub.utils import validate_repo_id
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, unwrap_vec_normalize

from sb3_reinforce.hub.errors import HubError, hub_errors, is_offline, resolve_endpoint
from sb3_reinforce.hub.safe_model import SIDECAR_SUFFIX, VEC_NORMALIZE_PKL, save_safe_model
from sb3_reinforce.hub.video import record_replay
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.version import __version__

CONFIG_FILE, RESULTS_FILE, VIDEO_FILE, CARD_FILE = "config.json", "results.json", "replay.mp4", "README.md"
MANIFEST = ".sb3-reinforce-package.json"  # the files packaging wrote into the folder: the only ones it may replace
LIBRARY_NAME = "sb3-reinforce"
TAGS = ("reinforce", "reinforcement-learning", "stable-baselines3", "deep-rl-class", "deep-reinforcement-learning")


@dataclass
class PackageResult:
    """What :func:`package_to_hub` produced."""

    local_dir: Path
    mean_reward: float
    std_reward: float
    files: list[str]
    repo_url: str | None = None  # None for a dry run


def check_name(name: Any, what: str) -> str:
    """:return: ``name`` when it is a plain file name (letters, digits, ``.``, ``_``, ``-``; no ``..``)"""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or ".." in name:
        raise ValueError(f"Invalid {what} {name!r}: use letters, digits, '.', '_' and '-' only")
    return name


def resolve_token(token: str | None, action: str, keep_note: str) -> str:
    """:return: ``token``, else the one of ``HF_TOKEN`` / ``hf auth login``; a :class:`HubError` before any request if none"""
    if not (token := token or get_token()):
        login = (
            "Log in with `hf auth login`, set the HF_TOKEN environment variable or pass token=... (with 'write' permission)"
        )
        raise HubError(f"Cannot {action}: no Hugging Face token found. {login}. {keep_note}")
    return token


def package_files(folder: Path) -> list[str]:
    """:return: The files an earlier packaging wrote into ``folder`` (none when it holds no package)"""
    try:
        names = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    valid = isinstance(names, list) and all(isinstance(name, str) and ".." not in Path(name).parts for name in names)
    return [name for name in names if not Path(name).is_absolute()] if valid else []


def model_card(repo_id: str, model_name: str, config: dict[str, Any], results: dict[str, Any], has_video: bool) -> ModelCard:
    """:return: The card: the metadata the Hub and the Deep RL course leaderboard read, and how to install, load and run"""
    organization, env_id = repo_id.split("/")[0], config["env_id"]
    metric = f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"
    rl = "reinforcement-learning"
    task = dict(task_type=rl, task_name=rl, dataset_type=env_id, dataset_name=env_id)
    evaluation = EvalResult(**task, metric_type="mean_reward", metric_name="mean_reward", metric_value=metric)
    metadata = ModelCardData(library_name="stable-baselines3", tags=[env_id, *TAGS], model_name="REINFORCE")
    metadata.eval_results = [evaluation]
    normalized, actions = config["vec_normalize"] is not None, "deterministic" if results["is_deterministic"] else "stochastic"
    files = [
        f"- `{model_name}.zip`: the standard Stable-Baselines3 zip; `{model_name}.safe.json`: what `load_from_hub` needs to "
        "load it without unpickling anything (SB3's own `load` unpickles parts of the zip: only if you trust the author)",
        "- `config.json`: hyperparameters and system info; `results.json`: the evaluation",
        *["- `vec_normalize.pkl`: the VecNormalize statistics (also in the `.safe.json`)"] * normalized,
        *["- `replay.mp4`: a replay of the agent"] * has_video,
    ]
    sections = [
        f"# **REINFORCE** Agent playing **{env_id}**",
        f"This is a trained model of a **REINFORCE** (Monte Carlo policy gradient) agent playing **{env_id}**, trained "
        "with sb3-reinforce, REINFORCE for [Stable-Baselines3](https://github.com/DLR-RM/stable-baselines3).",
        "## Evaluation\n\n| mean_reward | episodes | actions |\n|---|---|---|\n"
        f"| {metric} | {results['n_eval_episodes']} | {actions} |",
        "## Usage (with sb3-reinforce)\n\nsb3-reinforce is on no package index: install it from its source code (a "
        "checkout of its repository, or a wheel built from one), after a PyTorch build for your machine:\n\n"
        "```bash\npip install /path/to/sb3-reinforce\n```\n\n"
        f'```python\nimport gymnasium as gym\n\nfrom sb3_reinforce.hub import load_from_hub\n\nenv = gym.make("{env_id}", '
        f'render_mode="human")\nmodel = load_from_hub("{repo_id}", env=env)  # safe by default: nothing is unpickled\n'
        f"vec_env = model.get_env(){'  # wrapped in VecNormalize with the saved statistics' * normalized}\n"
        "obs = vec_env.reset()\nfor _ in range(1000):\n    action, _ = model.predict(obs, deterministic=True)\n"
        "    obs, rewards, dones, infos = vec_env.step(action)\n```",
        "With the RL Zoo layout (downloads into `logs/`, then runs the agent):\n\n```bash\n"
        f"sb3-reinforce load-from-hub --env {env_id} -orga {organization} -name {repo_id.split('/')[1]} -f logs/\n"
        f"sb3-reinforce enjoy --env {env_id} -f logs/\n```",
        f"## Training (with the RL Zoo)\n\n```bash\nsb3-reinforce train --env {env_id} -f logs/\n"
        f"# Evaluate, record a replay and upload\nsb3-reinforce push-to-hub --env {env_id} -f logs/ -orga {organization}\n```",
        "## Files\n\n" + "\n".join(files),
        f"## Hyperparameters\n\n```python\n{pformat(config['zoo_hyperparams'] or config['hyperparameters'])}\n```",
        *[f"## Environment arguments\n\n```python\n{pformat(config['env_kwargs'])}\n```"] * bool(config["env_kwargs"]),
    ]
    return ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n")


def push_to_hub(
    repo_id: str,
    local_dir: str | Path,
    *,
    commit_message: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    private: bool | None = None,
    verbose: int = 1,
) -> str:
    """
    Upload the files of a package written by :func:`package_to_hub` (no other file of the folder) in one commit.

    :param repo_id: ``<organization>/<name>``, created if needed
    :param local_dir: The package folder
    :param commit_message: Commit message (default: "Upload REINFORCE agent")
    :param token: Hub token with write access (default: ``HF_TOKEN`` or the token saved by ``hf auth login``)
    :param endpoint: Hub URL (default: ``HF_ENDPOINT`` or https://huggingface.co)
    :param private: Visibility of a newly created repository (None: the Hub's default)
    :param verbose: 0: silent, 1: progress messages
    :return: URL of the repository
    :raises HubError: no token, offline mode, unreachable endpoint or refused request; the folder is untouched
    """
    validate_repo_id(repo_id)
    folder, endpoint = Path(local_dir), resolve_endpoint(endpoint)
    if not (files := package_files(folder)):
        raise FileNotFoundError(f"{folder} holds no package (no {MANIFEST}): run package_to_hub first")
    action, keep_note = f"upload {folder} to {repo_id}", f"Nothing was changed locally: the package is still in {folder}."
    if is_offline():
        raise HubError(f"Cannot {action}: HF_HUB_OFFLINE is set, unset it to upload. {keep_note}")
    token = resolve_token(token, action, keep_note)
    api = HfApi(endpoint=endpoint, token=token, library_name=LIBRARY_NAME, library_version=__version__)
    with hub_errors(action, endpoint, keep_note):
        repo_url = api.create_repo(repo_id=repo_id, exist_ok=True, private=private)
        if verbose:
            print(f"Uploading {len(files)} files to {repo_url}")
        message, patterns = commit_message or "Upload REINFORCE agent", [escape(name) for name in files]
        api.upload_folder(repo_id=repo_id, folder_path=folder, allow_patterns=patterns, commit_message=message)
    if verbose:
        print(f"Your agent is on the Hub: {repo_url}")
    return str(repo_url)


def package_to_hub(
    model: REINFORCE,
    model_name: str,
    env_id: str,
    eval_env: VecEnv | gym.Env,
    repo_id: str,
    commit_message: str | None = None,
    is_deterministic: bool = True,
    n_eval_episodes: int = 10,
    token: str | None = None,
    video_length: int = 1000,
    logs: str | Path | None = None,
    *,
    local_dir: str | Path | None = None,
    dry_run: bool = False,
    endpoint: str | None = None,
    private: bool | None = None,
    video_fps: int | None = None,
    hyperparams: Mapping[str, Any] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    extra_files: Mapping[str, str | Path] | None = None,
    verbose: int = 1,
) -> PackageResult:
    """
    Evaluate the agent, record a replay, write the model files and the model card, and upload them.

    :param model: The trained agent
    :param model_name: Base name of the model files, e.g. ``reinforce-CartPole-v1`` (see :func:`model_name`)
    :param env_id: Gymnasium id of the environment (tag and "dataset" of the card's metrics)
    :param eval_env: Evaluation environment (``render_mode="rgb_array"`` for the video); when it is wrapped in
        ``VecNormalize``, its statistics are saved and frozen during the evaluation
    :param repo_id: ``<organization>/<name>`` on the Hub
    :param commit_message: Commit message
    :param is_deterministic: Whether the evaluation and the replay use deterministic actions
    :param n_eval_episodes: Number of evaluation episodes
    :param token: Hub token with write access (default: ``HF_TOKEN`` or the saved login)
    :param video_length: Number of frames of ``replay.mp4``; 0 to skip the video
    :param logs: Folder (e.g. TensorBoard logs) to upload under ``logs/``
    :param local_dir: Where the package is written and kept (default: ``hub/<repository name>``)
    :param dry_run: Only write the folder, upload nothing
    :param endpoint: Hub URL (default: ``HF_ENDPOINT`` or https://huggingface.co)
    :param private: Visibility of a newly created repository
    :param video_fps: Frames per second of the video (default: the env's ``render_fps``)
    :param hyperparams: Hyperparameters to show in the card and keep in ``config.json`` (rl_zoo3's)
    :param env_kwargs: Keyword arguments the environment was created with
    :param extra_files: ``{name in the repository: local path}`` of more files to upload (rl_zoo3's ``config.yml``...)
    :param verbose: 0: silent, 1: progress messages
    :return: The folder, the evaluation, the file list and the repository URL (None for a dry run)
    :raises HubError: a missing token or offline mode before the evaluation; after it, an unreachable or refusing
        endpoint (the package is kept in ``local_dir`` for :func:`push_to_hub`)
    :raises FileExistsError: a file of the package would replace one that packaging did not write (before the evaluation)
    """
    validate_repo_id(repo_id)
    check_name(model_name, "model_name")
    if not dry_run and is_offline():
        raise HubError(f"Cannot push to {repo_id}: HF_HUB_OFFLINE is set. Unset it, or package only (dry_run=True).")
    token = token if dry_run else resolve_token(token, f"push to {repo_id}", "Or package only with dry_run=True (--dry-run).")
    if n_eval_episodes < 1:
        raise ValueError(f"n_eval_episodes must be >= 1, got {n_eval_episodes}")
    folder = Path(local_dir) if local_dir is not None else Path("hub") / repo_id.split("/")[-1]
    logs = Path(logs) if logs is not None and Path(logs).is_dir() else None
    vec_normalize = unwrap_vec_normalize(eval_env) if isinstance(eval_env, VecEnv) else None
    names = [f"{model_name}.zip", f"{model_name}{SIDECAR_SUFFIX}", CONFIG_FILE, RESULTS_FILE, CARD_FILE]
    names += [VIDEO_FILE] * (video_length > 0) + [VEC_NORMALIZE_PKL] * (vec_normalize is not None)
    names += [check_name(name, "extra file name") for name in extra_files or {}]
    names += (
        [f"logs/{file.relative_to(logs).as_posix()}" for file in sorted(logs.rglob("*")) if file.is_file()] if logs else []
    )
    previous = package_files(folder)
    if (taken := [name for name in names if name not in previous and os.path.lexists(folder / name)]) or folder.is_file():
        raise FileExistsError(f"{folder} holds files that packaging did not write, which it would replace: {taken or folder}")
    eval_env = eval_env if isinstance(eval_env, VecEnv) else DummyVecEnv([lambda: eval_env])  # type: ignore[list-item, return-value]
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sb3-reinforce-staging-", dir=folder))
    flags = (vec_normalize.training, vec_normalize.norm_reward) if vec_normalize is not None else (False, False)
    try:
        sidecar = json.loads(save_safe_model(model, staging, model_name, vec_normalize)[1].read_text(encoding="utf-8"))
        if vec_normalize is not None:
            vec_normalize.training, vec_normalize.norm_reward = False, False  # frozen statistics, raw rewards
        if verbose:
            print(f"Evaluating the agent on {n_eval_episodes} episodes")
        episodes = evaluate_policy(model, eval_env, n_eval_episodes, is_deterministic, return_episode_rewards=True)
        rewards, lengths = [float(reward) for reward in episodes[0]], [int(length) for length in episodes[1]]  # type: ignore[union-attr]
        results: dict[str, Any] = dict(mean_reward=float(np.mean(rewards)), std_reward=float(np.std(rewards)))
        results |= dict(is_deterministic=is_deterministic, n_eval_episodes=n_eval_episodes)
        results |= dict(eval_datetime=datetime.datetime.now().isoformat(), episode_rewards=rewards, episode_lengths=lengths)
        (staging / RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        if video_length > 0:
            if verbose:
                print(f"Recording a replay of {video_length} steps")
            record_replay(model, eval_env, staging / VIDEO_FILE, video_length, is_deterministic, video_fps)
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, staging / name)
        if logs is not None:
            shutil.copytree(logs, staging / "logs")
        skip = {"self", "policy", "env", "policy_kwargs", "tensorboard_log", "verbose", "seed", "device", "_init_setup_model"}
        constructor = [name for name in inspect.signature(REINFORCE.__init__).parameters if name not in skip]
        marker = {"version": __version__, "model_name": model_name, "safe_model": f"{model_name}{SIDECAR_SUFFIX}"}
        config = dict(sb3_reinforce=marker, algo="REINFORCE", env_id=env_id, policy=sidecar["policy"])
        # SB3 keeps some constructor arguments under a private name (e.g. ``_stats_window_size``).
        config["hyperparameters"] = {name: getattr(model, name, getattr(model, f"_{name}", None)) for name in constructor}
        config |= dict(policy_kwargs=sidecar["policy_kwargs"], n_envs=model.n_envs, num_timesteps=model.num_timesteps)
        config |= dict(
            vec_normalize=VEC_NORMALIZE_PKL if vec_normalize is not None else None, env_kwargs=dict(env_kwargs or {})
        )
        config["zoo_hyperparams"] = dict(hyperparams) if hyperparams is not None else None
        config["system_info"] = stable_baselines3.get_system_info(print_info=False)[0]
        # config.json is informational: what JSON cannot hold (classes, schedules) is kept as its repr.
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=repr) + "\n", encoding="utf-8")
        model_card(repo_id, model_name, config, results, video_length > 0).save(staging / CARD_FILE)
        # Only now is anything in the folder touched: files of the earlier package are replaced or removed, no other.
        for name in names:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, folder / name)
        for name in set(previous) - set(names):
            (folder / name).unlink(missing_ok=True)
        (folder / MANIFEST).write_text(json.dumps(sorted(names), indent=1) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(folder.iterdir()):
            folder.rmdir()  # a failure leaves no empty folder behind
        if vec_normalize is not None:
            vec_normalize.training, vec_normalize.norm_reward = flags
    if verbose:
        print(f"Packaged {len(names)} files in {folder} (mean reward {results['mean_reward']:.2f})")
    result = PackageResult(folder, results["mean_reward"], results["std_reward"], sorted(names))
    if not dry_run:
        options = dict(commit_message=commit_message, token=token, endpoint=endpoint, private=private, verbose=verbose)
        result.repo_url = push_to_hub(repo_id, folder, **options)  # type: ignore[arg-type]
    return result
