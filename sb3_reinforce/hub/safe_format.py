"""
Pickle-free model files: a JSON description plus a PyTorch state dict read with ``weights_only=True``.

An SB3 zip cloudpickles the spaces, the policy class and the learning-rate schedule: opening one from a
stranger runs their code. The safe pair written here holds the same information as plain data:

- ``<model_name>.safe.json``: format tag and version, the policy alias (``MlpPolicy``, ``CnnPolicy``,
  ``MultiInputPolicy``), the observation and action spaces (:mod:`~sb3_reinforce.hub.spaces_json`), the
  constructor hyperparameters and ``policy_kwargs`` (:mod:`~sb3_reinforce.hub.json_values`; classes by name,
  from a fixed table), ``n_envs``, ``num_timesteps`` and the name and SHA-256 of the weights file.
- ``<model_name>.safe.pth``: ``{"policy": policy.state_dict(), "policy.optimizer": optimizer.state_dict()}``
  saved with ``torch.save`` and read with ``torch.load(weights_only=True)``, which only rebuilds tensors and
  plain containers and refuses any other object without creating it.
"""

import hashlib
import json
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.vec_env import VecEnv

from sb3_reinforce.hub.errors import ModelFormatError, UnsafeModelError
from sb3_reinforce.hub.json_values import decode_schedule, decode_value, encode_schedule, encode_value
from sb3_reinforce.hub.limits import check_description_size
from sb3_reinforce.hub.spaces_json import space_from_json, space_to_json
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.version import __version__

SAFE_FORMAT = "sb3-reinforce/safe-model"
SAFE_FORMAT_VERSION = 1
SAFE_MODEL_SUFFIX = ".safe.json"
SAFE_WEIGHTS_SUFFIX = ".safe.pth"
# A description is a few kB (image bounds are stored as one fill value): anything huge is not ours.
MAX_JSON_BYTES = 32 * 1024 * 1024

POLICY_ALIASES: dict[type, str] = {
    ActorCriticPolicy: "MlpPolicy",
    ActorCriticCnnPolicy: "CnnPolicy",
    MultiInputActorCriticPolicy: "MultiInputPolicy",
}
# Constructor keywords stored as plain values; learning_rate and rollout_buffer_class are handled apart.
HYPERPARAMETERS = (
    "n_steps",
    "n_episodes",
    "batch_size",
    "n_epochs",
    "gamma",
    "gae_lambda",
    "baseline",
    "normalize_advantage",
    "ent_coef",
    "vf_coef",
    "max_grad_norm",
    "use_sde",
    "sde_sample_freq",
    "max_episode_length",
    "rollout_buffer_kwargs",
    "stats_window_size",
)


def file_sha256(path: str | Path) -> str:
    """:return: Hex SHA-256 of the file's bytes"""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_model(model: REINFORCE) -> tuple[dict[str, Any], list[str]]:
    """
    Describe a model's construction as plain JSON data.

    :param model: A REINFORCE model
    :return: The description (without the weights entry) and warnings about what was approximated
    :raises ValueError: if something that changes the policy's output cannot be stored without pickle
    """
    if not isinstance(model, REINFORCE):
        raise TypeError(f"Only REINFORCE models can be stored in the safe format, got {type(model).__name__}")
    policy_class = model.policy_class if isinstance(model.policy_class, type) else type(model.policy)
    if policy_class not in POLICY_ALIASES:
        raise ValueError(
            f"The policy class {policy_class.__name__} cannot be stored in the safe format: only MlpPolicy, CnnPolicy and "
            "MultiInputPolicy (SB3's actor-critic policies) are supported"
        )
    warning_list: list[str] = []
    # Stand-in for a custom schedule: its current value, or its initial one once it has reached 0 (or gone past
    # it: the last rollout of REINFORCE may overshoot the budget), since the constructor needs a positive rate.
    current_lr = float(model.lr_schedule(model._current_progress_remaining))
    if not (np.isfinite(current_lr) and current_lr > 0):
        current_lr = float(model.lr_schedule(1.0))
    learning_rate, warning = encode_schedule(model.learning_rate, current_lr, "learning_rate")
    if warning:
        warning_list.append(warning)
    hyperparameters: dict[str, Any] = {"learning_rate": learning_rate}
    for name in HYPERPARAMETERS:
        # SB3 keeps some constructor arguments under a private name (e.g. ``_stats_window_size``).
        value = getattr(model, name) if hasattr(model, name) else getattr(model, f"_{name}")
        hyperparameters[name] = encode_value(value, name)
    try:
        hyperparameters["rollout_buffer_class"] = encode_value(model.rollout_buffer_class, "rollout_buffer_class")
    except ValueError:
        # Only training uses the buffer: a custom one is dropped (with a warning) rather than refused.
        warning_list.append(
            f"rollout_buffer_class={model.rollout_buffer_class!r} is custom and was not stored: the default buffer is used"
        )
        hyperparameters["rollout_buffer_class"] = None
    description = {
        "format": SAFE_FORMAT,
        "format_version": SAFE_FORMAT_VERSION,
        "algo": "REINFORCE",
        "policy": POLICY_ALIASES[policy_class],
        "observation_space": space_to_json(model.observation_space),
        "action_space": space_to_json(model.action_space),
        "hyperparameters": hyperparameters,
        "policy_kwargs": encode_value(dict(model.policy_kwargs), "policy_kwargs"),
        "n_envs": int(model.n_envs or 1),
        "num_timesteps": int(model.num_timesteps),
        "versions": {
            "sb3_reinforce": __version__,
            "stable_baselines3": stable_baselines3.__version__,
            "torch": th.__version__,
        },
    }
    return description, warning_list


