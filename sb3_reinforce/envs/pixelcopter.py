"""Pixelcopter from the PyGame Learning Environment (PLE), as a pygame-free Gymnasium environment.

A faithful port of the game behind the ``gym_pygame`` id ``Pixelcopter-PLE-v0`` (the one the
Hugging Face Deep RL course trains REINFORCE on), written from the behaviour specification
``specs/pixelcopter.md``: episodes match the original seed for seed and step for step (same legacy
``numpy.random.RandomState`` draws, float64 arithmetic and pygame rectangle rounding).

The game: a copter at a fixed x flies through a cave that scrolls left. Thrust ("up", action 0)
pushes it up for one frame, otherwise it falls. Touching the cave walls, a gate block, or leaving
the band ``[0.125 H, 0.875 H]`` ends the game.

Speed: the wall columns all scroll at the same rate and are created at integer x positions from a
fixed set, so each column's whole float trajectory, the frames during which its rectangle overlaps
the copter's pixel columns and the frame at which it leaves the screen are computed once per screen
size. A step then only touches the copter, the (one or two) gate blocks and the one or two wall
columns next to the copter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sb3_reinforce.envs.actions import BufferedDiscrete, coerce_discrete_action, invalid_action_error
from sb3_reinforce.envs.pygame_rect import rect_start, spans_overlap
from sb3_reinforce.envs.rendering import (
    DEFAULT_RENDER_SCALE,
    FrameRenderer,
    HumanWindow,
    check_render_scale,
    fill_rect,
)
from sb3_reinforce.envs.seeding import check_seed

#: PLE steps its games with a fixed frame time: ``fps=30`` and ``force_fps=True``.
FRAME_MS = 1000.0 / 30
#: Seed of the ``RandomState`` that PLE creates when it is not given one.
PLE_DEFAULT_SEED = 24
#: A new batch of wall columns is added once this many or fewer are left ("10 + 3" in the original).
REFILL_THRESHOLD = 13
#: Action index -> meaning. Index 0 is "up", as in the original (its action list is ``[K_w, None]``).
ACTION_MEANINGS = ("up", "noop")

WALL_COLOR = (120, 240, 80)
PLAYER_COLOR = (255, 255, 255)
# A dtype instance: np.array(values, dtype) is about twice as fast with it than with the np.float32 type.
_OBS_DTYPE = np.dtype(np.float32)
# RandomState.uniform(low, high) bounds used by the terrain generator.
_FREQ_JITTER = (-0.01, 0.01)
_PHASE = (0.0, 0.5)


class _ColumnLayout(NamedTuple):
    """Precomputed fate of every column of one terrain batch, indexed by column.

    Times are frames since the batch was created.
    """

    x0: tuple[int, ...]  # centre x at creation
    enter: tuple[int, ...]  # first frame the column's rect overlaps the copter's pixel columns (-1: never)
    leave: tuple[int, ...]  # last such frame (-1: never)
    removal: tuple[int, ...]  # frame at which the column is removed (x <= -column width), scoring +1
    xs: tuple[tuple[float, ...], ...]  # centre x at every frame up to removal (for rendering)


@dataclass(frozen=True)
class _Geometry:
    """All size-derived constants, computed with the original's formulas and float operation order."""

    width: int
    height: int
    scroll: float  # px every sprite moves left per frame
    accel_up: float  # momentum change per frame when thrusting
    accel_down: float  # momentum change per frame otherwise
    player_x: int
    player_left: int
    player_w: int
    player_h: int
    player_height: float  # the float size used by the ceiling test
    gap: float  # half the opening of a column around its centre
    col_w: int
    col_h: int
    block_w: int
    block_h: int
    min_y: float
    max_y: float
    block_x: tuple[int, int]  # randint bounds (high exclusive)
    block_y: tuple[int, int]
    half_height: float
    amplitude: float
    freq_base: float
    wall_h: int  # height of each of the two wall rectangles painted on a column image
    bottom_wall_y: int  # where the lower one starts on the column image
    start_layout: _ColumnLayout
    refill_layout: _ColumnLayout


