"""Seeds of the PLE ports: numpy integers are accepted, bad seeds fail before any generator is touched."""

import gymnasium as gym
import numpy as np
import pytest

from sb3_reinforce.envs.pixelcopter import PixelcopterEnv
from sb3_reinforce.envs.pong_ple import PongPLEEnv

GAMES = {"Pixelcopter-PLE-v0": PixelcopterEnv, "Pong-PLE-v0": PongPLEEnv}


@pytest.mark.parametrize("env_id", GAMES)
@pytest.mark.parametrize("seed", [np.int64(3), np.uint32(3), np.int16(3), np.int8(3)])
def test_numpy_integer_seeds(env_id: str, seed) -> None:
    env_class = GAMES[env_id]
    reference, env = env_class(), env_class()
    expected, _ = reference.reset(seed=3)
    obs, _ = env.reset(seed=seed)  # Gymnasium's own seeding rejects numpy integers
    np.testing.assert_array_equal(obs, expected)
    assert env.np_random.bit_generator.state == reference.np_random.bit_generator.state
    np.testing.assert_array_equal(gym.make(env_id).reset(seed=seed)[0], expected)


@pytest.mark.parametrize("env_id", GAMES)
@pytest.mark.parametrize("seed", [-1, 2**32, 2**64, 3.0, "3", np.array([3])])
def test_invalid_seed_raises_before_reseeding(env_id: str, seed) -> None:
    env_class = GAMES[env_id]
    env, reference = env_class(), env_class()
    env.reset(seed=5)
    reference.reset(seed=5)
    with pytest.raises(ValueError, match=r"seed must be"):
        env.reset(seed=seed)
    # Neither generator was touched: the next unseeded episode is the one the reference plays.
    np.testing.assert_array_equal(env.reset()[0], reference.reset()[0])
    assert env.np_random.bit_generator.state == reference.np_random.bit_generator.state
