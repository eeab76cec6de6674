"""REINFORCE (Monte Carlo policy gradient) for Stable-Baselines3."""

from sb3_reinforce.envs import register_envs
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.version import __version__

# Registering on import is what lets `gym.make("Pixelcopter-PLE-v0")` and rl_zoo3's `--gym-packages sb3_reinforce` work.
register_envs()

__all__ = ["REINFORCE", "__version__", "register_envs"]
