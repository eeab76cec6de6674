"""
``VecNormalize`` statistics as plain JSON (``vec_normalize.json``), next to SB3's pickle (``vec_normalize.pkl``).

``VecNormalize.load`` unpickles: from a stranger's repository that runs their code. The JSON file holds only
numbers (running mean, variance and count of the observations and of the returns, and the settings), and
is applied to an environment the user builds.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gymnasium import spaces
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from sb3_reinforce.hub.errors import ModelFormatError
from sb3_reinforce.hub.safe_format import read_json_file
from sb3_reinforce.hub.spaces_json import array_from_json, array_to_json, space_from_json, space_to_json

VEC_NORMALIZE_FORMAT = "sb3-reinforce/vec-normalize"
VEC_NORMALIZE_FORMAT_VERSION = 1
VEC_NORMALIZE_JSON = "vec_normalize.json"
VEC_NORMALIZE_PKL = "vec_normalize.pkl"
_SETTINGS = ("norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma", "epsilon")


def _rms_to_json(rms: RunningMeanStd) -> dict[str, Any]:
    return {"mean": array_to_json(rms.mean), "var": array_to_json(rms.var), "count": float(rms.count)}


def _moments_from_json(data: Any, where: str) -> RunningMeanStd:
    """Running mean, variance and count as read from the file: checked, not yet fitted to an environment."""
    if not isinstance(data, dict) or not isinstance(data.get("count"), int | float) or isinstance(data.get("count"), bool):
        raise ModelFormatError(f"{where}: expected an object with mean, var and count")
    mean, var = array_from_json(data.get("mean"), f"{where}.mean"), array_from_json(data.get("var"), f"{where}.var")
    moments = RunningMeanStd(shape=mean.shape)
    moments.mean, moments.var, moments.count = mean, var, float(data["count"])
    return moments


def _is_moments(data: Any) -> bool:
    # A Dict space's statistics are a mapping of such objects: only a single one has a number as count.
    return isinstance(data, dict) and isinstance(data.get("count"), int | float) and isinstance(data.get("mean"), dict)


def _copy_moments(moments: RunningMeanStd, target: RunningMeanStd, where: str) -> None:
    """Copy the statistics into ``target``, whose shape comes from the user's environment."""
    if moments.mean.shape != target.mean.shape or moments.var.shape != target.var.shape:
        raise ModelFormatError(
            f"{where}: statistics of shape {moments.mean.shape} do not fit the environment's observations of shape "
            f"{target.mean.shape}"
        )
    target.mean, target.var = moments.mean.astype(target.mean.dtype), moments.var.astype(target.var.dtype)
    target.count = moments.count


@dataclass
class VecNormalizeStats:
    """The content of a ``vec_normalize.json``, checked: settings, statistics and the recorded observation space."""

    file_name: str
    flags: dict[str, bool]
    numbers: dict[str, float]
    norm_obs_keys: list[str] | None
    obs_rms: RunningMeanStd | dict[str, RunningMeanStd] | None
    ret_rms: RunningMeanStd
    observation_space: spaces.Space | None


def read_vec_normalize(path: str | Path) -> VecNormalizeStats:
    """
    Read and check ``vec_normalize.json`` without building anything: a bad file is refused before any
    environment is made for it.

    :param path: The JSON file
    :return: Its content
    :raises UnsafeModelError: if the file is a pickle or a zip
    :raises ModelFormatError: if it is not VecNormalize statistics written by this package
    """
    name = Path(path).name
    data = read_json_file(path, VEC_NORMALIZE_FORMAT, "VecNormalize statistics")
    flags: dict[str, bool] = {}
    numbers: dict[str, float] = {}
    for setting in _SETTINGS:
        value = data.get(setting)
        is_flag = setting.startswith("norm_")
        if is_flag != isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelFormatError(f"{name}: {setting} is missing or has the wrong type ({value!r})")
        if is_flag:
            flags[setting] = bool(value)
        else:
            numbers[setting] = float(value)
    keys = data.get("norm_obs_keys")
    if keys is not None and not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)):
        raise ModelFormatError(f"{name}: norm_obs_keys must be a list of strings")
    stored_obs = data.get("obs_rms")
    obs_rms: RunningMeanStd | dict[str, RunningMeanStd] | None = None
    if not flags["norm_obs"] or stored_obs is None:
        pass
    elif _is_moments(stored_obs):
        obs_rms = _moments_from_json(stored_obs, "obs_rms")
    elif isinstance(stored_obs, dict):
        obs_rms = {str(key): _moments_from_json(value, f"obs_rms[{key!r}]") for key, value in stored_obs.items()}
    else:
        raise ModelFormatError(f"{name}: obs_rms must be an object")
    stored_space = data.get("observation_space")
    return VecNormalizeStats(
        file_name=name,
        flags=flags,
        numbers=numbers,
        norm_obs_keys=keys,
        obs_rms=obs_rms,
        ret_rms=_moments_from_json(data.get("ret_rms"), "ret_rms"),
        observation_space=space_from_json(stored_space, "observation_space") if stored_space else None,
    )


