"""
Plain-JSON encoding of the values found in hyperparameters and ``policy_kwargs``.

Nothing here imports or calls anything named by the data: classes (activation functions, optimizers,
feature extractors, rollout buffers) are written by name and read back only if the name is in
:data:`ALLOWED_CLASSES`, a fixed table of classes that are safe to instantiate with plain arguments.
"""

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor, NatureCNN
from stable_baselines3.common.utils import ConstantSchedule, FloatSchedule, LinearSchedule

from sb3_reinforce.common.buffers import DictEpisodicRolloutBuffer, EpisodicRolloutBuffer
from sb3_reinforce.hub.errors import ModelFormatError, UnsafeModelError

# Tags of the encoded non-JSON values: a JSON object with exactly one of these keys.
FLOAT_TAG = "__float__"  # non-finite float: "inf", "-inf" or "nan" (JSON has no literal for them)
TUPLE_TAG = "__tuple__"  # tuple, kept apart from list so that e.g. Adam's ``betas`` round-trips exactly
CLASS_TAG = "__class__"  # a class of ALLOWED_CLASSES, by public dotted name
TAGS = (FLOAT_TAG, TUPLE_TAG, CLASS_TAG)


def _allowed_classes() -> dict[str, type]:
    """:return: Public dotted name -> class, for every class a safe model may name"""
    table: dict[str, type] = {}
    activations = (
        "CELU ELU GELU Hardsigmoid Hardswish Hardtanh Identity LeakyReLU Mish PReLU ReLU ReLU6 SELU SiLU Sigmoid "
        "Softplus Softsign Tanh Tanhshrink"
    )
    for name in activations.split():
        table[f"torch.nn.{name}"] = getattr(th.nn, name)
    for name in ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "SGD"]:
        table[f"torch.optim.{name}"] = getattr(th.optim, name)
    table["stable_baselines3.common.sb2_compat.rmsprop_tf_like.RMSpropTFLike"] = RMSpropTFLike
    for extractor in (FlattenExtractor, NatureCNN, CombinedExtractor):
        table[f"stable_baselines3.common.torch_layers.{extractor.__name__}"] = extractor
    for buffer in (EpisodicRolloutBuffer, DictEpisodicRolloutBuffer):
        table[f"sb3_reinforce.common.buffers.{buffer.__name__}"] = buffer
    return table


ALLOWED_CLASSES = _allowed_classes()
_CLASS_NAMES = {cls: name for name, cls in ALLOWED_CLASSES.items()}


