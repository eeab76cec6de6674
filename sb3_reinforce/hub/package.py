"""
Package an agent for the Hub (evaluation, replay, model files, card) and upload the folder in one commit.

:func:`package_to_hub` first writes everything into a local folder, then uploads it with
:func:`push_to_hub`. Whatever goes wrong with the Hub (no token, offline mode, unreachable endpoint,
refused request), the folder stays on disk and can be pushed again without re-evaluating.
"""

import datetime
import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
from huggingface_hub import CommitOperationAdd, HfApi, get_token
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, unwrap_vec_normalize

from sb3_reinforce.hub.card import generate_model_card
from sb3_reinforce.hub.errors import HubError, hub_errors, is_offline, resolve_endpoint
from sb3_reinforce.hub.naming import check_name, check_repo_id
from sb3_reinforce.hub.normalization import VEC_NORMALIZE_JSON, save_vec_normalize
from sb3_reinforce.hub.safe_format import SAFE_MODEL_SUFFIX, describe_model, save_safe_model
from sb3_reinforce.hub.video import record_replay
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.version import __version__

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.json"
VIDEO_FILE = "replay.mp4"
CARD_FILE = "README.md"
LIBRARY_NAME = "sb3-reinforce"


@dataclass
class PackageResult:
    """What :func:`package_to_hub` produced."""

    local_dir: Path
    mean_reward: float
    std_reward: float
    files: list[str] = field(default_factory=list)
    repo_url: str | None = None  # None for a dry run