def _column_layout(start: int, end: int, col_w: int, scroll: float, player_left: int, player_w: int) -> _ColumnLayout:
    """Simulate the columns of the batch covering ``[start, end)`` from creation to removal."""
    x0s, enters, leaves, removals, trajectories = [], [], [], [], []
    for x0 in range(start + int(col_w / 2), end + int(col_w / 2), col_w):
        x: float = x0
        xs = [float(x0)]
        enter = leave = -1
        n = 0
        while True:
            if spans_overlap(rect_start(x, col_w), col_w, player_left, player_w):
                if enter < 0:
                    enter = n
                leave = n
            # Order within a frame: move, collide, then remove; a fresh column is never removed.
            if n > 0 and x <= -col_w:
                break
            x = x - scroll  # repeated subtraction, exactly as each sprite's update does it
            n += 1
            xs.append(x)
        x0s.append(x0)
        enters.append(enter)
        leaves.append(leave)
        removals.append(n)
        trajectories.append(tuple(xs))
    return _ColumnLayout(tuple(x0s), tuple(enters), tuple(leaves), tuple(removals), tuple(trajectories))


@lru_cache(maxsize=8)
def _geometry(width: int, height: int) -> _Geometry:
    speed = 0.0004 * width
    scroll = speed * FRAME_MS
    player_x = int(width * 0.35)
    # pygame truncates float surface sizes: the 2.4 x 2.4 copter has a 2 x 2 rect.
    player_w, player_h = int(width * 0.05), int(height * 0.05)
    player_left = player_x - player_w // 2
    col_w = int(width * 0.1)
    return _Geometry(
        width=width,
        height=height,
        scroll=scroll,
        accel_up=(speed * -0.875) * FRAME_MS,
        accel_down=(speed * 0.09) * FRAME_MS,
        player_x=player_x,
        player_left=player_left,
        player_w=player_w,
        player_h=player_h,
        player_height=height * 0.05,
        gap=height * 0.25,
        col_w=col_w,
        col_h=int(height * 1.5),
        block_w=int(width * 0.1),
        block_h=int(height * 0.2),
        min_y=height * 0.125,
        max_y=height * 0.875,
        block_x=(width, int(width * 1.5)),
        block_y=(int(height * 0.25), int(height * 0.75)),
        half_height=height / 2.0,
        amplitude=height * 0.125,
        freq_base=4.5 / width,
        wall_h=int(height * 0.5),
        bottom_wall_y=int(height * 1.05),
        start_layout=_column_layout(0, width * 4, col_w, scroll, player_left, player_w),
        refill_layout=_column_layout(width, width * 5, col_w, scroll, player_left, player_w),
    )


class _ColumnBatch:
    """The columns created together by one call of the original's ``_add_terrain``."""

    __slots__ = ("born", "head", "layout", "tys", "window")

    def __init__(self, layout: _ColumnLayout, tys: list[int], born: int) -> None:
        self.layout = layout
        self.tys = tys  # centre y of each column: the opening is ty - gap .. ty + gap
        self.born = born  # frame of creation
        self.head = 0  # first column not yet removed
        self.window = 0  # first column that has not yet passed the copter


