"""
Load a REINFORCE model from a stranger's files without running their code: SB3's own zip read by SB3's own ``load``,
every value SB3 would unpickle (marked ``":serialized:"`` in its data) given as ``custom_objects`` built from a JSON
sidecar ``<model_name>.safe.json`` (spaces, policy alias, ``policy_kwargs`` with classes from :data:`CLASSES`, learning
rate, VecNormalize statistics); SB3 reads the ``.pth`` weights with ``weights_only=True``. Before anything is built,
allocation is bounded by the files: the weights' shapes, read from their pickles alone (``map_location="meta"``), must
be held by records of their size and be those of the policy built on the meta device; spaces may not hold more elements
than the policy has parameters; no zip member may unpack to much more than the bytes that hold it.
"""

import hashlib
import inspect
import io
import json
import math
import pickle
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor, NatureCNN
from stable_baselines3.common.type_aliases import GymEnv
from stable_baselines3.common.utils import ConstantSchedule
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecFrameStack, VecNormalize
from torch.overrides import TorchFunctionMode

from sb3_reinforce.common.buffers import DictEpisodicRolloutBuffer, EpisodicRolloutBuffer
from sb3_reinforce.hub.errors import ModelFormatError, UnsafeModelError
from sb3_reinforce.reinforce import REINFORCE

FORMAT, FORMAT_VERSION, SIDECAR_SUFFIX, VEC_NORMALIZE_PKL = "sb3-reinforce/safe-model", 2, ".safe.json", "vec_normalize.pkl"
MAX_JSON_BYTES = 8 * 2**20  # a sidecar or config.json: a few kB, more with per-element bounds or statistics
MAX_DATA_BYTES = 64 * 2**20  # the zip's "data" (its largest values: the last observations of each env)
MAX_PICKLE_BYTES = 4 * 2**20  # the pickle of a .pth: names and shapes, the tensors are apart
MAX_DEPTH, MAX_VALUES = 32, 2**20  # of JSON: nesting (SB3's files: 5 deep), values (each a Python object when parsed)
MAX_N_ENVS = 4096  # kept when loading without env: REINFORCE keeps a running episode per env
# Values SB3 would unpickle that a loaded model starts without (as after ``set_env``).
RUNTIME_KEYS = ("_last_obs", "_last_episode_starts", "_last_original_obs", "ep_info_buffer", "ep_success_buffer")
ZIP_MEMBERS = ("data", "policy.pth", "policy.optimizer.pth", "pytorch_variables.pth", "_stable_baselines3_version")
_OPTIMIZERS = [cls for cls in vars(th.optim).values() if isinstance(cls, type) and issubclass(cls, th.optim.Optimizer)]
_SB3 = (RMSpropTFLike, FlattenExtractor, NatureCNN, CombinedExtractor, EpisodicRolloutBuffer, DictEpisodicRolloutBuffer)
#: The only classes a sidecar may name: torch's activations and optimizers, SB3's extractors, the rollout buffers. None of
#: them reads a file or runs a callable given to it.
CLASSES = {f"torch.nn.{name}": getattr(th.nn, name) for name in [*th.nn.modules.activation.__all__, "Identity"]}
CLASSES |= {f"torch.optim.{cls.__name__}": cls for cls in _OPTIMIZERS}
CLASSES |= {f"{cls.__module__}.{cls.__name__}": cls for cls in _SB3}
_NAMES = {cls: name for name, cls in CLASSES.items()}
_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64")
_SETTINGS = ("norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma", "epsilon")  # of VecNormalize


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _class_name(value: Any) -> Any:
    """``json.dumps``'s ``default``: a class of :data:`CLASSES` by name; anything else cannot be shared safely."""
    if isinstance(value, type) and value in _NAMES:
        return {"__class__": _NAMES[value]}
    if isinstance(value, np.generic):
        return value.item()
    raise ValueError(f"{value!r} cannot be shared safely: only plain values and these classes can, {sorted(CLASSES)}")


