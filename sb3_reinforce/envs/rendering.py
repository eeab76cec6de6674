"""Frame helpers shared by the PLE ports: clipped rectangle fills, integer upscaling and an optional window.

Frames are plain ``(height, width, 3)`` ``uint8`` arrays built with numpy slicing, so rendering to
``rgb_array`` needs no display and no pygame. Only ``render_mode="human"`` imports pygame, lazily.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import logger as gym_logger
from gymnasium.error import DependencyNotInstalled

#: Default upscale factor of ``"rgb_array"`` frames: a 48-pixel screen is too small to watch, and every video
#: (``sb3-reinforce record-video``, the Hub replay, Gymnasium's ``RecordVideo``) is made of these frames.
#: ``render_scale=1`` gives the original's screen.
DEFAULT_RENDER_SCALE = 8
#: Upscale factor used for the ``"human"`` window when the env was created with a smaller ``render_scale``:
#: a 48-pixel window is too small to watch.
HUMAN_MIN_SCALE = 8


def check_render_scale(scale: int) -> int:
    """Validate an integer upscale factor.

    :param scale: factor by which each game pixel is repeated along both axes
    :return: the factor as an ``int``
    :raises ValueError: if ``scale`` is not a positive integer
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"render_scale must be a positive integer, got {scale!r}")
    return int(scale)


def fill_rect(frame: np.ndarray, left: int, top: int, width: int, height: int, color: tuple[int, int, int]) -> None:
    """Paint a rectangle into ``frame`` in place, clipped to the frame as a pygame blit would be.

    :param frame: ``(height, width, 3)`` ``uint8`` image
    :param left: first column of the rectangle (may lie outside the frame)
    :param top: first row of the rectangle (may lie outside the frame)
    :param width: rectangle width in pixels
    :param height: rectangle height in pixels
    :param color: RGB colour
    """
    frame_h, frame_w = frame.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + width, frame_w), min(top + height, frame_h)
    if x0 < x1 and y0 < y1:
        frame[y0:y1, x0:x1] = color


def upscale(frame: np.ndarray, scale: int) -> np.ndarray:
    """Repeat every pixel ``scale`` times along both axes (nearest-neighbour, no smoothing).

    :param frame: ``(height, width, 3)`` image
    :param scale: positive integer factor
    :return: ``(height * scale, width * scale, 3)`` image (``frame`` itself when ``scale == 1``)
    """
    if scale == 1:
        return frame
    return np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)


class HumanWindow:
    """A pygame window that shows rendered frames; pygame is imported on first use only.

    :param title: window caption
    :param fps: frame rate cap for the window
    """

    def __init__(self, title: str, fps: int) -> None:
        self.title = title
        self.fps = fps
        self._pygame: Any = None
        self._screen: Any = None
        self._clock: Any = None

    def show(self, frame: np.ndarray) -> None:
        """Display ``frame`` and keep the window responsive.

        :param frame: ``(height, width, 3)`` ``uint8`` image
        :raises gymnasium.error.DependencyNotInstalled: if pygame is not installed
        """
        if self._pygame is None:
            try:
                import pygame
            except ImportError as exc:
                raise DependencyNotInstalled(
                    'render_mode="human" needs pygame: pip install "sb3-reinforce[human]" '
                    '(render_mode="rgb_array" works without it)'
                ) from exc
            self._pygame = pygame
        pygame = self._pygame
        if self._screen is None:
            pygame.init()
            pygame.display.init()
            self._screen = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
            pygame.display.set_caption(self.title)
            self._clock = pygame.time.Clock()
        surface = pygame.surfarray.make_surface(np.ascontiguousarray(frame.swapaxes(0, 1)))
        self._screen.blit(surface, (0, 0))
        pygame.event.pump()
        pygame.display.flip()
        self._clock.tick(self.fps)

    def close(self) -> None:
        """Close the window if one was opened."""
        if self._screen is not None:
            self._pygame.display.quit()
            self._pygame.quit()
            self._screen = None


class FrameRenderer:
    """``render()``, ``close()`` and ``get_action_meanings()`` of the PLE ports, built on their ``_draw()``.

    Mixed in before ``gymnasium.Env``; the env sets ``render_mode``, ``render_scale`` and ``_window = None``.
    """

    #: Caption of the ``"human"`` window
    window_title: ClassVar[str]
    #: Name of each action index
    action_meanings: ClassVar[tuple[str, ...]]
    metadata: dict[str, Any]
    render_mode: str | None
    render_scale: int
    _window: HumanWindow | None

    def _draw(self) -> np.ndarray:
        """:return: the current frame, ``(height, width, 3)`` ``uint8``, at the game's own size"""
        raise NotImplementedError

    def render(self) -> np.ndarray | None:
        """Draw the current frame.

        :return: a ``(height * render_scale, width * render_scale, 3)`` ``uint8`` array in
            ``"rgb_array"`` mode, ``None`` otherwise
        """
        if self.render_mode is None:
            gym_logger.warn('render() was called without a render_mode; create the env with render_mode="rgb_array".')
            return None
        frame = self._draw()
        if self.render_mode == "rgb_array":
            return upscale(frame, self.render_scale)
        if self._window is None:
            self._window = HumanWindow(self.window_title, self.metadata["render_fps"])
        self._window.show(upscale(frame, max(self.render_scale, HUMAN_MIN_SCALE)))
        return None

    def close(self) -> None:
        """Close the ``"human"`` window, if any."""
        if self._window is not None:
            self._window.close()
            self._window = None

    def get_action_meanings(self) -> list[str]:
        """Name of each action index, like ALE's method of the same name."""
        return list(self.action_meanings)
