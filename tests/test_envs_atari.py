"""Atari Pong (``PongNoFrameskip-v4``) through the optional ``atari`` extra (ale-py)."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from sb3_reinforce.envs import register_envs
from sb3_reinforce.envs.atari import ATARI_EXTRA_HINT, register_atari_envs

PLE_IDS = ("Pixelcopter-PLE-v0", "Pong-PLE-v0")


def test_register_atari_envs_without_ale_py(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ale_py", None)  # makes `import ale_py` fail as if not installed
    for env_id in PLE_IDS:  # so that register_envs() has to register them again (restored afterwards)
        monkeypatch.delitem(gym.registry, env_id, raising=False)
    assert register_atari_envs() is False
    register_envs()  # and registering the PLE games still works
    for env_id in PLE_IDS:
        assert gym.spec(env_id).entry_point.startswith("sb3_reinforce.envs.")


def test_import_without_ale_py() -> None:
    """A fresh process without ale-py: ``import sb3_reinforce`` works and registers the PLE ids only."""
    code = (
        "import sys; sys.modules['ale_py'] = None\n"
        "import gymnasium as gym\n"
        "assert not any('PLE' in env_id for env_id in gym.registry)\n"
        "import sb3_reinforce\n"
        "from sb3_reinforce.envs import register_atari_envs\n"
        f"for env_id in {PLE_IDS!r}:\n"
        "    assert env_id in gym.registry, env_id\n"
        "    gym.make(env_id).reset(seed=0)\n"
        "assert register_atari_envs() is False\n"
        "assert 'PongNoFrameskip-v4' not in gym.registry\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_pong_noframeskip_v4() -> None:
    pytest.importorskip("ale_py", reason=f"the atari extra is not installed ({ATARI_EXTRA_HINT})")
    register_envs()
    assert register_atari_envs() is True
    env = gym.make("PongNoFrameskip-v4")
    assert env.spec is not None and env.spec.kwargs.get("frameskip") == 1
    assert env.action_space == gym.spaces.Discrete(6)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (210, 160, 3) and obs.dtype == np.uint8
    obs, reward, terminated, truncated, _ = env.step(0)
    assert obs.shape == (210, 160, 3) and reward == 0.0 and not terminated and not truncated
    env.close()