def jsonable(value: Any) -> Any:
    """
    :param value: Hyperparameters or env kwargs (may hold OrderedDicts, tuples, numpy scalars, classes...)
    :return: Plain JSON data; what JSON cannot hold becomes its ``repr`` (config.json is informational)
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if np.isfinite(value) else str(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return repr(value)


def resolve_token(token: str | None, action: str, keep_note: str = "") -> str:
    """
    :param token: Explicit token, or None for the usual places (``HF_TOKEN``, the token saved by ``hf auth login``)
    :param action: What needs it, for the message
    :param keep_note: Sentence appended to the message
    :return: The token
    :raises HubError: when there is none, before any request
    """
    resolved = token or get_token()
    if not resolved:
        note = f" {keep_note}" if keep_note else ""
        raise HubError(
            f"Cannot {action}: no Hugging Face token found. Log in with `hf auth login`, set the HF_TOKEN environment "
            f"variable or pass token=... (it needs the 'write' permission).{note}"
        )
    return resolved


def _check_can_push(token: str | None, endpoint: str, action: str) -> str:
    """Fail before the (slow) evaluation when an upload could not happen anyway."""
    if is_offline():
        raise HubError(f"Cannot {action}: HF_HUB_OFFLINE is set. Unset it, or package only (dry_run=True / --dry-run).")
    return resolve_token(token, action, "Or package only with dry_run=True (--dry-run).")


def _is_previous_package(folder: Path) -> bool:
    """A folder may be replaced only if it is empty or holds a package written by this module."""
    if not folder.exists():
        return True
    if not folder.is_dir():
        return False
    entries = list(folder.iterdir())
    return not entries or ((folder / CARD_FILE).is_file() and any(folder.glob(f"*{SAFE_MODEL_SUFFIX}")))


def _evaluate(model: REINFORCE, eval_env: VecEnv, n_eval_episodes: int, deterministic: bool) -> dict[str, Any]:
    rewards, lengths = evaluate_policy(
        model, eval_env, n_eval_episodes=n_eval_episodes, deterministic=deterministic, return_episode_rewards=True
    )
    return {
        "mean_reward": float(np.mean(rewards)),
        "std_reward": float(np.std(rewards)),
        "is_deterministic": deterministic,
        "n_eval_episodes": n_eval_episodes,
        "eval_datetime": datetime.datetime.now().isoformat(),
        "episode_rewards": [float(reward) for reward in rewards],  # type: ignore[union-attr]
        "episode_lengths": [int(length) for length in lengths],  # type: ignore[union-attr]
    }


def write_package(
    model: REINFORCE,
    model_name: str,
    env_id: str,
    eval_env: VecEnv | gym.Env,
    repo_id: str,
    local_dir: str | Path,
    *,
    is_deterministic: bool = True,
    n_eval_episodes: int = 10,
    video_length: int = 1000,
    video_fps: int | None = None,
    logs: str | Path | None = None,
    hyperparams: Mapping[str, Any] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    extra_files: Mapping[str, str | Path] | None = None,
    verbose: int = 1,
) -> PackageResult:
    """
    Write the repository folder: model zip, safe files, ``config.json``, ``results.json``, ``replay.mp4``,
    VecNormalize statistics (JSON and pickle) when ``eval_env`` is normalized, extra files and ``README.md``.

    Everything is written into a temporary folder next to ``local_dir`` that replaces it at the end: a failure
    leaves any previous package untouched. See :func:`package_to_hub` for the parameters.

    :return: The folder, the evaluation and the file list
    """
    check_repo_id(repo_id)
    check_name(model_name, "model_name")
    if n_eval_episodes < 1:
        raise ValueError(f"n_eval_episodes must be >= 1, got {n_eval_episodes}")
    folder = Path(local_dir)
    if not _is_previous_package(folder):
        raise ValueError(f"{folder} exists and does not hold a package written by sb3-reinforce: choose another local_dir")
    # Fail on what cannot be stored safely before spending time on the evaluation.
    description, _ = describe_model(model)
    if not isinstance(eval_env, VecEnv):
        single_env = eval_env
        eval_env = DummyVecEnv([lambda: single_env])

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    vec_normalize = unwrap_vec_normalize(eval_env)
    saved_flags = (vec_normalize.training, vec_normalize.norm_reward) if vec_normalize is not None else None
    try:
        model.save(staging / f"{model_name}.zip")
        save_safe_model(model, staging, model_name)
        if vec_normalize is not None:
            save_vec_normalize(vec_normalize, staging)
            # Evaluate with frozen statistics and report raw rewards (restored below).
            vec_normalize.training, vec_normalize.norm_reward = False, False

        if verbose:
            print(f"Evaluating the agent on {n_eval_episodes} episodes")
        results = _evaluate(model, eval_env, n_eval_episodes, is_deterministic)
        (staging / RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        if video_length > 0:
            if verbose:
                print(f"Recording a replay of {video_length} steps")
            record_replay(model, eval_env, staging / VIDEO_FILE, video_length, is_deterministic, video_fps)

        for name, source in (extra_files or {}).items():
            check_name(name, "extra file name")
            shutil.copy2(source, staging / name)
        if logs is not None and Path(logs).is_dir():
            shutil.copytree(logs, staging / "logs")

        config = {
            "sb3_reinforce": {
                "version": __version__,
                "model_name": model_name,
                "safe_model": f"{model_name}{SAFE_MODEL_SUFFIX}",
            },
            "algo": "REINFORCE",
            "env_id": env_id,
            "policy": description["policy"],
            "hyperparameters": description["hyperparameters"],
            "policy_kwargs": description["policy_kwargs"],
            "n_envs": description["n_envs"],
            "num_timesteps": description["num_timesteps"],
            "vec_normalize": VEC_NORMALIZE_JSON if vec_normalize is not None else None,
            "zoo_hyperparams": jsonable(dict(hyperparams)) if hyperparams is not None else None,
            "env_kwargs": jsonable(dict(env_kwargs or {})),
            "system_info": stable_baselines3.get_system_info(print_info=False)[0],
        }
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

        card = generate_model_card(
            repo_id=repo_id,
            model_name=model_name,
            env_id=env_id,
            mean_reward=results["mean_reward"],
            std_reward=results["std_reward"],
            n_eval_episodes=n_eval_episodes,
            is_deterministic=is_deterministic,
            hyperparameters=jsonable(dict(hyperparams)) if hyperparams is not None else config["hyperparameters"],
            env_kwargs=config["env_kwargs"],
            has_vec_normalize=vec_normalize is not None,
            has_video=video_length > 0,
        )
        card.save(staging / CARD_FILE)

        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if vec_normalize is not None and saved_flags is not None:
            vec_normalize.training, vec_normalize.norm_reward = saved_flags

    files = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    if verbose:
        reward = f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"
        print(f"Packaged {len(files)} files in {folder} (mean reward {reward})")
    return PackageResult(folder, results["mean_reward"], results["std_reward"], files)


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
    Upload a folder written by :func:`package_to_hub` in one commit, creating the repository if needed.

    :param repo_id: ``<organization>/<name>``
    :param local_dir: The package folder
    :param commit_message: Commit message (default: "Upload REINFORCE agent")
    :param token: Hub token with write access (default: ``HF_TOKEN`` or the token saved by ``hf auth login``)
    :param endpoint: Hub URL (default: ``HF_ENDPOINT`` or https://huggingface.co)
    :param private: Visibility of a newly created repository (None: the Hub's default)
    :param verbose: 0: silent, 1: progress messages
    :return: URL of the repository
    :raises HubError: no token, offline mode, unreachable endpoint or refused request; the folder is untouched
    """
    check_repo_id(repo_id)
    folder = Path(local_dir)
    if not (folder / CARD_FILE).is_file():
        raise FileNotFoundError(f"{folder} is not a package folder (no {CARD_FILE}): run package_to_hub first")
    endpoint = resolve_endpoint(endpoint)
    action = f"upload {folder} to {repo_id}"
    keep_note = f"Nothing was changed locally: the package is still in {folder}."
    if is_offline():
        raise HubError(f"Cannot {action}: HF_HUB_OFFLINE is set, unset it to upload. {keep_note}")
    token = resolve_token(token, action, keep_note)
    # Hidden entries (.git, caches) are never part of a package.
    paths = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    operations = [
        CommitOperationAdd(path_in_repo=path.relative_to(folder).as_posix(), path_or_fileobj=str(path)) for path in paths
    ]
    api = HfApi(endpoint=endpoint, token=token, library_name=LIBRARY_NAME, library_version=__version__)
    with hub_errors(action, endpoint, keep_note):
        repo_url = api.create_repo(repo_id=repo_id, exist_ok=True, private=private)
        if verbose:
            print(f"Uploading {len(operations)} files to {repo_url}")
        api.create_commit(
            repo_id=repo_id,
            operations=operations,
            commit_message=commit_message or "Upload REINFORCE agent",
        )
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
    :param model_name: Base name of the model files, e.g. ``reinforce-CartPole-v1``
        (see :func:`sb3_reinforce.hub.naming.model_name`)
    :param env_id: Gymnasium id of the environment (tag and "dataset" of the card's metrics)
    :param eval_env: Evaluation environment (``render_mode="rgb_array"`` for the video); when it is wrapped
        in ``VecNormalize``, its statistics are saved and frozen during the evaluation
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
    :raises HubError: if the upload cannot happen; checked before the evaluation for a missing token or
        offline mode, and after it for the endpoint, in which case the written folder is kept
    """
    check_repo_id(repo_id)
    local_dir = Path(local_dir) if local_dir is not None else Path("hub") / repo_id.split("/")[1]
    resolved_endpoint = resolve_endpoint(endpoint)
    if not dry_run:
        token = _check_can_push(token, resolved_endpoint, f"push to {repo_id}")
    result = write_package(
        model,
        model_name,
        env_id,
        eval_env,
        repo_id,
        local_dir,
        is_deterministic=is_deterministic,
        n_eval_episodes=n_eval_episodes,
        video_length=video_length,
        video_fps=video_fps,
        logs=logs,
        hyperparams=hyperparams,
        env_kwargs=env_kwargs,
        extra_files=extra_files,
        verbose=verbose,
    )
    if not dry_run:
        result.repo_url = push_to_hub(
            repo_id,
            local_dir,
            commit_message=commit_message,
            token=token,
            endpoint=resolved_endpoint,
            private=private,
            verbose=verbose,
        )
    return result