def decode(data: Any, where: str) -> Any:
    """:return: ``data`` with the classes named ``{"__class__": ...}`` taken from :data:`CLASSES`; nothing is imported"""
    if isinstance(data, list):
        return [decode(item, f"{where}[{index}]") for index, item in enumerate(data)]
    if isinstance(data, dict) and "__class__" in data:
        if data["__class__"] not in CLASSES or len(data) > 1:
            raise UnsafeModelError(
                f"{where} names the class {data['__class__']!r}, outside the table of classes a safe model may use: refused, "
                "not imported. Pass trust_remote_code=True only if you trust the repository."
            )
        return CLASSES[data["__class__"]]
    return {key: decode(item, f"{where}[{key!r}]") for key, item in data.items()} if isinstance(data, dict) else data


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def read_json(path: str | Path, what: str, raw: bytes | None = None) -> Any:
    """:return: The content of a JSON file from a repository (or of ``raw``, named ``path``), nested at most 32 deep"""
    path = Path(path)
    if raw is None and path.stat().st_size > MAX_JSON_BYTES:
        raise ModelFormatError(f"{path.name} is larger than {MAX_JSON_BYTES} bytes: it is not {what}")
    raw = path.read_bytes() if raw is None else raw
    if raw.startswith((b"PK\x03\x04", b"\x80")):
        raise UnsafeModelError(f"{path.name} should be {what} (plain JSON) but is a zip archive or a pickle: refused")
    if raw.count(b",") > MAX_VALUES:
        raise ModelFormatError(f"{path.name} holds more than {MAX_VALUES} values: it is not {what}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ModelFormatError(f"{path.name} is not {what}: {str(error)[:200]}") from error
    level = [data]
    for _ in range(MAX_DEPTH):
        level = [child for node in level for child in (node.values() if isinstance(node, dict) else _list(node))]
    if level:
        raise ModelFormatError(f"{path.name} nests JSON more than {MAX_DEPTH} deep: it is not {what}")
    return data


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """:return: Plain-JSON description of a Box, Discrete, MultiDiscrete, MultiBinary or Dict space"""
    if isinstance(space, spaces.Box):  # bounds: one number when all elements are equal (images), else the flat list
        low, high = (bound.ravel().tolist() for bound in (space.low, space.high))
        low, high = (bound[0] if len(set(bound)) == 1 else bound for bound in (low, high))
        return {"type": "Box", "dtype": space.dtype.name, "shape": list(space.shape), "low": low, "high": high}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        nvec, start = space.nvec.ravel().tolist(), space.start.ravel().tolist()
        return {"type": "MultiDiscrete", "shape": list(space.shape), "nvec": nvec, "start": start}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Dict) and all(isinstance(key, str) for key in space.spaces):
        return {"type": "Dict", "spaces": {key: space_to_json(subspace) for key, subspace in space.spaces.items()}}
    raise ValueError(f"The space {space} cannot be shared safely: only Box, Discrete, MultiDiscrete, MultiBinary, Dict")


def _shape(data: Any, where: str, budget: list[int]) -> tuple[int, ...]:
    """Check a shape and take its size from ``budget`` (elements left), before any array of that shape exists."""
    if not isinstance(data, list) or not all(isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 for dim in data):
        raise ModelFormatError(f"{where}: a shape must be a list of positive integers, got {str(data)[:100]}")
    budget[0] -= math.prod(data)
    if budget[0] < 0:
        raise ModelFormatError(f"{where}: {data} holds more elements than the policy has parameters (a crafted file?)")
    return tuple(data)


def _array(data: Any, shape: tuple[int, ...], dtype: Any, where: str) -> np.ndarray:
    values = data if isinstance(data, list) else [data]
    numbers = all(isinstance(value, int | float) and not isinstance(value, bool) for value in values)
    if not numbers or len(values) != (math.prod(shape) if isinstance(data, list) else 1):
        raise ModelFormatError(f"{where}: expected one number or {math.prod(shape)} of them")
    return np.array(values, dtype=dtype).reshape(shape) if isinstance(data, list) else np.full(shape, values[0], dtype=dtype)


