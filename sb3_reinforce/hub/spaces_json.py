"""
Plain-JSON description of Gymnasium spaces and numpy arrays (the pickle-free replacement of SB3's
cloudpickled ``observation_space`` / ``action_space``).

Supported: ``Box``, ``Discrete``, ``MultiDiscrete``, ``MultiBinary`` and ``Dict`` of those. Reading checks
types, dtypes and sizes before building anything, so a crafted file cannot make us allocate without bound.
"""

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from sb3_reinforce.hub.errors import ModelFormatError

ALLOWED_DTYPES = frozenset(
    ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64")
)
# Largest array read back, and largest space (elements, all the arrays of a Dict together): a 4x256x256
# image stack is 262k, so 2**24 (a 128 MB float64 array) leaves plenty of room.
MAX_ARRAY_SIZE = 2**24


def array_to_json(array: np.ndarray) -> dict[str, Any]:
    """
    :param array: Numeric array
    :return: ``{"dtype", "shape", "fill"}`` when all elements are equal (e.g. image bounds), else
        ``{"dtype", "shape", "values"}`` with the flattened values; non-finite floats become strings
    """
    array = np.asarray(array)
    if array.dtype.name not in ALLOWED_DTYPES:
        raise ValueError(
            f"Arrays of dtype {array.dtype} cannot be stored safely (supported: {', '.join(sorted(ALLOWED_DTYPES))})"
        )
    flat = array.reshape(-1)
    description: dict[str, Any] = {"dtype": array.dtype.name, "shape": list(array.shape)}
    if flat.size > 0 and np.array_equal(flat, np.full_like(flat, flat[0]), equal_nan=array.dtype.kind == "f"):
        description["fill"] = _scalar_to_json(flat[0].item())
    else:
        description["values"] = [_scalar_to_json(item) for item in flat.tolist()]
    return description


def _scalar_to_json(value: Any) -> Any:
    # ``tolist()`` gives Python floats holding the exact float32/float64 value: the text round-trips bit for bit.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _scalar_from_json(value: Any, where: str) -> Any:
    if isinstance(value, str):
        if value not in ("inf", "-inf", "nan"):
            raise ModelFormatError(f"{where}: {value!r} is not a number")
        return float(value)
    if isinstance(value, bool | int | float):
        return value
    raise ModelFormatError(f"{where}: {value!r} is not a number")


def _shape_from_json(data: Any, where: str) -> tuple[int, ...]:
    if not isinstance(data, list) or not all(isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 for dim in data):
        raise ModelFormatError(f"{where}: a shape must be a list of non-negative integers, got {data!r}")
    if math.prod(data) > MAX_ARRAY_SIZE:
        raise ModelFormatError(f"{where}: shape {data} is larger than {MAX_ARRAY_SIZE} elements")
    return tuple(data)


def _dtype_from_json(data: Any, where: str) -> np.dtype:
    if data not in ALLOWED_DTYPES:
        raise ModelFormatError(f"{where}: unsupported dtype {data!r}")
    return np.dtype(data)


def array_from_json(data: Any, where: str) -> np.ndarray:
    """
    :param data: What :func:`array_to_json` wrote
    :param where: Name of the array in messages
    :return: The array, with its dtype and shape
    """
    if not isinstance(data, dict):
        raise ModelFormatError(f"{where}: an array must be a JSON object, got {type(data).__name__}")
    dtype = _dtype_from_json(data.get("dtype"), f"{where}.dtype")
    shape = _shape_from_json(data.get("shape"), f"{where}.shape")
    try:
        if "fill" in data:
            return np.full(shape, _scalar_from_json(data["fill"], f"{where}.fill"), dtype=dtype)
        values = data.get("values")
        if not isinstance(values, list) or len(values) != math.prod(shape):
            raise ModelFormatError(f"{where}: expected {math.prod(shape)} values for shape {list(shape)}")
        return np.array([_scalar_from_json(value, f"{where}.values") for value in values], dtype=dtype).reshape(shape)
    except OverflowError as error:
        # JSON integers have no bound: one past the dtype's range is a broken file, not a crash.
        raise ModelFormatError(f"{where}: a value does not fit {dtype.name} ({error})") from error


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """
    :param space: A Box, Discrete, MultiDiscrete, MultiBinary or Dict space
    :return: Its plain-JSON description
    :raises ValueError: for any other space
    """
    if isinstance(space, spaces.Box):
        return {"type": "Box", "low": array_to_json(space.low), "high": array_to_json(space.high), "dtype": space.dtype.name}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start), "dtype": space.dtype.name}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": array_to_json(space.nvec), "start": array_to_json(space.start)}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Dict):
        for key in space.spaces:
            if not isinstance(key, str):
                raise ValueError(f"Dict space keys must be strings to be stored safely, got {key!r}")
        return {"type": "Dict", "spaces": {key: space_to_json(subspace) for key, subspace in space.spaces.items()}}
    raise ValueError(
        f"The space {space} cannot be stored in the safe format: "
        "supported are Box, Discrete, MultiDiscrete, MultiBinary and Dict"
    )


