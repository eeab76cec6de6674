"""Fingerprints of the weights after a few seeded updates: does a change of the code change what is learned?

Trains REINFORCE on CPU, one thread, with a fixed seed, for exactly ``--updates`` updates on each configuration (the
training stops at the first step of the rollout after them, so a budget cut mid-rollout does not matter), and prints a
SHA-256 of the final parameters. Run it with two versions of the code and compare the lines::

    python benchmarks/weights_fingerprint.py
    PYTHONPATH=<worktree of an earlier commit> python benchmarks/weights_fingerprint.py

Identical fingerprints mean identical weights, hence the same sampled actions (the rollout's sampling) and the same
updates. The image configuration's batches fit in one chunk; where a batch of images needs several, the value baseline
now comes from the rollout's pass and the chunks are smaller, the same update summed in another order: equal up to
rounding, which Adam can turn into steps of up to the learning rate where a gradient is near 0 (with SGD the updates
agree to 1e-5: ``tests/test_run.py::test_chunked_value_baseline_reuses_rollout_values``).
"""

from __future__ import annotations

import argparse
import hashlib

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import FakeImageEnv, IdentityEnvBox, IdentityEnvMultiBinary, IdentityEnvMultiDiscrete

from sb3_reinforce import REINFORCE


class StopAfterUpdates(BaseCallback):
    """Stops training at the first step of the rollout that follows ``n_updates`` updates."""

    def __init__(self, n_updates: int):
        super().__init__()
        self.n_updates = n_updates

    def _on_step(self) -> bool:
        return self.model._n_updates < self.n_updates


def limited(env: gym.Env, steps: int) -> gym.Env:
    return gym.wrappers.TimeLimit(env, steps)


def image_env() -> gym.Env:
    # FakeImageEnv draws its observations from its observation space, which reset(seed=...) does not seed.
    env = FakeImageEnv(screen_height=36, screen_width=36, n_channels=1)
    env.observation_space.seed(0)
    return env


CONFIGS = {
    "CartPole Discrete, baseline none": ("MlpPolicy", lambda: make_vec_env("CartPole-v1", n_envs=8, seed=0), {}),
    "CartPole Discrete, baseline mean": (
        "MlpPolicy",
        lambda: make_vec_env("CartPole-v1", n_envs=8, seed=0),
        {"baseline": "mean"},
    ),
    "CartPole Discrete, baseline value": (
        "MlpPolicy",
        lambda: make_vec_env("CartPole-v1", n_envs=8, seed=0),
        {"baseline": "value"},
    ),
    "Pendulum Box (Gaussian)": ("MlpPolicy", lambda: make_vec_env("Pendulum-v1", n_envs=4, seed=0), {}),
    "Box (Gaussian), 3 dims": ("MlpPolicy", lambda: make_vec_env(lambda: limited(IdentityEnvBox(), 20), n_envs=2, seed=0), {}),
    "MultiDiscrete": (
        "MlpPolicy",
        lambda: make_vec_env(lambda: limited(IdentityEnvMultiDiscrete(dim=3), 20), n_envs=2, seed=0),
        {},
    ),
    "MultiBinary": (
        "MlpPolicy",
        lambda: make_vec_env(lambda: limited(IdentityEnvMultiBinary(dim=3), 20), n_envs=2, seed=0),
        {},
    ),
    "CnnPolicy image, baseline value": (
        "CnnPolicy",
        lambda: make_vec_env(image_env, n_envs=2, seed=0),
        {"baseline": "value", "policy_kwargs": {"features_extractor_kwargs": {"features_dim": 16}}},
    ),
}


def fingerprint(policy: str, make_env, kwargs: dict, updates: int) -> str:
    model = REINFORCE(policy, make_env(), n_steps=32, seed=0, device="cpu", **kwargs)
    model.learn(10_000_000, callback=StopAfterUpdates(updates))
    assert model._n_updates == updates
    digest = hashlib.sha256()
    for name, tensor in sorted(model.policy.state_dict().items()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensor.detach().cpu().numpy()).tobytes())
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    th.set_num_threads(1)
    for label, (policy, make_env, kwargs) in CONFIGS.items():
        print(f"{fingerprint(policy, make_env, kwargs, args.updates)}  {label}", flush=True)


if __name__ == "__main__":
    main()