def vec_normalize_to_json(vec_normalize: VecNormalize) -> dict[str, Any]:
    """
    :param vec_normalize: The wrapper whose statistics to describe
    :return: Plain JSON data
    """
    data: dict[str, Any] = {"format": VEC_NORMALIZE_FORMAT, "format_version": VEC_NORMALIZE_FORMAT_VERSION}
    for name in _SETTINGS:
        value = getattr(vec_normalize, name)
        data[name] = bool(value) if name.startswith("norm_") else float(value)
    data["norm_obs_keys"] = list(vec_normalize.norm_obs_keys) if vec_normalize.norm_obs_keys is not None else None
    # Without norm_obs, SB3 never creates obs_rms.
    obs_rms = getattr(vec_normalize, "obs_rms", None)
    if obs_rms is None:
        data["obs_rms"] = None
    elif isinstance(obs_rms, dict):
        data["obs_rms"] = {key: _rms_to_json(rms) for key, rms in obs_rms.items()}
    else:
        data["obs_rms"] = _rms_to_json(obs_rms)
    data["ret_rms"] = _rms_to_json(vec_normalize.ret_rms)
    # The wrapped env's space (before any image transposition SB3 adds outside): what the statistics apply to.
    data["observation_space"] = space_to_json(vec_normalize.venv.observation_space)
    return data


def save_vec_normalize(vec_normalize: VecNormalize, directory: str | Path) -> tuple[Path, Path]:
    """
    Write ``vec_normalize.json`` (safe) and ``vec_normalize.pkl`` (SB3/rl_zoo3 compatibility) into ``directory``.

    :return: Paths of the JSON and of the pickle
    """
    directory = Path(directory)
    json_path, pkl_path = directory / VEC_NORMALIZE_JSON, directory / VEC_NORMALIZE_PKL
    json_path.write_text(json.dumps(vec_normalize_to_json(vec_normalize), indent=2) + "\n", encoding="utf-8")
    vec_normalize.save(str(pkl_path))
    return json_path, pkl_path


def stored_observation_space(path: str | Path) -> spaces.Space | None:
    """
    :param path: A ``vec_normalize.json`` file
    :return: The observation space of the environment the statistics were collected on, if recorded
    """
    return read_vec_normalize(path).observation_space


def load_vec_normalize(stats: str | Path | VecNormalizeStats, venv: VecEnv) -> VecNormalize:
    """
    Wrap ``venv`` in a ``VecNormalize`` holding the statistics of ``vec_normalize.json``, ready for evaluation
    (``training=False``, ``norm_reward=False``).

    :param stats: The JSON file, or its content (:func:`read_vec_normalize`)
    :param venv: The environment to wrap (its observation space must match the statistics)
    :return: The wrapper
    """
    if not isinstance(stats, VecNormalizeStats):
        stats = read_vec_normalize(stats)
    try:
        vec_normalize = VecNormalize(
            venv,
            training=False,
            norm_obs=stats.flags["norm_obs"],
            norm_reward=stats.flags["norm_reward"],
            clip_obs=stats.numbers["clip_obs"],
            clip_reward=stats.numbers["clip_reward"],
            gamma=stats.numbers["gamma"],
            epsilon=stats.numbers["epsilon"],
            norm_obs_keys=stats.norm_obs_keys,
        )
    except (ValueError, AssertionError, KeyError) as error:
        raise ModelFormatError(f"The VecNormalize statistics do not fit this environment: {error}") from error
    if not vec_normalize.norm_obs:
        pass
    elif isinstance(vec_normalize.obs_rms, dict):
        stored = stats.obs_rms
        if not isinstance(stored, dict) or set(stored) != set(vec_normalize.obs_rms):
            raise ModelFormatError(f"obs_rms must hold the keys {sorted(vec_normalize.obs_rms)}")
        for key, rms in vec_normalize.obs_rms.items():
            _copy_moments(stored[key], rms, f"obs_rms[{key!r}]")
    else:
        if not isinstance(stats.obs_rms, RunningMeanStd):
            raise ModelFormatError(f"{stats.file_name}: obs_rms must hold mean, var and count")
        _copy_moments(stats.obs_rms, vec_normalize.obs_rms, "obs_rms")
    _copy_moments(stats.ret_rms, vec_normalize.ret_rms, "ret_rms")
    # Evaluation setting (as rl_zoo3 and SB3 recommend): frozen statistics, raw rewards.
    vec_normalize.norm_reward = False
    return vec_normalize