def _positive_int(data: Any, where: str) -> int:
    if isinstance(data, bool) or not isinstance(data, int) or data < 1:
        raise ModelFormatError(f"{where} must be a positive integer, got {data!r}")
    return data


def _space_size(space: spaces.Space) -> int:
    """:return: Number of elements of the arrays the space holds (its bounds, counts or shape)"""
    if isinstance(space, spaces.Dict):
        return sum(_space_size(subspace) for subspace in space.spaces.values())
    return math.prod(space.shape or (1,))


def space_from_json(data: Any, where: str = "space") -> spaces.Space:
    """
    :param data: What :func:`space_to_json` wrote
    :param where: Name of the space in messages
    :return: The Gymnasium space
    """
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ModelFormatError(f"{where}: a space must be a JSON object with a 'type'")
    kind = data["type"]
    try:
        if kind == "Box":
            dtype = _dtype_from_json(data.get("dtype"), f"{where}.dtype")
            low, high = array_from_json(data.get("low"), f"{where}.low"), array_from_json(data.get("high"), f"{where}.high")
            if low.shape != high.shape:
                raise ModelFormatError(f"{where}: low and high have different shapes {low.shape} and {high.shape}")
            return spaces.Box(low=low.astype(dtype), high=high.astype(dtype), shape=low.shape, dtype=dtype)  # type: ignore[arg-type]
        if kind == "Discrete":
            start = data.get("start", 0)
            if isinstance(start, bool) or not isinstance(start, int):
                raise ModelFormatError(f"{where}.start must be an integer, got {start!r}")
            n = _positive_int(data.get("n"), f"{where}.n")
            dtype = _dtype_from_json(data.get("dtype", "int64"), f"{where}.dtype")
            if dtype == np.int64:
                return spaces.Discrete(n, start=start)
            # Only newer Gymnasium versions take a dtype; int64 (the default) works everywhere.
            return spaces.Discrete(n, start=start, dtype=dtype.type)  # type: ignore[call-arg]
        if kind == "MultiDiscrete":
            nvec = array_from_json(data.get("nvec"), f"{where}.nvec")
            start = array_from_json(data.get("start"), f"{where}.start")
            if nvec.dtype.kind not in "iu" or (nvec < 1).any() or start.shape != nvec.shape:
                raise ModelFormatError(f"{where}: nvec must hold positive integers, with start of the same shape")
            return spaces.MultiDiscrete(nvec, dtype=nvec.dtype.type, start=start)
        if kind == "MultiBinary":
            size = data.get("n")
            if isinstance(size, list):
                shape = _shape_from_json(size, f"{where}.n")
                if not shape or min(shape) < 1:
                    raise ModelFormatError(f"{where}.n must hold positive integers, got {size!r}")
                return spaces.MultiBinary(list(shape))
            return spaces.MultiBinary(_positive_int(size, f"{where}.n"))
        if kind == "Dict":
            subspaces = data.get("spaces")
            if not isinstance(subspaces, dict) or not subspaces:
                raise ModelFormatError(f"{where}.spaces must be a non-empty JSON object")
            built: dict[str, spaces.Space] = {}
            total = 0
            for key, value in subspaces.items():
                built[key] = space_from_json(value, f"{where}[{key!r}]")
                # Each part is bounded: the sum must be too, or many parts add up to any size.
                total += _space_size(built[key])
                if total > MAX_ARRAY_SIZE:
                    raise ModelFormatError(f"{where}: the Dict space holds more than {MAX_ARRAY_SIZE} elements")
            return spaces.Dict(built)
    except ModelFormatError:
        raise
    except (TypeError, ValueError, AssertionError, OverflowError) as error:
        # Gymnasium's own checks (e.g. low > high, counts past int64) rephrased with the location in the file.
        raise ModelFormatError(f"{where}: invalid {kind} space ({error})") from error
    raise ModelFormatError(f"{where}: unsupported space type {kind!r}")
