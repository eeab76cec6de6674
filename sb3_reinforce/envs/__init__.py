"""Native Gymnasium ports of the PyGame Learning Environment games used by the Hugging Face Deep RL course.

``register_envs()`` (called by ``import sb3_reinforce``) registers:

- ``Pixelcopter-PLE-v0``: :class:`~sb3_reinforce.envs.pixelcopter.PixelcopterEnv`, capped at the
  course's 10,000 steps per episode;
- ``Pong-PLE-v0``: :class:`~sb3_reinforce.envs.pong_ple.PongPLEEnv`, no time limit (as the original);
- the Atari ids of ale-py (``PongNoFrameskip-v4``, ...) when the ``atari`` extra is installed.

Keyword arguments of ``gym.make`` go to the game's constructor, as in the original
(e.g. ``gym.make("Pong-PLE-v0", MAX_SCORE=3)``).
"""

from __future__ import annotations

import warnings

import gymnasium as gym

from sb3_reinforce.envs.atari import register_atari_envs

#: The course caps every Pixelcopter episode (training and evaluation) at this many steps.
PIXELCOPTER_MAX_EPISODE_STEPS = 10_000

# Gymnasium's PassiveEnvChecker is a development aid (these envs pass gymnasium's check_env in the tests) that sits in
# every step of multi-million-step runs: gym.make leaves it out unless asked (disable_env_checker=False).
_PLE_ENVS: dict[str, dict[str, object]] = {
    "Pixelcopter-PLE-v0": {
        "entry_point": "sb3_reinforce.envs.pixelcopter:PixelcopterEnv",
        "max_episode_steps": PIXELCOPTER_MAX_EPISODE_STEPS,
        "disable_env_checker": True,
    },
    "Pong-PLE-v0": {"entry_point": "sb3_reinforce.envs.pong_ple:PongPLEEnv", "disable_env_checker": True},
}


def register_envs() -> None:
    """Register ``Pixelcopter-PLE-v0`` and ``Pong-PLE-v0`` with Gymnasium (idempotent).

    Ids already in ``gymnasium.registry`` are left alone, so calling this again, or after another
    package registered the same id, never raises or overrides. When the existing registration points
    somewhere else (e.g. the original ``gym_pygame`` or another port), a ``UserWarning`` says so,
    because ``gym.make`` will then not build these ports. Also makes ale-py's Atari ids available when
    the ``atari`` extra is installed.
    """
    for env_id, kwargs in _PLE_ENVS.items():
        existing = gym.registry.get(env_id)
        if existing is None:
            gym.register(id=env_id, **kwargs)  # type: ignore[arg-type]
        elif _entry_point_name(existing.entry_point) != kwargs["entry_point"]:
            warnings.warn(
                f"{env_id} is already registered with entry point {existing.entry_point!r}, not sb3_reinforce's "
                f"{kwargs['entry_point']!r}; gym.make({env_id!r}) keeps building the existing one. Register "
                "sb3_reinforce's port under another id or remove the other registration to use it.",
                UserWarning,
                stacklevel=2,
            )
    register_atari_envs()


def _entry_point_name(entry_point: object) -> object:
    """``"module:qualname"`` for a class or function entry point, so it compares equal to the string form."""
    if callable(entry_point):
        return f"{getattr(entry_point, '__module__', '')}:{getattr(entry_point, '__qualname__', '')}"
    return entry_point


__all__ = ["PIXELCOPTER_MAX_EPISODE_STEPS", "register_atari_envs", "register_envs"]