def encode_value(value: Any, where: str) -> Any:
    """
    Encode a hyperparameter value as plain JSON data.

    :param value: The value (None, bool, int, float, str, list, tuple, dict with str keys, or an allowed class)
    :param where: Name of the value in messages, e.g. ``"policy_kwargs['net_arch']"``
    :return: JSON-serializable data that :func:`decode_value` turns back into ``value``
    :raises ValueError: if the value cannot be written without pickle
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else {FLOAT_TAG: str(value)}
    if isinstance(value, list):
        return [encode_value(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, tuple):
        return {TUPLE_TAG: [encode_value(item, f"{where}[{index}]") for index, item in enumerate(value)]}
    if isinstance(value, dict):
        encoded = {}
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("__"):
                raise ValueError(f"{where} has the key {key!r}: only string keys not starting with '__' can be stored safely")
            encoded[key] = encode_value(item, f"{where}[{key!r}]")
        return encoded
    if isinstance(value, type) and value in _CLASS_NAMES:
        return {CLASS_TAG: _CLASS_NAMES[value]}
    allowed = ", ".join(sorted(name.rsplit(".", 1)[1] for name in ALLOWED_CLASSES))
    raise ValueError(
        f"{where}={value!r} cannot be stored in the safe (pickle-free) format: only plain values and these classes "
        f"are supported: {allowed}"
    )


def decode_value(data: Any, where: str) -> Any:
    """
    Decode what :func:`encode_value` wrote. Imports nothing: classes come from :data:`ALLOWED_CLASSES` only.

    :param data: JSON data
    :param where: Name of the value in messages
    :return: The value
    :raises UnsafeModelError: if a class outside the allowed table is named
    :raises ModelFormatError: if the data is malformed
    """
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode_value(item, f"{where}[{index}]") for index, item in enumerate(data)]
    if not isinstance(data, dict):
        raise ModelFormatError(f"{where}: unexpected JSON value {data!r}")
    tags = [key for key in data if key in TAGS]
    if tags:
        if len(data) != 1:
            raise ModelFormatError(f"{where}: a tagged value must have exactly one key, got {sorted(data)}")
        tag, payload = tags[0], data[tags[0]]
        if tag == FLOAT_TAG:
            if payload not in ("inf", "-inf", "nan"):
                raise ModelFormatError(f"{where}: {payload!r} is not a non-finite float")
            return float(payload)
        if tag == TUPLE_TAG:
            if not isinstance(payload, list):
                raise ModelFormatError(f"{where}: a tuple must be a JSON list")
            return tuple(decode_value(item, f"{where}[{index}]") for index, item in enumerate(payload))
        if not isinstance(payload, str) or payload not in ALLOWED_CLASSES:
            raise UnsafeModelError(
                f"{where} names the class {payload!r}, which is not in the table of classes a safe model may use: "
                "refusing to import it. Load the SB3 zip with trust_remote_code=True only if you trust its author."
            )
        return ALLOWED_CLASSES[payload]
    if any(key.startswith("__") for key in data):
        raise ModelFormatError(f"{where}: unknown tag in {sorted(data)}")
    return {key: decode_value(item, f"{where}[{key!r}]") for key, item in data.items()}


def encode_schedule(schedule: Any, current_value: float, where: str) -> tuple[Any, str | None]:
    """
    Encode a float or one of the known schedule classes (SB3's and rl_zoo3's linear schedule).

    :param schedule: The float or schedule
    :param current_value: Value to store when the schedule is of an unknown kind
    :param where: Name of the value in messages
    :return: The encoded schedule, and a warning when an unknown schedule was replaced by ``current_value``
    """
    if isinstance(schedule, FloatSchedule):
        schedule = schedule.value_schedule
    if isinstance(schedule, int | float | np.floating | np.integer) and not isinstance(schedule, bool):
        return encode_value(float(schedule), where), None
    if isinstance(schedule, ConstantSchedule):
        return {"schedule": "constant", "value": float(schedule.val)}, None
    if isinstance(schedule, LinearSchedule):
        return {
            "schedule": "linear",
            "start": float(schedule.start),
            "end": float(schedule.end),
            "end_fraction": float(schedule.end_fraction),
        }, None
    if type(schedule).__name__ == "SimpleLinearSchedule" and hasattr(schedule, "initial_value"):
        # rl_zoo3's ``lin_<value>`` schedule: from the initial value down to zero
        return {"schedule": "linear", "start": float(schedule.initial_value), "end": 0.0, "end_fraction": 1.0}, None
    warning = (
        f"{where}={schedule!r} is a custom schedule, which cannot be stored without pickle: the safe files keep its "
        f"current value {current_value} (this only matters to continue training)"
    )
    return float(current_value), warning


def decode_schedule(data: Any, where: str) -> float | Callable[[float], float]:
    """
    :param data: What :func:`encode_schedule` wrote
    :param where: Name of the value in messages
    :return: A float or an SB3 schedule object
    """
    if isinstance(data, dict) and "schedule" in data:
        kind = data["schedule"]
        try:
            if kind == "constant":
                return ConstantSchedule(float(data["value"]))
            if kind == "linear":
                return LinearSchedule(float(data["start"]), float(data["end"]), float(data["end_fraction"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFormatError(f"{where}: malformed schedule {data!r}") from error
        raise ModelFormatError(f"{where}: unknown schedule kind {kind!r}")
    value = decode_value(data, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelFormatError(f"{where} must be a number or a schedule, got {data!r}")
    return float(value)