def space_from_json(data: Any, where: str, budget: list[int]) -> spaces.Space:
    """:return: The space :func:`space_to_json` described, its elements taken from ``budget`` (``[elements left]``)"""
    kind = data.get("type") if isinstance(data, dict) else None
    try:
        if kind == "Box" and data.get("dtype") in _DTYPES:
            shape, dtype = _shape(data.get("shape"), f"{where}.shape", budget), np.dtype(data["dtype"])
            low, high = (_array(data.get(bound), shape, dtype, f"{where}.{bound}") for bound in ("low", "high"))
            return spaces.Box(low, high, shape, dtype.type)  # type: ignore[arg-type]
        if kind == "Discrete" and isinstance(data.get("start"), int) and not isinstance(data["start"], bool):
            return spaces.Discrete(_shape([data.get("n")], f"{where}.n", list(budget))[0], start=data["start"])
        if kind == "MultiDiscrete":
            shape = _shape(data.get("shape"), f"{where}.shape", budget)
            nvec, start = (_array(data.get(key), shape, np.int64, f"{where}.{key}") for key in ("nvec", "start"))
            return spaces.MultiDiscrete(nvec, start=start)
        if kind == "MultiBinary":
            shape = _shape(data["n"] if isinstance(data.get("n"), list) else [data.get("n")], f"{where}.n", budget)
            return spaces.MultiBinary(list(shape) if isinstance(data["n"], list) else shape[0])
        if kind == "Dict" and isinstance(data.get("spaces"), dict) and data["spaces"]:
            parts = data["spaces"].items()
            return spaces.Dict({key: space_from_json(value, f"{where}[{key!r}]", budget) for key, value in parts})
    except (TypeError, ValueError, AssertionError, OverflowError) as error:
        if isinstance(error, ModelFormatError):
            raise
        raise ModelFormatError(f"{where}: invalid {kind} space ({error})") from error
    raise ModelFormatError(f"{where}: unsupported or malformed space {str(data)[:200]}")


def _running_moments(vec_normalize: VecNormalize) -> dict[str, RunningMeanStd]:
    """:return: The statistics of ``vec_normalize`` by name: ``ret_rms``, ``obs_rms`` (``obs_rms/<key>`` for a Dict space)"""
    obs = vec_normalize.obs_rms if vec_normalize.norm_obs else None
    named = {f"obs_rms/{key}": rms for key, rms in obs.items()} if isinstance(obs, dict) else {"obs_rms": obs} if obs else {}
    return {"ret_rms": vec_normalize.ret_rms, **named}


def check_vec_normalize(data: Any, where: str) -> dict[str, Any]:
    """:return: VecNormalize statistics once checked: flags, positive numbers, a discount in [0, 1], finite moments"""
    for setting in _SETTINGS:
        value = data.get(setting) if isinstance(data, dict) else None
        valid = _real(value) and (0 <= value <= 1 if setting == "gamma" else value > 0)  # type: ignore[operator]
        if not (isinstance(value, bool) if setting.startswith("norm_") else valid):
            raise ModelFormatError(f"{where}.{setting}={value!r} is invalid")
    keys, moments = data.get("norm_obs_keys"), data.get("moments")
    if keys is not None and not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)):
        raise ModelFormatError(f"{where}.norm_obs_keys must be a list of strings")
    for name, value in moments.items() if isinstance(moments, dict) else [("moments", None)]:
        mean, var, count = (value.get(key) if isinstance(value, dict) else None for key in ("mean", "var", "count"))
        mean, var = _list(mean), _list(var)
        valid = all(_real(item) for item in [*mean, *var, count]) and len(mean) == len(var) > 0
        if not valid or min(var) < 0 or count <= 0:  # type: ignore[operator]
            raise ModelFormatError(f"{where}.{name} needs finite mean and var lists of one length, var >= 0 and count > 0")
    return data


