"""
Download an agent into rl_zoo3's log-folder layout, so that ``sb3-reinforce enjoy`` (rl_zoo3's enjoy) runs it:
``<folder>/reinforce/<ENV>_<id>/<ENV>.zip`` and ``<ENV>/config.yml``, ``args.yml``, ``env_kwargs.yml``,
``vecnormalize.pkl``.

rl_zoo3 reads these files with ``yaml.UnsafeLoader``, ``eval`` and pickle, and imports the wrapper classes
named in ``config.yml``: copying them from a stranger's repository would run their code at the next
``enjoy``. So, unless ``trust_remote_code`` is set, every file is *regenerated here* from the safe files:
the zip is saved from the model rebuilt without pickle, ``vecnormalize.pkl`` is pickled from statistics read
from JSON, and ``config.yml`` is written with ``yaml.safe_dump`` from ``config.json`` after checking the
wrapper names against installed, known packages.
"""

import ast
import importlib
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import yaml
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from sb3_reinforce.hub.errors import UnsafeModelError
from sb3_reinforce.hub.load import Downloader, fetch_files
from sb3_reinforce.hub.naming import ALGO, env_name, model_name
from sb3_reinforce.hub.normalization import load_vec_normalize, stored_observation_space
from sb3_reinforce.hub.safe_format import load_safe_model

# Wrappers and callbacks named in a downloaded config.yml must come from one of these installed packages.
TRUSTED_PACKAGES = ("gymnasium", "stable_baselines3", "sb3_contrib", "rl_zoo3", "sb3_reinforce")
_CLASS_KEYS: dict[str, type] = {"env_wrapper": gym.Wrapper, "vec_env_wrapper": VecEnvWrapper, "callback": BaseCallback}
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


