"""Atari Pong (``PongNoFrameskip-v4``) through the optional ``atari`` extra (ale-py)."""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import pytest

from sb3_reinforce.envs import register_envs
from sb3_reinforce.envs.atari import ATARI_EXTRA_HINT, register_atari_envs


def test_register_atari_envs_without_ale_py(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ale_py", None)  # makes `import ale_py` fail as if not installed
    assert register_atari_envs() is False
    register_envs()  # and registering the PLE games still works
    assert "Pong-PLE-v0" in gym.registry


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
