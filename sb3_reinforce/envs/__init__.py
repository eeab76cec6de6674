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

import gymnasium as gym

from sb3_reinforce.envs.atari import register_atari_envs

#: The course caps every Pixelcopter episode (training and evaluation) at this many steps.
PIXELCOPTER_MAX_EPISODE_STEPS = 10_000

_PLE_ENVS: dict[str, dict[str, object]] = {
    "Pixelcopter-PLE-v0": {
        "entry_point": "sb3_reinforce.envs.pixelcopter:PixelcopterEnv",
        "max_episode_steps": PIXELCOPTER_MAX_EPISODE_STEPS,
    },
    "Pong-PLE-v0": {"entry_point": "sb3_reinforce.envs.pong_ple:PongPLEEnv"},
}


def register_envs() -> None:
    """Register ``Pixelcopter-PLE-v0`` and ``Pong-PLE-v0`` with Gymnasium (idempotent).

    Ids already in ``gymnasium.registry`` are left alone, so calling this again, or after another
    package registered the same id, never raises or overrides. Also makes ale-py's Atari ids available
    when the ``atari`` extra is installed.
    """
    for env_id, kwargs in _PLE_ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, **kwargs)  # type: ignore[arg-type]
    register_atari_envs()


__all__ = ["PIXELCOPTER_MAX_EPISODE_STEPS", "register_atari_envs", "register_envs"]