def wrap_vec_normalize(stats: dict[str, Any], venv: VecEnv) -> VecNormalize:
    """:return: ``venv`` in a ``VecNormalize`` with checked statistics, as for evaluation: frozen, raw rewards"""
    settings = {name: stats[name] for name in _SETTINGS if name != "norm_reward"}
    try:
        vec_normalize = VecNormalize(venv, training=False, norm_reward=False, norm_obs_keys=stats["norm_obs_keys"], **settings)
    except (ValueError, AssertionError) as error:
        raise ModelFormatError(f"The VecNormalize statistics do not fit this environment: {error}") from error
    for name, rms in _running_moments(vec_normalize).items():
        if len(stats["moments"].get(name, {}).get("mean", [])) != rms.mean.size:
            raise ModelFormatError(f"The VecNormalize statistics have no {name} for observations of shape {rms.mean.shape}")
        stored = stats["moments"][name]
        rms.mean, rms.var = (np.array(stored[key], dtype=np.float64).reshape(rms.mean.shape) for key in ("mean", "var"))
        rms.count = float(stored["count"])
    return vec_normalize


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_safe_model(
    model: REINFORCE, directory: str | Path, name: str, vec_normalize: VecNormalize | None = None
) -> list[Path]:
    """
    Write ``<name>.zip`` (``model.save``), its sidecar ``<name>.safe.json`` (the learning rate as its value now) and,
    with ``vec_normalize``, SB3's ``vec_normalize.pkl`` into ``directory``.

    :return: The paths written
    :raises ValueError: if the model holds what the sidecar cannot describe (a custom class, non-finite statistics...)
    """
    aliases = {cls: alias for alias, cls in REINFORCE.policy_aliases.items()}
    if not isinstance(model, REINFORCE) or model.policy_class not in aliases:
        raise ValueError(f"Only REINFORCE models with the policies {sorted(REINFORCE.policy_aliases)} can be shared safely")
    learning_rate = float(model.lr_schedule(model._current_progress_remaining))
    sidecar = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "policy": aliases[model.policy_class],
        "observation_space": space_to_json(model.observation_space),
        "action_space": space_to_json(model.action_space),
        "policy_kwargs": dict(model.policy_kwargs),
        # A schedule that has reached 0 would be refused by the constructor: then the initial rate.
        "learning_rate": learning_rate if learning_rate > 0 else float(model.lr_schedule(1.0)),
        "rollout_buffer_class": model.rollout_buffer_class,
        "vec_normalize": None,
    }
    if vec_normalize is not None:
        moments = {}
        for key, rms in _running_moments(vec_normalize).items():
            moments[key] = {"mean": rms.mean.ravel().tolist(), "var": rms.var.ravel().tolist(), "count": float(rms.count)}
        settings = {setting: getattr(vec_normalize, setting) for setting in _SETTINGS}
        sidecar["vec_normalize"] = {**settings, "norm_obs_keys": vec_normalize.norm_obs_keys, "moments": moments}
        check_vec_normalize(sidecar["vec_normalize"], "vec_normalize")  # non-finite statistics are refused now, not at load
    json.dumps(sidecar, default=_class_name)  # fails on what cannot be described, before any file is written
    paths = [Path(directory) / f"{name}.zip", Path(directory) / f"{name}{SIDECAR_SUFFIX}"]
    model.save(paths[0])
    sidecar.update(model=paths[0].name, sha256=file_sha256(paths[0]))
    paths[1].write_text(json.dumps(sidecar, indent=2, default=_class_name) + "\n", encoding="utf-8")
    if vec_normalize is not None:
        vec_normalize.save(str(Path(directory) / VEC_NORMALIZE_PKL))
    return paths + [Path(directory) / VEC_NORMALIZE_PKL] * (vec_normalize is not None)


def _tensors(value: Any) -> Iterator[th.Tensor]:
    if isinstance(value, th.Tensor):
        yield value
    elif isinstance(value, dict | list | tuple):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _tensors(item)


