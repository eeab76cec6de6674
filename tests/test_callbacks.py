"""SB3's callbacks with REINFORCE: they see every step, can stop a run, and save and evaluate as with A2C."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    EvalCallback,
    EveryNTimesteps,
    StopTrainingOnMaxEpisodes,
)
from stable_baselines3.common.envs import IdentityEnv, IdentityEnvBox
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_reinforce import REINFORCE

SMALL_NET = dict(net_arch=[8])


def identity_env(ep_length: int = 4) -> gym.Env:
    return IdentityEnv(2, ep_length=ep_length)


def box_env() -> gym.Env:
    return IdentityEnvBox(ep_length=4)  # VecNormalize needs Box observations


class ReturnsConstant(BaseCallback):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def _on_step(self):
        return self.value


@pytest.mark.parametrize("false_value", [False, np.bool_(False), th.tensor(False)])
def test_a_callback_returning_false_stops_the_run(false_value):
    model = REINFORCE("MlpPolicy", identity_env(), n_steps=1, policy_kwargs=SMALL_NET, seed=0)
    callback = ReturnsConstant(false_value)
    model.learn(100, callback=callback)
    assert callback.n_calls == 1
    assert model.num_timesteps == 1 and model._n_updates == 0


def test_stop_training_on_max_episodes():
    # 4-step episodes: the third one ends at step 12, where the run stops, before the rollout (16 transitions) is full.
    model = REINFORCE("MlpPolicy", identity_env(), n_steps=16, policy_kwargs=SMALL_NET, seed=0)
    model.learn(1000, callback=StopTrainingOnMaxEpisodes(max_episodes=3))
    assert model.num_timesteps == 12 and model._n_updates == 0


class RecordTimesteps(BaseCallback):
    def __init__(self):
        super().__init__()
        self.timesteps = []

    def _on_step(self):
        self.timesteps.append(self.num_timesteps)
        return True


def test_every_n_timesteps():
    recorder = RecordTimesteps()
    model = REINFORCE("MlpPolicy", DummyVecEnv([identity_env] * 2), n_steps=4, policy_kwargs=SMALL_NET, seed=0)
    model.learn(40, callback=EveryNTimesteps(n_steps=10, callback=recorder))
    # Two envs: 2 timesteps per step; triggered on the first step at or past each multiple of 10.
    assert recorder.timesteps == [10, 20, 30, 40]


def test_checkpoint_callback_saves_model_and_vec_normalize(tmp_path):
    env = VecNormalize(DummyVecEnv([box_env]))
    checkpoint = CheckpointCallback(save_freq=8, save_path=str(tmp_path), save_vecnormalize=True)
    model = REINFORCE("MlpPolicy", env, n_steps=4, policy_kwargs=SMALL_NET, seed=0)
    model.learn(16, callback=checkpoint)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "rl_model_16_steps.zip",
        "rl_model_8_steps.zip",
        "rl_model_vecnormalize_16_steps.pkl",
        "rl_model_vecnormalize_8_steps.pkl",
    ]
    assert REINFORCE.load(tmp_path / "rl_model_8_steps.zip").num_timesteps == 8
    loaded_env = VecNormalize.load(str(tmp_path / "rl_model_vecnormalize_16_steps.pkl"), DummyVecEnv([box_env]))
    np.testing.assert_allclose(loaded_env.obs_rms.mean, env.obs_rms.mean)


class ChildOfEval(BaseCallback):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def _on_step(self):
        assert isinstance(self.parent, EvalCallback)
        self.calls += 1
        return True


def test_eval_callback_with_a_vec_env(tmp_path):
    after_eval, on_new_best = ChildOfEval(), ChildOfEval()
    eval_callback = EvalCallback(
        DummyVecEnv([identity_env] * 3),
        n_eval_episodes=3,
        eval_freq=8,
        log_path=str(tmp_path),
        best_model_save_path=str(tmp_path),
        callback_after_eval=after_eval,
        callback_on_new_best=CallbackList([on_new_best]),
        warn=False,
    )
    model = REINFORCE("MlpPolicy", identity_env(), n_steps=4, policy_kwargs=SMALL_NET, seed=0)
    model.learn(32, callback=eval_callback)
    evaluations = np.load(tmp_path / "evaluations.npz")
    assert evaluations["timesteps"].tolist() == [8, 16, 24, 32]
    assert evaluations["results"].shape == (4, 3)
    assert after_eval.calls == 4 and 1 <= on_new_best.calls <= 4
    assert REINFORCE.load(tmp_path / "best_model.zip").n_steps == 4


def test_eval_callback_syncs_vec_normalize_statistics():
    # As SB3's test_eval_friendly_error: an evaluation at the last step leaves both envs with the same statistics.
    train_env = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]))
    eval_env = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]), training=False, norm_reward=False)
    model = REINFORCE("MlpPolicy", train_env, n_steps=50, policy_kwargs=SMALL_NET, seed=0)
    model.learn(100, callback=EvalCallback(eval_env, eval_freq=100, n_eval_episodes=1, warn=False))
    assert model.num_timesteps == 100
    np.testing.assert_array_equal(eval_env.obs_rms.mean, train_env.obs_rms.mean)


def test_eval_callback_needs_a_vec_normalize_eval_env_when_training_on_one():
    model = REINFORCE("MlpPolicy", VecNormalize(DummyVecEnv([box_env])), n_steps=4, policy_kwargs=SMALL_NET)
    with pytest.warns(UserWarning), pytest.raises(AssertionError):
        model.learn(20, callback=EvalCallback(box_env(), eval_freq=4, warn=False))
