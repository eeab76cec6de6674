import gymnasium as gym
import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback, EvalCallback, StopTrainingOnRewardThreshold
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import (
    FakeImageEnv,
    IdentityEnv,
    IdentityEnvBox,
    IdentityEnvMultiBinary,
    IdentityEnvMultiDiscrete,
    SimpleMultiObsEnv,
)
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_reinforce import REINFORCE

SMALL_NET = dict(net_arch=[16])


@pytest.mark.parametrize(
    "env_fn",
    [
        lambda: IdentityEnv(4, ep_length=10),
        lambda: IdentityEnvBox(ep_length=10),
        lambda: IdentityEnvMultiDiscrete(2, ep_length=10),
        lambda: IdentityEnvMultiBinary(3, ep_length=10),
    ],
    ids=["Discrete", "Box", "MultiDiscrete", "MultiBinary"],
)
@pytest.mark.parametrize("baseline", ["none", "mean", "value"])
def test_action_spaces(env_fn, baseline):
    model = REINFORCE(
        "MlpPolicy", DummyVecEnv([env_fn, env_fn]), baseline=baseline, n_steps=8, policy_kwargs=SMALL_NET, seed=0
    )
    model.learn(300)
    assert model.num_timesteps >= 300
    assert model._n_updates >= 2
    action, _ = model.predict(model.get_env().reset())
    assert model.action_space.contains(action[0])


def test_cnn_policy():
    env = make_vec_env(lambda: FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, discrete=True), n_envs=2)
    model = REINFORCE(
        "CnnPolicy", env, n_steps=16, policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=16)), seed=0
    )
    model.learn(64)
    assert model._n_updates >= 1


def test_multi_input_policy():
    env = make_vec_env(lambda: gym.wrappers.TimeLimit(SimpleMultiObsEnv(random_start=True), 20), n_envs=2)
    model = REINFORCE("MultiInputPolicy", env, n_steps=16, policy_kwargs=SMALL_NET, seed=0)
    model.learn(100)
    assert model._n_updates >= 1
    assert set(model.rollout_buffer.observations) == {"vec", "img"}


@pytest.mark.parametrize(("n_steps", "n_episodes"), [(1, 1), (1, 5), (40, 1)])
def test_rollout_holds_complete_episodes(n_steps, n_episodes):
    env = make_vec_env(lambda: IdentityEnv(2, ep_length=7), n_envs=3)
    model = REINFORCE("MlpPolicy", env, n_steps=n_steps, n_episodes=n_episodes, policy_kwargs=SMALL_NET, seed=0)
    model.learn(10)
    buffer = model.rollout_buffer
    # Every batch episode is complete (7 steps) and the rule "at least n_steps * n_envs and n_episodes" holds.
    assert buffer.size() % 7 == 0
    assert buffer.n_batch_episodes == buffer.size() // 7
    assert buffer.size() >= n_steps * 3
    assert buffer.n_batch_episodes >= n_episodes


def test_minibatches_and_epochs():
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, n_epochs=2, policy_kwargs=SMALL_NET, seed=0)
    model.learn(200)
    assert model._n_updates >= 4  # counted in epochs, as PPO does


def test_gsde_and_squashed_box():
    env = make_vec_env("Pendulum-v1", n_envs=2)
    model = REINFORCE("MlpPolicy", env, use_sde=True, sde_sample_freq=4, n_steps=200, policy_kwargs=SMALL_NET, seed=0)
    model.learn(800)
    assert model._n_updates >= 2


def test_logger_keys(tmp_path):
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=64, baseline="value", policy_kwargs=SMALL_NET, seed=0)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(500)
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    for key in (
        "rollout/ep_rew_mean",
        "rollout/ep_len_mean",
        "train/policy_loss",
        "train/entropy_loss",
        "train/value_loss",
        "train/explained_variance",
        "train/n_updates",
        "train/learning_rate",
        "time/fps",
    ):
        assert key in header