def save_safe_model(model: REINFORCE, directory: str | Path, model_name: str) -> tuple[Path, Path]:
    """
    Write ``<model_name>.safe.json`` and ``<model_name>.safe.pth`` into ``directory``.

    :param model: The model to save
    :param directory: Existing folder
    :param model_name: Base name of the files
    :return: Paths of the description and of the weights
    :raises ValueError: if the model uses something that cannot be stored without pickle
    """
    description, warning_list = describe_model(model)
    for message in warning_list:
        warnings.warn(message, stacklevel=2)
    directory = Path(directory)
    weights_path = directory / f"{model_name}{SAFE_WEIGHTS_SUFFIX}"
    description_path = directory / f"{model_name}{SAFE_MODEL_SUFFIX}"
    state = {
        "policy": {key: tensor.detach().cpu() for key, tensor in model.policy.state_dict().items()},
        "policy.optimizer": model.policy.optimizer.state_dict(),
    }
    th.save(state, weights_path)
    description["weights"] = {"file": weights_path.name, "sha256": file_sha256(weights_path)}
    description_path.write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
    return description_path, weights_path


def read_json_file(path: str | Path, expected_format: str, what: str) -> dict[str, Any]:
    """
    Read a JSON file written by this package, checking its format tag.

    :param path: File path
    :param expected_format: Value of its ``"format"`` entry
    :param what: What the file should be, for messages
    :return: The parsed JSON object
    """
    path = Path(path)
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ModelFormatError(f"{path.name} is too large to be {what}")
    raw = path.read_bytes()
    if raw.startswith((b"PK\x03\x04", b"\x80")):
        # A zip archive or a pickle stream where JSON was expected: never hand it to anything that unpickles.
        raise UnsafeModelError(f"{path.name} should be {what} (plain JSON) but is a zip archive or a pickle: refused")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFormatError(f"{path.name} is not {what}: it is not valid JSON ({error})") from error
    if not isinstance(data, dict) or data.get("format") != expected_format:
        raise ModelFormatError(f"{path.name} is not {what}: its 'format' entry is not {expected_format!r}")
    return data


