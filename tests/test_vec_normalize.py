"""VecNormalize with REINFORCE as with A2C: the algorithm finds it, learns from the rewards it hands out, saves alongside."""

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.envs import IdentityEnvBox
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_reinforce import REINFORCE

SMALL_NET = dict(net_arch=[8])


def box_env() -> IdentityEnvBox:
    return IdentityEnvBox(ep_length=5)


def test_get_and_set_vec_normalize_env():
    env = VecNormalize(DummyVecEnv([box_env]))
    eval_env = VecNormalize(DummyVecEnv([box_env]), training=False)
    model = REINFORCE("MlpPolicy", env, n_steps=5, policy_kwargs=SMALL_NET, seed=0)
    assert model.get_vec_normalize_env() is env
    model.set_env(eval_env)
    assert model.get_vec_normalize_env() is eval_env
    model.learn(10)
    assert eval_env.obs_rms.count == env.obs_rms.count  # training=False: the statistics did not move
    model.set_env(env)
    model.learn(10)
    assert model.get_vec_normalize_env() is env and env.obs_rms.count > 10


class RecordRewards(BaseCallback):
    """The rewards of every step as the algorithm received them, and each rollout's returns."""

    def __init__(self):
        super().__init__()
        self.rewards, self.raw_rewards, self.batches = [], [], []

    def _on_step(self) -> bool:
        self.rewards.append(float(self.locals["rewards"][0]))
        self.raw_rewards.append(float(self.training_env.get_original_reward()[0]))
        return True

    def _on_rollout_end(self) -> None:
        self.batches.append((self.rewards, self.model.rollout_buffer.returns.tolist()))
        self.rewards = []


def test_returns_are_computed_from_the_normalized_rewards():
    # One env, 5-step Pendulum episodes, n_steps=5: each rollout is one whole episode, G_t = r_t + 0.9 G_{t+1}.
    env = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1", max_episode_steps=5)]), norm_obs=False)
    recorder = RecordRewards()
    model = REINFORCE("MlpPolicy", env, n_steps=5, gamma=0.9, policy_kwargs=SMALL_NET, seed=0)
    model.learn(15, callback=recorder)
    assert len(recorder.batches) == 3
    for rewards, returns in recorder.batches:
        expected = np.zeros(5)
        running = 0.0
        for t in reversed(range(5)):
            running = rewards[t] + 0.9 * running
            expected[t] = running
        np.testing.assert_allclose(returns, expected, rtol=1e-5)
    # What was learnt from is VecNormalize's scaled reward, not the env's.
    assert not np.allclose(recorder.batches[-1][0], recorder.raw_rewards[-5:])


def test_save_load_model_and_statistics(tmp_path):
    env = VecNormalize(DummyVecEnv([box_env]))
    model = REINFORCE("MlpPolicy", env, n_steps=5, policy_kwargs=SMALL_NET, seed=0)
    model.learn(20)
    model.save(tmp_path / "model.zip")
    env.save(str(tmp_path / "vec_normalize.pkl"))

    loaded_env = VecNormalize.load(str(tmp_path / "vec_normalize.pkl"), DummyVecEnv([box_env]))
    loaded = REINFORCE.load(tmp_path / "model.zip", env=loaded_env)
    assert loaded.get_vec_normalize_env() is loaded_env
    raw_obs = np.linspace(-1, 1, 6, dtype=np.float32).reshape(6, 1)
    np.testing.assert_array_equal(
        loaded.predict(loaded_env.normalize_obs(raw_obs), deterministic=True)[0],
        model.predict(env.normalize_obs(raw_obs), deterministic=True)[0],
    )
    loaded.learn(10, reset_num_timesteps=False)
    assert loaded.num_timesteps == 30 and loaded_env.obs_rms.count > env.obs_rms.count
