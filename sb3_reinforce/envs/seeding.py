"""Seed validation shared by the PLE ports."""

from __future__ import annotations

import operator
from typing import Any

#: The games reseed a legacy ``numpy.random.RandomState``, which takes seeds in ``[0, 2**32)``.
MAX_SEED = 2**32 - 1


def check_seed(seed: Any, env_name: str) -> int | None:
    """Validate a ``reset(seed=...)`` argument and return it as a plain ``int`` (or ``None``).

    Called before anything is reseeded, so that a bad seed leaves the environment untouched. numpy
    integers are converted because Gymnasium's own seeding only accepts Python ints.

    :param seed: the seed passed to ``reset``
    :param env_name: environment name for the error message
    :return: ``None`` or the seed as an ``int``
    :raises ValueError: if the seed is not an integer in ``[0, 2**32)``
    """
    if seed is None:
        return None
    try:
        value = operator.index(seed)
    except TypeError:
        raise ValueError(f"{env_name}: seed must be an integer in [0, 2**32) or None, got {seed!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{env_name}: seed must be in [0, 2**32) (the game reseeds a legacy numpy RandomState), got {value}")
    return value