class PixelcopterEnv(FrameRenderer, gym.Env[np.ndarray, np.int64]):
    """PLE's Pixelcopter with the ``gym_pygame`` interface, ported to Gymnasium 1.x without pygame.

    **Observation** ``Box(-inf, inf, (7,), float32)``, computed after the frame: copter y, copter
    velocity (px/frame, positive = down), distance to the ceiling, distance to the floor (the two sum to
    ``0.5 H``), x distance from the copter to the next gate block (999 if none), the block's centre y
    and that y plus the block height.

    **Actions** ``Discrete(2)``: 0 = up (thrust this frame), 1 = do nothing.

    **Rewards** +1 for every wall column that scrolls off the left edge, +1 for every gate block passed,
    -5 on the frame the copter dies. ``terminated`` when it dies; the registered id adds the course's
    10,000-step cap as truncation.

    **Seeding** as the original: one legacy ``RandomState(24)`` shared by the whole game; an unseeded
    first episode uses the same draws as the original's first episode, and ``reset(seed=s)`` reseeds it.
    Stepping after the game is over returns reward 0 and the same observation, as in the original.

    **Differences from the original**: an action outside ``{0, 1}`` raises
    :class:`~sb3_reinforce.envs.actions.InvalidActionError` (a ``ValueError``), where the original
    wrapper's ``action_set[action]`` raised ``IndexError`` (``2`` and up) or ``TypeError`` (floats,
    strings, arrays) and silently wrapped negative indices around (``-1`` did nothing, ``-2`` thrusted);
    ``render()`` right after ``reset()`` shows the initial state where pygame's screen was still black or
    showed the previous episode; observations are float32 as the declared space says (course-era
    wrappers returned float64).

    :param width: screen width in pixels (original default 48)
    :param height: screen height in pixels (original default 48)
    :param render_mode: ``None``, ``"rgb_array"`` (``(height, width, 3)`` ``uint8`` frames) or
        ``"human"`` (a pygame window; needs the ``human`` extra)
    :param render_scale: integer upscale factor for rendered frames: 8 (default) for watchable videos,
        1 for the original's screen
    """

    metadata: dict[str, Any] = {"render_modes": ["human", "rgb_array"], "render_fps": 30}
    window_title = "Pixelcopter-PLE"
    action_meanings = ACTION_MEANINGS

    def __init__(
        self, width: int = 48, height: int = 48, render_mode: str | None = None, render_scale: int = DEFAULT_RENDER_SCALE
    ) -> None:
        for name, size in (("width", width), ("height", height)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 20 <= size < 2000:
                # Below 20 px the copter's rect is empty and the original crashes on its first observation.
                raise ValueError(f"{name} must be an integer in [20, 2000), got {size!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.width, self.height = int(width), int(height)
        self.render_mode = render_mode
        self.render_scale = check_render_scale(render_scale)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(7,), dtype=np.float32)
        self.action_space = BufferedDiscrete(len(ACTION_MEANINGS))
        self._geo = _geometry(self.width, self.height)
        self._window: HumanWindow | None = None

        self._rng = np.random.RandomState(PLE_DEFAULT_SEED)
        # Building the wrapped original runs the game's init twice (once in PLE, once in the wrapper),
        # and reset() runs it a third time: replay those draws so unseeded episodes match.
        self._skip_init_draws()
        self._init_game()

    # ------------------------------------------------------------------ game state
    def _skip_init_draws(self) -> None:
        """Consume exactly the random numbers of one game init without building the game."""
        geo, rng = self._geo, self._rng
        rng.randint(*geo.block_x)
        rng.randint(*geo.block_y)
        rng.random_sample(len(geo.start_layout.x0) + 1)

    def _init_game(self) -> None:
        geo = self._geo
        self._y = geo.height / 2
        self._momentum = 0.0
        self._frame = 0
        self._over = False
        self._blocks: list[list[float]] = []
        self._spawn_block()
        self._batches: list[_ColumnBatch] = []
        self._n_columns = 0
        self._add_columns(geo.start_layout)
        top = rect_start(self._y, geo.player_h)
        tys = self._overlapping_tys(top)
        self._ty = tys[0] if tys else int(geo.half_height)

    def _spawn_block(self) -> None:
        x = self._rng.randint(*self._geo.block_x)
        y = self._rng.randint(*self._geo.block_y)
        self._blocks.append([x, y])

    def _add_columns(self, layout: _ColumnLayout) -> None:
        geo = self._geo
        draws = self._rng.random_sample(len(layout.x0) + 1).tolist()
        # RandomState.uniform(low, high) is low + (high - low) * random_sample(), draw for draw.
        freq = geo.freq_base + (_FREQ_JITTER[0] + (_FREQ_JITTER[1] - _FREQ_JITTER[0]) * draws[0])
        phase_lo, phase_span = _PHASE[0], _PHASE[1] - _PHASE[0]
        half, amp, sin = geo.half_height, geo.amplitude, math.sin
        tys = [
            int(half + amp * sin(freq * x0 + (phase_lo + phase_span * u))) for x0, u in zip(layout.x0, draws[1:], strict=True)
        ]
        self._batches.append(_ColumnBatch(layout, tys, self._frame))
        self._n_columns += len(tys)

    def _overlapping_tys(self, player_top: int) -> list[int]:
        """Centre y of every live column whose rect overlaps the copter's, in the original's group order."""
        geo, frame = self._geo, self._frame
        tys = []
        for batch in self._batches:
            n = frame - batch.born
            layout = batch.layout
            for i in range(batch.head, len(batch.tys)):
                if layout.enter[i] <= n <= layout.leave[i] and spans_overlap(
                    batch.tys[i] - geo.col_h // 2, geo.col_h, player_top, geo.player_h
                ):
                    tys.append(batch.tys[i])
        return tys

    def _observation(self) -> np.ndarray:
        geo = self._geo
        y, ty, gap = self._y, self._ty, geo.gap
        dist: float = 999
        gate = self._blocks[-1]  # only used if no block is ahead, which the original's geometry never allows
        for block in self._blocks:
            d = block[0] - geo.player_x
            if 0 < d < dist:
                dist, gate = d, block
        return np.array([y, self._momentum, y - (ty - gap), (ty + gap) - y, dist, gate[1], gate[1] + geo.block_h], _OBS_DTYPE)

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new game.

        :param seed: an integer in ``[0, 2**32)`` (numpy integers included): reseeds the game's
            ``RandomState`` as the original wrapper does (``rng.seed(seed)``, then the game is initialised
            twice); ``None`` continues the current random stream
        :param options: ignored
        :return: the first observation and an empty info dict
        :raises ValueError: for any other seed, before anything is reseeded
        """
        seed = check_seed(seed, "Pixelcopter-PLE")
        super().reset(seed=seed)
        if seed is not None:
            self._rng.seed(seed)
            self._skip_init_draws()
        self._init_game()
        if self.render_mode == "human":
            self.render()
        return self._observation(), {}

    def step(self, action: int | np.integer[Any]) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Advance the game by one frame.

        :param action: 0 = up (thrust), 1 = do nothing
        :return: observation, reward, terminated, truncated (always ``False`` here), info (empty)
        :raises InvalidActionError: (a ``ValueError``) for an action outside ``{0, 1}``, negative ones
            included (the original wrapped those around its action list)
        """
        if action.__class__ is not int:
            # numpy's int64 is what SB3's vectorised envs and action_space.sample() pass.
            action = (
                int(action)
                if action.__class__ is np.int64
                else coerce_discrete_action(action, ACTION_MEANINGS, "Pixelcopter-PLE")
            )
        geo = self._geo
        if action == 0:
            accel = geo.accel_up
        elif action == 1:
            accel = geo.accel_down
        else:
            raise invalid_action_error(action, ACTION_MEANINGS, "Pixelcopter-PLE")
        if self._over:
            return self._observation(), 0.0, True, False, {}

        frame = self._frame + 1
        self._frame = frame
        reward = 0.0

        # Move the copter, then the blocks (the columns' positions are precomputed).
        momentum = (self._momentum + accel) * 0.99
        y = self._y + momentum
        self._momentum = momentum
        self._y = y
        blocks = self._blocks
        scroll = geo.scroll
        for block in blocks:
            block[0] -= scroll

        # The copter's rect rows, placed by pygame's round-half-away-from-zero centre rule.
        if y >= 0.0:
            whole = int(y)
            top = whole + 1 if y - whole >= 0.5 else whole
        else:
            whole = int(y)
            top = whole - 1 if whole - y >= 0.5 else whole
        player_h = geo.player_h
        top -= player_h // 2
        bottom = top + player_h
        dead = False

        player_left, player_right = geo.player_left, geo.player_left + geo.player_w
        block_w, block_h = geo.block_w, geo.block_h
        for bx, by in blocks:
            if bx >= 0.0:
                whole = int(bx)
                left = whole + 1 if bx - whole >= 0.5 else whole
            else:
                whole = int(bx)
                left = whole - 1 if whole - bx >= 0.5 else whole
            left -= block_w // 2
            block_top = by - block_h // 2
            if left < player_right and player_left < left + block_w and block_top < bottom and top < block_top + block_h:
                dead = True

        # Walls: every column whose rect overlaps the copter's can kill it; the first one gives the observation.
        first_ty = None
        gap = geo.gap
        ceiling_probe = y - geo.player_height
        col_h = geo.col_h
        col_half = col_h // 2
        for batch in self._batches:
            n = frame - batch.born
            layout = batch.layout
            leave = layout.leave
            count = len(leave)
            i = batch.window
            while i < count and leave[i] < n:
                i += 1
            batch.window = i
            enter = layout.enter
            while i < count and enter[i] <= n:
                ty = batch.tys[i]
                col_top = ty - col_half
                if col_top < bottom and top < col_top + col_h and leave[i] >= n:
                    if first_ty is None:
                        first_ty = ty
                    if ceiling_probe <= ty - gap:
                        dead = True
                    if y >= ty + gap:
                        dead = True
                i += 1

        # Gates: the only block scores when it reaches the copter's x and a new one spawns in that frame.
        player_x = geo.player_x
        for block in blocks.copy():  # the original iterates a copy of its sprite group
            if block[0] <= player_x and len(blocks) == 1:
                reward += 1.0
                self._spawn_block()
            if block[0] <= -block_w:
                blocks.remove(block)

        # Columns leaving the screen score +1 each.
        removed_batches = False
        for batch in self._batches:
            n = frame - batch.born
            removal = batch.layout.removal
            head = batch.head
            count = len(removal)
            while head < count and removal[head] <= n:
                head += 1
                reward += 1.0
                self._n_columns -= 1
            batch.head = head
            removed_batches = removed_batches or head == count
        if removed_batches:
            self._batches = [batch for batch in self._batches if batch.head < len(batch.tys)]

        if y < geo.min_y or y > geo.max_y:
            dead = True
        if self._n_columns <= REFILL_THRESHOLD:
            self._add_columns(geo.refill_layout)
        if dead:
            reward += -5.0
            self._over = True

        if first_ty is not None:
            self._ty = first_ty
        # (else: no column overlaps the copter, which the original would crash on; keep the last one)
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, dead, False, {}

    def _draw(self) -> np.ndarray:
        """Paint the game as the original's sprite groups do: copter, then blocks, then walls over them."""
        geo = self._geo
        frame = np.zeros((geo.height, geo.width, 3), dtype=np.uint8)
        fill_rect(frame, geo.player_left, rect_start(self._y, geo.player_h), geo.player_w, geo.player_h, PLAYER_COLOR)
        for bx, by in self._blocks:
            fill_rect(frame, rect_start(bx, geo.block_w), int(by) - geo.block_h // 2, geo.block_w, geo.block_h, WALL_COLOR)
        # A column image is col_h tall with a wall rect at its top and one from bottom_wall_y down,
        # each clipped to the image; the rest of the image is transparent.
        top_h = min(geo.wall_h, geo.col_h)
        bottom_h = max(0, min(geo.wall_h, geo.col_h - geo.bottom_wall_y))
        for batch in self._batches:
            n = self._frame - batch.born
            for i in range(batch.head, len(batch.tys)):
                left = rect_start(batch.layout.xs[i][n], geo.col_w)
                col_top = batch.tys[i] - geo.col_h // 2
                fill_rect(frame, left, col_top, geo.col_w, top_h, WALL_COLOR)
                fill_rect(frame, left, col_top + geo.bottom_wall_y, geo.col_w, bottom_h, WALL_COLOR)
        return frame