def _declared(archive: zipfile.ZipFile, name: str, where: str) -> Any:
    """
    :return: What a ``.pth`` member declares, tensors on the meta device (their data unread), once checked that it holds
        stored records only, each tensor a whole storage held by one of its size: a real load allocates no more
    """
    info, member = archive.getinfo(name), io.BytesIO(archive.read(name))  # bytes downloaded as they are (checked)
    with zipfile.ZipFile(member) as inner:
        records = inner.infolist()
    pickles = [record.file_size for record in records if record.filename.endswith("/data.pkl")]
    if {record.compress_type for record in records} != {zipfile.ZIP_STORED} or len(pickles) != 1:
        raise ModelFormatError(f"{where} is not a file written by torch.save")
    overhead = info.file_size - sum(record.file_size for record in records)  # headers and directory, 160 bytes a record
    if pickles[0] > MAX_PICKLE_BYTES or overhead > 512 * (len(records) + 2):
        raise ModelFormatError(f"{where} holds more than its tensors (trailing or hidden data): refused before reading it")
    try:
        member.seek(0)
        content = th.load(member, map_location="meta", weights_only=True)
        tensors = list(_tensors(content))
    except pickle.UnpicklingError as error:
        raise UnsafeModelError(f"{where} holds objects other than tensors, which would run code: refused ({error})") from error
    except (RuntimeError, ValueError, EOFError, KeyError, zipfile.BadZipFile, RecursionError) as error:
        raise ModelFormatError(f"{where} is not readable: {str(error)[:200]}") from error
    sizes = {record.file_size for record in records if record.filename.split("/", 1)[-1].startswith("data/")}
    for tensor in tensors:  # tensors may share a storage (SB3's shared features extractor)
        nbytes = tensor.untyped_storage().nbytes()
        if tensor.storage_offset() != 0 or nbytes != tensor.numel() * tensor.element_size() or nbytes not in sizes:
            raise ModelFormatError(f"{where}: the sizes of its tensors do not match the data it holds (a crafted file?)")
    return content


