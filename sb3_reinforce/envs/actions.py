"""Discrete actions of the PLE ports: their space and their validation.

The original ``gym_pygame`` wrapper looked the action up with ``action_set[action]`` in a plain list:
an index past the end raised ``IndexError``, a float, string or array raised ``TypeError``, and a
negative index silently wrapped around the list (``-1`` was the no-op). The ports raise a
:class:`InvalidActionError` (a ``ValueError``) for anything outside the ``Discrete`` space, negative
indices included, so that a policy with the wrong action space fails loudly and with the same error
whatever the mistake, rather than training on a game it is not playing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.error import InvalidAction

#: Random actions drawn per numpy call by :meth:`BufferedDiscrete.sample`.
SAMPLE_BLOCK = 1024


class InvalidActionError(InvalidAction, ValueError):
    """An action outside the environment's ``Discrete`` action space."""


def invalid_action_error(action: Any, meanings: Sequence[str], env_name: str) -> InvalidActionError:
    """Build the error raised for an action outside ``Discrete(len(meanings))``.

    :param action: the rejected action
    :param meanings: name of each action, by index
    :param env_name: environment name for the message
    :return: the exception, for the caller to raise
    """
    choices = ", ".join(f"{index} = {name}" for index, name in enumerate(meanings))
    return InvalidActionError(
        f"{env_name}: invalid action {action!r} ({type(action).__name__}); expected an integer in "
        f"[0, {len(meanings) - 1}] ({choices}). (The original wrapper indexed its action list with it: "
        "IndexError or TypeError, or a silent wrap-around for a negative index.)"
    )


def coerce_discrete_action(action: Any, meanings: Sequence[str], env_name: str) -> int:
    """Convert an action to a plain ``int``, or raise if it is not in ``Discrete(len(meanings))``.

    This is the slow path of ``step``; a plain ``int`` never gets here. Accepted, as by
    :class:`gymnasium.spaces.Discrete`: Python ints, numpy integer scalars and 0-d integer arrays.

    :param action: the action passed to ``step``
    :param meanings: name of each action, by index
    :param env_name: environment name for the error message
    :return: the action as an ``int``
    :raises InvalidActionError: (a ``ValueError``) if the action is not an integer in range
    """
    is_integer = isinstance(action, (int, np.integer)) or (
        isinstance(action, np.ndarray) and action.shape == () and np.issubdtype(action.dtype, np.integer)
    )
    if is_integer and 0 <= int(action) < len(meanings):
        return int(action)
    raise invalid_action_error(action, meanings, env_name)


class BufferedDiscrete(spaces.Discrete):
    """A :class:`~gymnasium.spaces.Discrete` space whose unmasked ``sample()`` draws in blocks.

    ``Discrete.sample()`` makes one numpy call per action (about 1.5 us), as long as a whole Pong step;
    random-action loops (baselines, benchmarks, replay-buffer warm-up) would then measure the sampler.
    This space draws :data:`SAMPLE_BLOCK` actions per call from the same ``np_random`` generator and
    hands them out one by one: same distribution, same ``seed()`` semantics (reseeding drops the
    block), but not the same sequence as ``Discrete.sample`` for a given seed. Masked or weighted
    sampling goes through ``Discrete.sample`` unchanged. It is a ``Discrete`` for every other purpose.
    """

    def __init__(self, n: int, seed: int | np.random.Generator | None = None, start: int = 0) -> None:
        self._pending: list[np.int64] = []
        super().__init__(n, seed=seed, start=start)

    def seed(self, seed: int | None = None) -> int | list[int] | dict[str, int]:
        """Reseed the generator and drop the actions drawn with the old one.

        :param seed: as for :meth:`gymnasium.spaces.Discrete.seed`
        :return: the seed used
        """
        self._pending = []
        return super().seed(seed)

    def sample(self, mask: Any = None, probability: Any = None) -> np.int64:
        """A uniformly random action (or, with ``mask`` / ``probability``, ``Discrete.sample``'s).

        :param mask: optional mask of allowed actions
        :param probability: optional action probabilities
        :return: an action
        """
        if mask is not None or probability is not None:
            return super().sample(mask=mask, probability=probability)
        if not self._pending:
            self._pending = list(self.start + self.np_random.integers(self.n, size=SAMPLE_BLOCK))
        return self._pending.pop()