def test_no_value_loss_without_value_baseline(tmp_path):
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=64, baseline="none", policy_kwargs=SMALL_NET, seed=0)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    value_net_before = [p.clone() for p in model.policy.value_net.parameters()]
    model.learn(300)
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    assert "train/policy_loss" in header and "train/value_loss" not in header
    # The value head is not trained (it is not used).
    for before, after in zip(value_net_before, model.policy.value_net.parameters(), strict=True):
        assert th.equal(before, after)


def test_tensorboard_and_progress_bar(tmp_path):
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=32, policy_kwargs=SMALL_NET, tensorboard_log=str(tmp_path), seed=0)
    model.learn(200, progress_bar=True)
    run_dirs = list(tmp_path.iterdir())
    assert [d.name for d in run_dirs] == ["REINFORCE_1"]
    assert any(f.name.startswith("events.out.tfevents") for f in run_dirs[0].iterdir())


def test_callbacks(tmp_path):
    eval_env = gym.make("CartPole-v1")
    stop = StopTrainingOnRewardThreshold(reward_threshold=-1.0)  # any reward exceeds it: stops at the first evaluation
    eval_callback = EvalCallback(eval_env, callback_on_new_best=stop, eval_freq=100, n_eval_episodes=2, log_path=str(tmp_path))
    checkpoint = CheckpointCallback(save_freq=50, save_path=str(tmp_path / "ckpt"), name_prefix="reinforce")
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=32, policy_kwargs=SMALL_NET, seed=0)
    model.learn(10_000, callback=[checkpoint, eval_callback])
    assert model.num_timesteps < 10_000  # stopped early by the threshold
    assert (tmp_path / "evaluations.npz").exists()
    assert any((tmp_path / "ckpt").glob("reinforce_*_steps.zip"))


def test_callback_stop_mid_rollout_keeps_collected_steps():

    class StopAfter(BaseCallback):
        def _on_step(self) -> bool:
            return self.num_timesteps < 5

    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=1000, policy_kwargs=SMALL_NET, seed=0)
    model.learn(10_000, callback=StopAfter())
    assert model.num_timesteps == 5
    assert model._n_updates == 0
    # The 4 stored steps are kept for the continued run (same envs, reset_num_timesteps=False).
    assert model.rollout_buffer.n_unfinished_transitions + model.rollout_buffer.n_complete_transitions == 4
    model.learn(100, reset_num_timesteps=False)
    assert model._n_updates >= 1


def test_vec_normalize_and_evaluate_policy():
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0), norm_obs=True, norm_reward=True)
    model = REINFORCE("MlpPolicy", env, n_steps=32, policy_kwargs=SMALL_NET, seed=0)
    model.learn(500)
    assert env.obs_rms.count > 500
    env.training = False
    mean, std = evaluate_policy(model, env, n_eval_episodes=3)
    assert mean > 0 and std >= 0


@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_device(device):
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=32, policy_kwargs=SMALL_NET, device=device, seed=0)
    model.learn(100)
    expected = "cuda" if device == "auto" and th.cuda.is_available() else "cpu"
    assert model.device.type == expected
    assert next(model.policy.parameters()).device.type == expected


@pytest.mark.parametrize("baseline", ["none", "value"])
def test_same_seed_same_weights(baseline):
    def train() -> dict[str, th.Tensor]:
        model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), baseline=baseline, n_steps=32, seed=3)
        model.learn(600)
        return model.policy.state_dict()

    first, second = train(), train()
    assert all(th.equal(first[key], second[key]) for key in first)
    third = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), baseline=baseline, n_steps=32, seed=4)
    third.learn(600)
    assert not all(th.equal(first[key], third.policy.state_dict()[key]) for key in first)


def test_only_an_env_reset_discards_unfinished_episodes():
    # With one env a rollout ends exactly at an episode end; with two, the other env is mid-episode.
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), n_steps=1, policy_kwargs=SMALL_NET, seed=0)
    model.learn(30)
    running = model.rollout_buffer.n_unfinished_transitions
    assert running > 0
    model._setup_learn(10, reset_num_timesteps=False)  # continues the same env episodes
    assert model.rollout_buffer.n_unfinished_transitions == running
    model._setup_learn(10, reset_num_timesteps=True)  # resets the envs: those episodes will never end
    assert model.rollout_buffer.n_unfinished_transitions == 0
