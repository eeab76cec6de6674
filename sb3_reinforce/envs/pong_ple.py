"""Pong from the PyGame Learning Environment (PLE), as a pygame-free Gymnasium environment.

A faithful port of the game behind the ``gym_pygame`` id ``Pong-PLE-v0`` (the Pong of the original
Hugging Face course unit on REINFORCE), written from the behaviour specification ``specs/pong-ple.md``:
episodes match the original seed for seed and step for step (same legacy ``numpy.random.RandomState``
draws and float64 arithmetic in the same operation order). This is not Atari Pong
(``PongNoFrameskip-v4``, see :mod:`sb3_reinforce.envs.atari`).

The game: the agent's paddle is on the left, a scripted CPU paddle on the right. A point is scored
when the ball passes a paddle; the first side to ``MAX_SCORE`` points ends the game. The agent can
only steer the ball through "spin": a hit adds twice the paddle's velocity to the ball's vertical
velocity.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sb3_reinforce.envs.actions import BufferedDiscrete, coerce_discrete_action, invalid_action_error
from sb3_reinforce.envs.pygame_rect import rect_start
from sb3_reinforce.envs.rendering import (
    DEFAULT_RENDER_SCALE,
    FrameRenderer,
    HumanWindow,
    check_render_scale,
    fill_rect,
)
from sb3_reinforce.envs.seeding import check_seed

#: PLE steps its games with a fixed frame time: ``fps=30`` and ``force_fps=True`` (Pong divides by 1000).
FRAME_MS = 1000.0 / 30
#: Seed of the ``RandomState`` that PLE creates when it is not given one.
PLE_DEFAULT_SEED = 24
#: Action index -> meaning, as in the original's action list ``[K_w, K_s, None]``.
ACTION_MEANINGS = ("up", "down", "noop")
WHITE = (255, 255, 255)
#: Smallest screen width: the paddle is round(0.023 * width) px wide, 0 below 22.
MIN_WIDTH = 22
#: Smallest screen height: the ball radius is round(0.03 * height) px, 0 below 17.
MIN_HEIGHT = 17
_SIZE_LIMITS = "smaller screens round the paddle width or the ball radius to 0 px; 2000 and up are not supported"
# A dtype instance: np.array(values, dtype) is about twice as fast with it than with the np.float32 type.
_OBS_DTYPE = np.dtype(np.float32)


def _percent_round_int(size: int, fraction: float) -> int:
    """PLE's ``percent_round_int``: ``np.round`` (halves to even), which Python's ``round`` matches."""
    return round(size * fraction)


@lru_cache(maxsize=8)
def ball_mask(radius: int) -> np.ndarray:
    """The pixels that ``pygame.draw.circle`` fills on the original's ``2r x 2r`` ball image.

    pygame rasterises a filled circle octant by octant with an integer midpoint rule, which is not the
    set of pixels whose centres lie inside the circle (that set is too fat from radius 3 on). Tabulating
    pygame's output gives this rule for one quadrant, with ``i``, ``k`` the column and row counted from
    the centre (0 is the pixel next to it): with ``reach(x)`` the largest ``y`` such that
    ``y * (y - 1) < r**2 - x**2``, pixel ``(i, k)`` is filled iff ``i < reach(k + 1)`` or
    ``k < reach(i + 1)``; the image is mirror-symmetric about both centre lines. The one exception is
    radius 1, where pygame fills the whole 2 x 2 image (the rule would leave it empty). The tests
    compare this with pygame for every radius the screen sizes allow.

    :param radius: the ball radius in pixels (at least 1)
    :return: a read-only ``(2 * radius, 2 * radius)`` boolean array, ``True`` where the ball is drawn
    """
    if radius == 1:
        quadrant = np.ones((1, 1), dtype=bool)
    else:
        reach = np.zeros(radius, dtype=np.int64)
        for x in range(1, radius + 1):
            y = radius
            while y > 0 and y * (y - 1) >= radius * radius - x * x:
                y -= 1
            reach[x - 1] = y
        offsets = np.arange(radius)
        quadrant = (offsets[None, :] < reach[:, None]) | (offsets[:, None] < reach[None, :])
    lower = np.concatenate([quadrant[:, ::-1], quadrant], axis=1)
    mask = np.concatenate([lower[::-1], lower], axis=0)
    mask.flags.writeable = False
    return mask


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_positive(name: str, value: Any) -> None:
    if not (_is_integer(value) or isinstance(value, (float, np.floating))) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


class PongPLEEnv(FrameRenderer, gym.Env[np.ndarray, np.int64]):
    """PLE's Pong with the ``gym_pygame`` interface, ported to Gymnasium 1.x without pygame.

    **Observation** ``Box(-inf, inf, (7,), float32)``, computed after the frame: agent paddle y,
    agent paddle velocity (px/frame), CPU paddle y, ball x, ball y, ball x velocity and ball y velocity
    (px/s). After a point it already shows the new serve.

    **Actions** ``Discrete(3)``: 0 = up, 1 = down, 2 = no-op. An action acts on that one frame only.

    **Rewards** +1 when the agent scores, -1 when the CPU scores, and an extra +5 / -5 on the point
    that wins / loses the game. ``terminated`` when either side reaches ``MAX_SCORE``; there is no
    time limit, as in the original.

    **Seeding** as the original: one legacy ``RandomState(24)`` shared by the whole game (an unseeded
    first episode matches the original's), ``reset(seed=s)`` reseeds it. Stepping after the game is
    over returns reward 0 and the same observation, as in the original.

    **Differences from the original**: an action outside ``{0, 1, 2}`` raises
    :class:`~sb3_reinforce.envs.actions.InvalidActionError` (a ``ValueError``), where the original
    wrapper's ``action_set[action]`` raised ``IndexError`` (``3`` and up) or ``TypeError`` (floats,
    strings, arrays) and silently wrapped negative indices around (``-1`` was the no-op, ``-2`` down,
    ``-3`` up); constructor values the game cannot be played with (a screen so small that the paddle or
    the ball rounds to 0 px, ``MAX_SCORE <= 0``, speed ratios ``<= 0``) raise a ``ValueError`` naming the
    parameter; ``render()`` right after ``reset()`` shows the initial state where pygame's screen
    was still black or showed the previous episode; observations are float32 as the declared space
    says (course-era wrappers returned float64).

    :param width: screen width, at least 22 (original default 64)
    :param height: screen height, at least 17 (original default 48)
    :param cpu_speed_ratio: CPU paddle speed as a fraction of the height per second (code default 0.6;
        PLE's docstring says 0.5, the code wins); must be positive
    :param players_speed_ratio: agent paddle acceleration, same units (code default 0.4, docs say 0.25);
        must be positive
    :param ball_speed_ratio: ball speed as a fraction of the height per second; must be positive
    :param MAX_SCORE: points that end the game, a positive integer
    :param render_mode: ``None``, ``"rgb_array"`` (``(height, width, 3)`` ``uint8`` frames) or ``"human"``
    :param render_scale: integer upscale factor for rendered frames: 8 (default) for watchable videos,
        1 for the original's screen
    """

    metadata: dict[str, Any] = {"render_modes": ["human", "rgb_array"], "render_fps": 30}
    window_title = "Pong-PLE"
    action_meanings = ACTION_MEANINGS

    def __init__(
        self,
        width: int = 64,
        height: int = 48,
        cpu_speed_ratio: float = 0.6,
        players_speed_ratio: float = 0.4,
        ball_speed_ratio: float = 0.75,
        MAX_SCORE: int = 11,  # the original's keyword: gym.make(..., MAX_SCORE=3) keeps working
        render_mode: str | None = None,
        render_scale: int = DEFAULT_RENDER_SCALE,
    ) -> None:
        for name, size, smallest in (("width", width, MIN_WIDTH), ("height", height, MIN_HEIGHT)):
            if not _is_integer(size) or not smallest <= size < 2000:
                raise ValueError(f"{name} must be an integer in [{smallest}, 2000), got {size!r} ({_SIZE_LIMITS})")
        if not _is_integer(MAX_SCORE) or MAX_SCORE <= 0:
            raise ValueError(f"MAX_SCORE must be a positive integer, got {MAX_SCORE!r}")
        for name, ratio in (
            ("cpu_speed_ratio", cpu_speed_ratio),
            ("players_speed_ratio", players_speed_ratio),
            ("ball_speed_ratio", ball_speed_ratio),
        ):
            _check_positive(name, ratio)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.width, self.height = int(width), int(height)
        self.MAX_SCORE = int(MAX_SCORE)
        self.render_mode = render_mode
        self._human = render_mode == "human"
        self.render_scale = check_render_scale(render_scale)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(7,), dtype=np.float32)
        self.action_space = BufferedDiscrete(len(ACTION_MEANINGS))
        self._window: HumanWindow | None = None

        self._dt = FRAME_MS / 1000.0
        self._radius = _percent_round_int(self.height, 0.03)
        paddle_w = _percent_round_int(self.width, 0.023)
        self._paddle_w = paddle_w
        self._paddle_h = _percent_round_int(self.height, 0.15)
        self._half_paddle = self._paddle_h / 2
        self._agent_x = _percent_round_int(self.width, 0.0625)
        self._cpu_x = self.width - self._agent_x
        # The ball is only tested against a paddle once it is this far out, then against the
        # paddle's vertical centre line (x +- half the paddle width).
        self._agent_reach = self._agent_x + paddle_w
        self._agent_line = self._agent_x + paddle_w / 2
        self._cpu_reach = self._cpu_x - paddle_w
        self._cpu_line = self._cpu_x - paddle_w / 2
        self._bottom_limit = self.height - self._half_paddle
        self._cpu_speed_ratio = cpu_speed_ratio
        self._players_speed_ratio = players_speed_ratio
        self._ball_speed_ratio = ball_speed_ratio
        self._derive_speeds()

        self._rng = np.random.RandomState(PLE_DEFAULT_SEED)
        # Building the original initialises the game twice, but Pong's init draws nothing; the state
        # it leaves (no serve yet) is what a step before the first reset would play from.
        self._init_game()

    # ------------------------------------------------------------------ speeds (the original re-reads the ratios every frame)
    @property
    def cpu_speed_ratio(self) -> float:
        """CPU paddle speed, as a fraction of the screen height per second (can be changed between steps)."""
        return self._cpu_speed_ratio

    @cpu_speed_ratio.setter
    def cpu_speed_ratio(self, value: float) -> None:
        _check_positive("cpu_speed_ratio", value)
        self._cpu_speed_ratio = value
        self._derive_speeds()

    @property
    def players_speed_ratio(self) -> float:
        """Agent paddle acceleration, as a fraction of the screen height per second (can be changed between steps)."""
        return self._players_speed_ratio

    @players_speed_ratio.setter
    def players_speed_ratio(self, value: float) -> None:
        _check_positive("players_speed_ratio", value)
        self._players_speed_ratio = value
        self._derive_speeds()

    @property
    def ball_speed_ratio(self) -> float:
        """Ball speed, as a fraction of the screen height per second (can be changed between steps)."""
        return self._ball_speed_ratio

    @ball_speed_ratio.setter
    def ball_speed_ratio(self, value: float) -> None:
        _check_positive("ball_speed_ratio", value)
        self._ball_speed_ratio = value
        self._derive_speeds()

    def _derive_speeds(self) -> None:
        """Per-frame amounts, with the original's float operation order."""
        dt = self._dt
        agent_speed = self._players_speed_ratio * self.height
        cpu_speed = self._cpu_speed_ratio * self.height
        self._ball_speed = self._ball_speed_ratio * self.height
        self._bounce = self._ball_speed * 0.05
        # Agent velocity change per frame, by action: up, down, no-op.
        self._accels = ((-agent_speed) * dt, agent_speed * dt, 0 * dt)
        # CPU moves: tracking the ball (down, up) and drifting to the middle (down, up).
        self._cpu_track = (cpu_speed * dt, (-1.0 * cpu_speed) * dt)
        self._cpu_drift = ((1.0 * cpu_speed / 4.0) * dt, (-1.0 * cpu_speed / 4.0) * dt)

    # ------------------------------------------------------------------ game state
    def _init_game(self) -> None:
        half_w, half_h = self.width / 2, self.height / 2
        self._ay = half_h  # agent paddle centre y
        self._av = 0.0  # agent paddle velocity, px/frame
        self._cy = half_h  # CPU paddle centre y (its velocity is always 0)
        self._bx, self._by = half_w, half_h
        self._qx, self._qy = half_w, half_h  # ball position at the end of the previous frame
        self._bvx, self._bvy = self._ball_speed, -1.0 * self._ball_speed
        self._agent_points = 0
        self._cpu_points = 0
        self._over = False
        self._exit_ball: tuple[float, float] | None = None  # where a scoring frame drew the ball

    def _serve(self, direction: int) -> None:
        """The original's ``_reset_ball``: back to the middle column, keeping y, one draw for vy."""
        speed = self._ball_speed
        self._bx = self.width / 2
        self._bvx = speed * direction
        self._bvy = (self._rng.random_sample() * speed) - speed * 0.5

    def _crosses_paddle(self, bx: float, by: float, line_x: float, paddle_y: float) -> bool:
        """Whether the ball's path this frame crosses the paddle's centre line (bounds inclusive).

        The original's parametric segment intersection, with its float operations kept as they are.
        """
        qx, qy = self._qx, self._qy
        top = paddle_y - self._half_paddle
        s1x, s1y = bx - qx, by - qy
        s2x, s2y = line_x - line_x, (paddle_y + self._half_paddle) - top
        den = -s2x * s1y + s1x * s2y
        if den == 0:
            return False  # a ball without horizontal speed; the original divided by zero here
        s = (-s1y * (qx - line_x) + s1x * (qy - top)) / den
        t = (s2x * (qy - top) - s2y * (qx - line_x)) / den
        return 0 <= s <= 1 and 0 <= t <= 1

    def _observation(self) -> np.ndarray:
        return np.array([self._ay, self._av, self._cy, self._bx, self._by, self._bvx, self._bvy], _OBS_DTYPE)

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new game: fresh paddles and ball, then a serve in a random direction.

        :param seed: an integer in ``[0, 2**32)`` (numpy integers included): reseeds the game's
            ``RandomState`` as the original wrapper does; ``None`` continues the current random stream
        :param options: ignored
        :return: the first observation and an empty info dict
        :raises ValueError: for any other seed, before anything is reseeded
        """
        seed = check_seed(seed, "Pong-PLE")
        super().reset(seed=seed)
        if seed is not None:
            self._rng.seed(seed)
        self._init_game()
        self._serve(1 if self._rng.random_sample() > 0.5 else -1)
        if self._human:
            self.render()
        return self._observation(), {}

    def step(self, action: int | np.integer[Any]) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Advance the game by one frame: ball, then scoring, then (if nobody scored) both paddles.

        :param action: 0 = up, 1 = down, 2 = no-op
        :return: observation, reward, terminated, truncated (always ``False``), info (empty)
        :raises InvalidActionError: (a ``ValueError``) for an action outside ``{0, 1, 2}``, negative ones
            included (the original wrapped those around its action list)
        """
        if action.__class__ is not int:
            # numpy's int64 is what SB3's vectorised envs and action_space.sample() pass.
            action = (
                int(action) if action.__class__ is np.int64 else coerce_discrete_action(action, ACTION_MEANINGS, "Pong-PLE")
            )
        if not 0 <= action <= 2:
            raise invalid_action_error(action, ACTION_MEANINGS, "Pong-PLE")
        if self._over:
            return self._observation(), 0.0, True, False, {}

        # Ball: move, then bounce off a paddle using the paddles' state from the previous frame.
        dt = self._dt
        bvx, bvy = self._bvx, self._bvy
        bx = self._bx + bvx * dt
        by = self._by + bvy * dt
        width, height, radius = self.width, self.height, self._radius
        hit = False
        if bx <= self._agent_reach and self._crosses_paddle(bx, by, self._agent_line, self._ay):
            if bx < 0:
                bx = 0.0
            bvx = -1 * (bvx + self._bounce)
            bvy += self._av * 2.0
            bx += radius
            hit = True
        if bx >= self._cpu_reach and self._crosses_paddle(bx, by, self._cpu_line, self._cy):
            if bx > width:
                bx = float(width)
            bvx = -1 * (bvx + self._bounce)
            bvy += 0.0  # the CPU paddle's velocity (always 0) times 0.006
            bx -= radius
            hit = True
        if hit:
            bvy += self._rng.random_sample() * 0.001 - 0.0005  # keeps rallies from looping
        if by - radius <= 0:
            bvy *= -0.99
            by += 1.0
        if by + radius >= height:
            bvy *= -0.99
            by -= 1.0
        self._qx = self._bx = bx
        self._qy = self._by = by
        self._bvx, self._bvy = bvx, bvy

        if bx <= 0 or bx >= width:
            return self._score_point(bx, by)
        self._exit_ball = None

        # Agent paddle: damped velocity, then move, then clamp (touching the edge stops it).
        half = self._half_paddle
        av = (self._av + self._accels[action]) * 0.9
        ay = self._ay + av
        if ay - half <= 0:
            ay = half
            av = 0.0
        if ay + half >= height:
            ay = self._bottom_limit
            av = 0.0
        self._ay, self._av = ay, av

        # CPU paddle: track the ball while it comes towards it on its half, else drift to the middle;
        # it picks the move, then clamps, then moves, so it can overshoot the edge by one move.
        cy = self._cy
        if bvx >= 0 and bx >= width / 2:
            move = self._cpu_track[1] if cy > by else self._cpu_track[0]
        else:
            move = self._cpu_drift[1] if cy > height / 2.0 else self._cpu_drift[0]
        if cy - half <= 0:
            cy = half
        if cy + half >= height:
            cy = self._bottom_limit
        cy += move
        self._cy = cy

        if self._human:
            self.render()
        return np.array([ay, av, cy, bx, by, bvx, bvy], _OBS_DTYPE), 0.0, False, False, {}

    def _score_point(self, bx: float, by: float) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Finish a frame in which the ball left the field: score, serve; the paddles do not move."""
        self._exit_ball = (bx, by)
        if bx <= 0:
            reward = -1.0
            self._cpu_points += 1
            self._serve(-1)
        else:
            reward = 1.0
            self._agent_points += 1
            self._serve(1)
        if self._agent_points == self.MAX_SCORE:
            reward += 5.0
        if self._cpu_points == self.MAX_SCORE:
            reward += -5.0
        self._over = self._agent_points == self.MAX_SCORE or self._cpu_points == self.MAX_SCORE
        if self._human:
            self.render()
        return self._observation(), reward, self._over, False, {}

    def _draw(self) -> np.ndarray:
        frame = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        pw, ph = self._paddle_w, self._paddle_h
        fill_rect(frame, rect_start(self._agent_x, pw), rect_start(self._ay, ph), pw, ph, WHITE)
        fill_rect(frame, rect_start(self._cpu_x, pw), rect_start(self._cy, ph), pw, ph, WHITE)
        # A scoring frame draws the ball where it left the field, before the serve moved it.
        bx, by = self._exit_ball if self._exit_ball is not None else (self._bx, self._by)
        size = 2 * self._radius
        left, top = rect_start(bx, size), rect_start(by, size)
        # Clipped to the screen, as pygame blits the ball image.
        x0, y0 = max(left, 0), max(top, 0)
        x1, y1 = min(left + size, self.width), min(top + size, self.height)
        if x0 < x1 and y0 < y1:
            visible = ball_mask(self._radius)[y0 - top : y1 - top, x0 - left : x1 - left]
            frame[y0:y1, x0:x1][visible] = WHITE
        return frame