class _StayOnMeta(TorchFunctionMode):
    """SB3 moves sub-networks to the policy's device, "cpu" until a layer has parameters: keep them on meta."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if func is th.Tensor.to and isinstance(args[0], th.Tensor) and args[0].is_meta:
            return args[0]
        return func(*args, **(kwargs or {}))


def _check_weights(custom_objects: dict[str, Any], use_sde: Any, state: Any, where: str) -> None:
    """Build the policy the sidecar describes on the meta device and refuse weights that are not exactly its own."""
    validate = th.distributions.Distribution._validate_args
    th.distributions.Distribution.set_default_validate_args(False)  # gSDE's Normal would read a value of a meta tensor
    kwargs = {**custom_objects["policy_kwargs"], "ortho_init": False}  # initialization changes no shape
    spaces_of_policy = custom_objects["observation_space"], custom_objects["action_space"]
    try:
        with th.device("meta"), _StayOnMeta():
            policy = custom_objects["policy_class"](*spaces_of_policy, ConstantSchedule(1.0), use_sde=use_sde, **kwargs)
    except (TypeError, ValueError, RuntimeError, AssertionError, KeyError, IndexError) as error:
        raise ModelFormatError(f"policy_kwargs {kwargs} do not describe a policy: {str(error)[:200]}") from error
    finally:
        th.distributions.Distribution.set_default_validate_args(validate)
    expected = {name: (tuple(tensor.shape), tensor.dtype) for name, tensor in policy.state_dict().items()}
    declared = {name: (tuple(tensor.shape), tensor.dtype) for name, tensor in state.items()} if isinstance(state, dict) else {}
    mismatched = [name for name in sorted(set(expected) | set(declared)) if expected.get(name) != declared.get(name)]
    if mismatched:
        raise ModelFormatError(
            f"{where}/policy.pth: {mismatched[0]} is {declared.get(mismatched[0])} but the policy of the sidecar (policy, "
            f"spaces, policy_kwargs) has {expected.get(mismatched[0])}: refused before anything was allocated"
        )


def _check_data(data: Any, custom_objects: dict[str, Any], where: str) -> None:
    """Refuse values SB3 would unpickle that the sidecar does not supply, and values REINFORCE itself refuses."""
    if not isinstance(data, dict):
        raise ModelFormatError(f"{where}/data is not a JSON object")
    probe = REINFORCE(custom_objects["policy_class"], None, _init_setup_model=False)  # type: ignore[arg-type]
    known = set(probe.__dict__) - set(probe._excluded_save_params()) | {"observation_space", "action_space", "n_envs"}
    for key, value in data.items():
        if isinstance(value, dict) and ":serialized:" in value and key not in custom_objects:
            raise UnsafeModelError(
                f"{where}/data: {key!r} is a pickled value the sidecar does not supply: SB3 would unpickle it, i.e. run "
                "code chosen by the repository. Refused (trust_remote_code=True loads it, if you trust the repository)"
            )
        if key not in known and key not in custom_objects:
            raise UnsafeModelError(f"{where}/data: {key!r} is not a REINFORCE setting, and SB3 would set it on the model")
    n_envs = data.get("n_envs", 1)
    if not isinstance(n_envs, int) or isinstance(n_envs, bool) or not 0 < n_envs <= MAX_N_ENVS:
        raise ModelFormatError(f"{where}/data: n_envs must be an integer from 1 to {MAX_N_ENVS}, got {n_envs!r}")
    names = set(inspect.signature(REINFORCE.__init__).parameters) - {"self", "policy", "env", "device", "tensorboard_log"}
    kwargs = {name: data[name] for name in names if name in data} | {"stats_window_size": data.get("_stats_window_size", 100)}
    kwargs.update({name: custom_objects[name] for name in ("learning_rate", "rollout_buffer_class", "policy_kwargs")})
    try:
        REINFORCE(custom_objects["policy_class"], None, _init_setup_model=False, **kwargs)  # type: ignore[arg-type]
    except (ValueError, TypeError) as error:
        raise ModelFormatError(f"{where}/data: {error}") from error


def safe_custom_objects(zip_path: str | Path, sidecar_path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """
    Check a model zip and its sidecar, building nothing real.

    :return: The ``custom_objects`` with which ``REINFORCE.load`` reads the zip without unpickling anything, and the sidecar
    :raises UnsafeModelError: if loading would unpickle or import something chosen by the repository
    :raises ModelFormatError: if a file is malformed, or asks to allocate more than the files hold
    """
    zip_path, sidecar_path = Path(zip_path), Path(sidecar_path)
    sidecar = read_json(sidecar_path, "a safe REINFORCE model description")
    version = sidecar.get("format_version") if isinstance(sidecar, dict) else None
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT or version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{sidecar_path.name} is not in the safe format {FORMAT_VERSION} this version reads (format {version!r}; format "
            "1, with .safe.pth weights, came before): load the SB3 zip with trust_remote_code=True if you trust it, or repack"
        )
    if sidecar.get("sha256") != file_sha256(zip_path):
        raise ModelFormatError(f"{zip_path.name} does not match the SHA-256 recorded in {sidecar_path.name}")
    where = zip_path.name
    with zipfile.ZipFile(zip_path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        unknown = sorted(set(infos) - {*ZIP_MEMBERS, "system_info.txt"})
        if unknown or len(infos) != len(archive.infolist()) or not {"data", "policy.pth"} <= set(infos):
            raise ModelFormatError(f"{where} is not a REINFORCE model zip (members {sorted(infos)}, unexpected {unknown})")
        for info in infos.values():
            # SB3 stores its members as they are: a member much larger than the bytes that hold it is a zip bomb.
            if info.file_size > min(2 * info.compress_size + 2**16, MAX_DATA_BYTES if info.filename == "data" else math.inf):
                raise ModelFormatError(f"{where}/{info.filename} unpacks to {info.file_size} bytes: refused before unpacking")
        state, _, variables = (
            _declared(archive, name, f"{where}/{name}") if name in infos else None for name in ZIP_MEMBERS[1:4]
        )
        data = read_json(f"{where}/data", "SB3 model data", raw=archive.read("data"))
    if variables not in (None, {}):
        raise ModelFormatError(f"{where}/pytorch_variables.pth must be empty: REINFORCE has no PyTorch variables")
    if not isinstance(sidecar.get("policy_kwargs"), dict) or sidecar.get("policy") not in REINFORCE.policy_aliases:
        raise ModelFormatError(
            f"{sidecar_path.name}: policy must be in {list(REINFORCE.policy_aliases)}, policy_kwargs a dict"
        )
    budget = [sum(tensor.numel() for tensor in _tensors(state))]
    custom_objects = {
        "policy_class": REINFORCE.policy_aliases[sidecar["policy"]],
        "observation_space": space_from_json(sidecar.get("observation_space"), "observation_space", budget),
        "action_space": space_from_json(sidecar.get("action_space"), "action_space", budget),
        "policy_kwargs": decode(sidecar["policy_kwargs"], "policy_kwargs"),
        "learning_rate": sidecar.get("learning_rate"),
        "lr_schedule": ConstantSchedule(sidecar.get("learning_rate")),  # type: ignore[arg-type]  # checked in _check_data
        "rollout_buffer_class": decode(sidecar.get("rollout_buffer_class"), "rollout_buffer_class"),
        **dict.fromkeys(RUNTIME_KEYS),
        "tensorboard_log": None,  # a folder the repository would choose for the next learn()
    }
    if sidecar.get("vec_normalize") is not None:
        check_vec_normalize(sidecar["vec_normalize"], f"{sidecar_path.name}: vec_normalize")
    _check_data(data, custom_objects, where)
    _check_weights(custom_objects, data.get("use_sde", False), state, where)
    return custom_objects, sidecar


def check_frame_stack(value: Any, observation_space: spaces.Space, where: str) -> int:
    """
    :return: ``value``, a number of stacked observations (rl_zoo3's ``frame_stack``) for an agent whose observation space
        is ``observation_space`` (the stacked one): an integer from 1 to its number of elements
    :raises ModelFormatError: otherwise (a stack is allocated before the agent's space is compared with the env's)
    """
    limit = spaces.flatdim(observation_space)
    if type(value) is not int or not 0 < value <= limit:
        raise ModelFormatError(f"{where}={value!r}: expected 1 to {limit}")
    return value


def load_safe_model(
    zip_path: str | Path,
    sidecar_path: str | Path | None = None,
    *,
    env: GymEnv | None = None,
    device: th.device | str = "auto",
    frame_stack: Any = None,
) -> REINFORCE:
    """
    Load a model zip through ``REINFORCE.load`` with nothing unpickled (see :func:`safe_custom_objects`).

    :param zip_path: The model zip
    :param sidecar_path: Its sidecar (default: ``<zip name>.safe.json`` next to it)
    :param env: Environment to attach, with any number of envs (as for SB3's ``load``); when the sidecar holds
        VecNormalize statistics, it is wrapped in a frozen ``VecNormalize`` with them
    :param device: PyTorch device
    :param frame_stack: With VecNormalize statistics, the number of observations the agent sees at once (rl_zoo3's
        ``frame_stack``, a ``VecFrameStack`` over the ``VecNormalize``, as the zoo trains), checked
    :return: The model
    """
    zip_path = Path(zip_path)
    custom_objects, sidecar = safe_custom_objects(zip_path, sidecar_path or zip_path.with_suffix(SIDECAR_SUFFIX))
    if sidecar.get("vec_normalize") is not None:
        if env is None:
            raise ValueError(f"{zip_path.name} comes with VecNormalize statistics: pass env=... to apply them to")
        env = wrap_vec_normalize(sidecar["vec_normalize"], env if isinstance(env, VecEnv) else DummyVecEnv([lambda: env]))  # type: ignore[list-item, return-value]
        if frame_stack is not None:
            env = VecFrameStack(env, check_frame_stack(frame_stack, custom_objects["observation_space"], "frame_stack"))  # type: ignore[arg-type]
    try:
        return REINFORCE.load(zip_path, env=env, device=device, custom_objects=custom_objects)
    except (ValueError, TypeError, KeyError, RuntimeError) as error:  # values the checks leave to SB3 (seed, optimizer...)
        raise ModelFormatError(f"{zip_path.name} could not be loaded: {error}") from error
