"""Optional Atari environments (``PongNoFrameskip-v4`` and friends) from ale-py.

Atari Pong is a different game from PLE's Pong and needs no port: ale-py ships the emulator and the
ROMs in its wheel and registers the ids with Gymnasium when it is imported. It is an optional extra
(``pip install "sb3-reinforce[atari]"``), so nothing here may fail when it is missing.
"""

from __future__ import annotations

import gymnasium as gym

#: Installing this extra provides the Atari ids.
ATARI_EXTRA_HINT = 'pip install "sb3-reinforce[atari]"'


def register_atari_envs() -> bool:
    """Register ale-py's Atari ids (e.g. ``PongNoFrameskip-v4``) with Gymnasium if ale-py is installed.

    Importing ``ale_py`` is what registers them; this is safe to call any number of times.

    :return: ``True`` if the Atari ids are available, ``False`` if ale-py is not installed or cannot load
    """
    try:
        import ale_py
    except ImportError:
        return False
    except OSError as exc:  # a wheel whose native library cannot load
        gym.logger.warn(f"ale-py is installed but could not be loaded ({exc}); Atari environments are unavailable.")
        return False
    gym.register_envs(ale_py)
    return True