class _SpacesOnlyVecEnv(VecEnv):
    """Carrier of an observation space, so that VecNormalize statistics can be pickled for rl_zoo3 without an env."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space):
        super().__init__(1, observation_space, action_space)

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [None]  # VecEnv's constructor asks for render_mode

    def _unavailable(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("This placeholder env only carries spaces")

    reset = step_async = step_wait = close = set_attr = env_method = env_is_wrapped = _unavailable  # type: ignore[assignment]


def _check_class_path(entry: Any, key: str) -> None:
    """Refuse a wrapper/callback entry unless it names a subclass of the expected base in a trusted package."""
    names: list[Any] = entry if isinstance(entry, list) else [entry]
    for item in names:
        if isinstance(item, dict):
            if len(item) != 1:
                raise UnsafeModelError(f"config {key}: malformed entry {item!r}")
            item = next(iter(item))
        if not isinstance(item, str) or not _DOTTED.match(item) or item.split(".")[0] not in TRUSTED_PACKAGES:
            raise UnsafeModelError(
                f"config {key}={item!r}: rl_zoo3 would import and call it; only classes from {', '.join(TRUSTED_PACKAGES)} "
                "are accepted without --trust-remote-code"
            )
        module_name, class_name = item.rsplit(".", 1)
        try:
            # Only modules of the trusted, installed packages are imported (their import runs no downloaded code).
            target = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise UnsafeModelError(f"config {key}={item!r} does not name an installed class") from error
        if not (isinstance(target, type) and issubclass(target, _CLASS_KEYS[key])):
            raise UnsafeModelError(f"config {key}={item!r} is not a {_CLASS_KEYS[key].__name__} subclass")


def _literal_dict(text: str) -> dict[str, Any] | None:
    """Parse ``"dict(a=1, b=True)"`` or ``"{'a': 1}"`` (rl_zoo3's ``normalize`` strings) without ``eval``."""
    try:
        node = ast.parse(text, mode="eval").body
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
            return {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg is not None}
        value = ast.literal_eval(node)
    except (SyntaxError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def safe_zoo_hyperparams(hyperparams: dict[str, Any], has_vec_normalize: bool) -> dict[str, Any]:
    """
    :param hyperparams: rl_zoo3 hyperparameters from a downloaded ``config.json`` (plain JSON data)
    :param has_vec_normalize: Whether normalization statistics come with the agent
    :return: A version rl_zoo3 can read without running downloaded code
    :raises UnsafeModelError: if a wrapper or callback outside the trusted packages is named
    """
    safe = dict(hyperparams)
    for key in _CLASS_KEYS:
        if safe.get(key) is not None:
            _check_class_path(safe[key], key)
    normalize = safe.get("normalize", has_vec_normalize)
    if isinstance(normalize, str):
        # rl_zoo3 eval()s a string here: replace it by the dict it means, or by a plain flag.
        normalize = _literal_dict(normalize) or has_vec_normalize
    if normalize and not has_vec_normalize:
        normalize = False  # no statistics to load: rl_zoo3 would stop on the missing vecnormalize.pkl
    safe["normalize"] = normalize
    frame_stack = safe.get("frame_stack")
    if frame_stack is not None and (isinstance(frame_stack, bool) or not isinstance(frame_stack, int)):
        raise UnsafeModelError(f"config frame_stack must be an integer, got {frame_stack!r}")
    return safe


def zoo_log_path(folder: str | Path, env_id: str, exp_id: int, algo: str = ALGO) -> Path:
    """:return: rl_zoo3's run folder: ``<folder>/<algo>/<ENV>_<id>`` (``exp_id`` 0: a new id, -1: no id)"""
    from rl_zoo3.utils import get_latest_run_id

    name = env_name(env_id)
    if exp_id == 0:
        exp_id = get_latest_run_id(str(Path(folder) / algo), name) + 1  # type: ignore[arg-type]
    return Path(folder) / algo / f"{name}_{exp_id}" if exp_id > 0 else Path(folder) / algo


def download_to_zoo(
    repo_id: str,
    env_id: str,
    folder: str | Path,
    *,
    exp_id: int = 0,
    force: bool = False,
    trust_remote_code: bool = False,
    revision: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    cache_dir: str | Path | None = None,
    verbose: int = 1,
) -> Path:
    """
    Download an agent into rl_zoo3's layout.

    :param repo_id: ``<organization>/<name>``
    :param env_id: Gymnasium id (names the files)
    :param folder: Log folder (``-f``)
    :param exp_id: Run id (0: a new one after the latest, -1: no run sub-folder)
    :param force: Replace an existing run folder
    :param trust_remote_code: Copy the repository's SB3 files as they are (pickles, rl_zoo3 YAML)
    :param revision: Branch, tag or commit
    :param token: Hub token
    :param endpoint: Hub URL
    :param cache_dir: huggingface_hub cache folder
    :param verbose: 0: silent, 1: progress messages
    :return: The run folder
    """
    name = env_name(env_id)
    files = fetch_files(
        repo_id,
        trust_remote_code=trust_remote_code,
        revision=revision,
        token=token,
        endpoint=endpoint,
        cache_dir=cache_dir,
        fallback_model_name=model_name(env_id),
    )
    log_path = zoo_log_path(folder, env_id, exp_id)
    if log_path.is_dir():
        if not force:
            raise ValueError(f"The folder {log_path} already exists, use --force to overwrite it, or --exp-id 0 for a new one")
        shutil.rmtree(log_path)
    config_folder = log_path / name
    config_folder.mkdir(parents=True)
    if verbose:
        print(f"Saving to {log_path}")

    if trust_remote_code:
        assert files.model_zip is not None
        downloader = Downloader(repo_id, revision, token, endpoint, cache_dir)
        shutil.copy(files.model_zip, log_path / f"{name}.zip")
        for filename in ("config.yml", "args.yml", "env_kwargs.yml"):
            path = downloader.get(filename, required=False)
            if path is not None:
                shutil.copy(path, config_folder / filename)
        if files.vec_normalize_pkl is not None:
            shutil.copy(files.vec_normalize_pkl, config_folder / "vecnormalize.pkl")
        metrics = downloader.get("train_eval_metrics.zip", required=False)
        if metrics is not None:
            with zipfile.ZipFile(metrics) as archive:
                archive.extractall(log_path)
        return log_path

    assert files.safe_model is not None and files.weights is not None
    model = load_safe_model(files.safe_model, files.weights, device="cpu")
    model.save(log_path / f"{name}.zip")
    has_vec_normalize = files.vec_normalize_json is not None
    if files.vec_normalize_json is not None:
        observation_space = stored_observation_space(files.vec_normalize_json) or model.observation_space
        carrier = _SpacesOnlyVecEnv(observation_space, model.action_space)
        load_vec_normalize(files.vec_normalize_json, carrier).save(str(config_folder / "vecnormalize.pkl"))
    config = files.config
    stored_hyperparams = config.get("zoo_hyperparams")
    hyperparams = stored_hyperparams if isinstance(stored_hyperparams, dict) else {"policy": config.get("policy", "MlpPolicy")}
    hyperparams = safe_zoo_hyperparams(hyperparams, has_vec_normalize)
    stored_env_kwargs = config.get("env_kwargs")
    env_kwargs: dict[str, Any] = stored_env_kwargs if isinstance(stored_env_kwargs, dict) else {}
    _write_yaml(config_folder / "config.yml", hyperparams)
    _write_yaml(config_folder / "args.yml", {"algo": ALGO, "env": env_id, "env_kwargs": env_kwargs or None})
    _write_yaml(config_folder / "env_kwargs.yml", env_kwargs)
    return log_path


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    # safe_dump writes plain YAML only: rl_zoo3's UnsafeLoader reads it back as the same plain data.
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    path.write_text(yaml.safe_dump(plain(data), sort_keys=True), encoding="utf-8")