def load_weights(path: str | Path) -> dict[str, Any]:
    """
    Read a ``.safe.pth`` file without unpickling anything but tensors and plain containers.

    :param path: The weights file
    :return: ``{"policy": state_dict, "policy.optimizer": state_dict (optional)}``
    :raises UnsafeModelError: if the file holds any other object (nothing of it is created)
    """
    path = Path(path)
    # torch.save writes a zip archive; anything else is not a file we wrote (the legacy format is refused too).
    if not zipfile.is_zipfile(path):
        raise ModelFormatError(f"{path.name} is not a PyTorch weights file (torch.save zip archive)")
    try:
        state = th.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise UnsafeModelError(
            f"{path.name} holds objects other than tensors, which would run code when unpickled: refused "
            f"(torch.load weights_only=True). Details: {str(error).splitlines()[0]}"
        ) from error
    except (RuntimeError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise ModelFormatError(f"{path.name} is not a readable PyTorch weights file: {error}") from error
    policy_state = state.get("policy") if isinstance(state, dict) else None
    if not isinstance(policy_state, dict) or not all(
        isinstance(key, str) and isinstance(value, th.Tensor) for key, value in policy_state.items()
    ):
        raise ModelFormatError(f"{path.name} does not hold a policy state dict under the 'policy' key")
    return state


def _new_model(
    policy: str,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    kwargs: dict[str, Any],
    n_envs: int,
    device: th.device | str,
) -> REINFORCE:
    """Build an untrained model from its spaces, without an environment."""
    if policy in ("MlpPolicy", "CnnPolicy") and isinstance(observation_space, spaces.Dict):
        raise ModelFormatError(f"{policy} cannot be used with a Dict observation space (MultiInputPolicy is needed)")
    if kwargs.get("use_sde") and not isinstance(action_space, spaces.Box):
        raise ModelFormatError("use_sde needs a Box action space")
    model = REINFORCE.__new__(REINFORCE)
    # SB3 only sets the spaces from an env, and REINFORCE's constructor checks the action space: without an env
    # (loading for prediction) they must be in place before it runs.
    model.observation_space = observation_space
    model.action_space = action_space
    REINFORCE.__init__(model, policy, None, device=device, _init_setup_model=False, **kwargs)  # type: ignore[misc, arg-type]
    model.n_envs = n_envs
    model._setup_model()
    return model


def load_safe_model(
    description_path: str | Path,
    weights_path: str | Path | None = None,
    *,
    env: gym.Env | VecEnv | None = None,
    device: th.device | str = "auto",
) -> REINFORCE:
    """
    Rebuild a REINFORCE model from its safe files; nothing is unpickled.

    :param description_path: The ``.safe.json`` file
    :param weights_path: The ``.safe.pth`` file (default: the one named in the description, next to it)
    :param env: Environment to attach (its spaces must match); None to only predict
    :param device: PyTorch device for the policy
    :return: The model, with the saved weights (and optimizer state)
    :raises UnsafeModelError: if a file would need unpickling or names a class outside the allowed table
    :raises ModelFormatError: if a file is not a model written by this package, or describes one too large
        for memory (see :mod:`~sb3_reinforce.hub.limits`)
    """
    description_path = Path(description_path)
    description = read_json_file(description_path, SAFE_FORMAT, "a safe REINFORCE model description")
    version = description.get("format_version")
    if not isinstance(version, int) or version > SAFE_FORMAT_VERSION:
        raise ModelFormatError(
            f"{description_path.name} has format version {version!r}; this sb3-reinforce ({__version__}) reads up to "
            f"{SAFE_FORMAT_VERSION}: upgrade sb3-reinforce"
        )
    weights_entry = description.get("weights")
    if not isinstance(weights_entry, dict) or not isinstance(weights_entry.get("file"), str):
        raise ModelFormatError(f"{description_path.name} does not name its weights file")
    weights_path = (
        Path(weights_path) if weights_path is not None else description_path.parent / Path(weights_entry["file"]).name
    )

    policy = description.get("policy")
    if not isinstance(policy, str) or policy not in POLICY_ALIASES.values():
        raise ModelFormatError(f"Unknown policy {policy!r} (expected one of {', '.join(POLICY_ALIASES.values())})")
    observation_space = space_from_json(description.get("observation_space"), "observation_space")
    action_space = space_from_json(description.get("action_space"), "action_space")

    stored = description.get("hyperparameters")
    if not isinstance(stored, dict):
        raise ModelFormatError(f"{description_path.name} has no 'hyperparameters' object")
    known = {"learning_rate", "rollout_buffer_class", *HYPERPARAMETERS}
    unknown = sorted(set(stored) - known)
    if unknown:
        raise ModelFormatError(f"Unknown hyperparameters {unknown}: the file was written by a newer sb3-reinforce?")
    kwargs = {name: decode_value(value, name) for name, value in stored.items() if name != "learning_rate"}
    if "learning_rate" in stored:
        kwargs["learning_rate"] = decode_schedule(stored["learning_rate"], "learning_rate")
    policy_kwargs = decode_value(description.get("policy_kwargs") or {}, "policy_kwargs")
    if not isinstance(policy_kwargs, dict):
        raise ModelFormatError("policy_kwargs must be a JSON object")
    n_envs = description.get("n_envs", 1)
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ModelFormatError(f"n_envs must be a positive integer, got {n_envs!r}")
    check_description_size(description_path.name, policy, observation_space, action_space, kwargs, policy_kwargs, n_envs)

    # The weights are checked before anything is built: a refused file must stop everything.
    state = load_weights(weights_path)
    expected_sha = weights_entry.get("sha256")
    if expected_sha is not None and file_sha256(weights_path) != expected_sha:
        raise ModelFormatError(f"{weights_path.name} does not match the SHA-256 recorded in {description_path.name}")
    try:
        model = _new_model(policy, observation_space, action_space, {**kwargs, "policy_kwargs": policy_kwargs}, n_envs, device)
        model.policy.load_state_dict(state["policy"])
        if isinstance(state.get("policy.optimizer"), dict):
            model.policy.optimizer.load_state_dict(state["policy.optimizer"])
    except ModelFormatError:
        raise
    except (TypeError, ValueError, RuntimeError, AssertionError, KeyError) as error:
        raise ModelFormatError(f"{description_path.name} does not describe a valid REINFORCE model: {error}") from error
    num_timesteps = description.get("num_timesteps", 0)
    model.num_timesteps = num_timesteps if isinstance(num_timesteps, int) and not isinstance(num_timesteps, bool) else 0
    if model.use_sde:
        model.policy.reset_noise()
    if env is not None:
        model.set_env(env)
    return model
