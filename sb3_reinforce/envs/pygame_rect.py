"""The integer rectangle arithmetic of pygame's ``Rect``, reimplemented without pygame.

The PLE games place sprites by assigning a float centre to an integer ``pygame.Rect`` and test
collisions on those rectangles, so a faithful port has to reproduce the rounding exactly.
"""

from __future__ import annotations

import math


def round_half_away(value: float) -> int:
    """Round to the nearest integer, halves away from zero, the way pygame 2 places a rect centre.

    Python's :func:`round` rounds halves to even and ``int(v + 0.5)`` misrounds
    ``0.49999999999999994``; this version is exact for every finite float.

    :param value: the coordinate to round
    :return: the rounded coordinate
    """
    if value >= 0.0:
        floor = math.floor(value)
        return floor + 1 if value - floor >= 0.5 else floor
    ceil = math.ceil(value)
    return ceil - 1 if ceil - value >= 0.5 else ceil


def rect_start(center: float, size: int) -> int:
    """First pixel (left or top) of a rect of integer ``size`` whose centre is set to ``center``.

    :param center: the float centre coordinate
    :param size: the rect's integer size along that axis
    :return: the rect's integer left (or top) coordinate
    """
    return round_half_away(center) - size // 2


def spans_overlap(start_a: int, size_a: int, start_b: int, size_b: int) -> bool:
    """Whether two integer spans overlap along one axis, with pygame's strict ``colliderect`` rule.

    :param start_a: first pixel of span A
    :param size_a: length of span A
    :param start_b: first pixel of span B
    :param size_b: length of span B
    :return: ``True`` if the half-open spans share at least one pixel (pygame never reports a
        collision for an empty rect)
    """
    return size_a > 0 and size_b > 0 and start_a < start_b + size_b and start_b < start_a + size_a
