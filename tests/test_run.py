import gymnasium as gym
import numpy as np
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
    sizes = []

    class RecordSizes(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            sizes.append((self.model.rollout_buffer.size(), self.model.rollout_buffer.n_batch_episodes))

    model.learn(300, callback=RecordSizes())
    assert len(sizes) >= 2
    # Every batch episode is complete (7 steps); every rollout but the last (cut by the budget) follows the rule
    # "at least n_steps * n_envs transitions and n_episodes episodes".
    for size, n_batch_episodes in sizes:
        assert size % 7 == 0
        assert n_batch_episodes == size // 7
    for size, n_batch_episodes in sizes[:-1]:
        assert size >= n_steps * 3
        assert n_batch_episodes >= n_episodes


def test_minibatches_and_epochs():
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, n_epochs=2, policy_kwargs=SMALL_NET, seed=0)
    model.learn(200)
    assert model._n_updates >= 4  # counted in epochs, as PPO does


def test_gsde_and_squashed_box():
    env = make_vec_env("Pendulum-v1", n_envs=2)
    model = REINFORCE("MlpPolicy", env, use_sde=True, sde_sample_freq=4, n_steps=200, policy_kwargs=SMALL_NET, seed=0)
    model.learn(800)
    assert model._n_updates >= 2


@pytest.mark.parametrize("baseline", ["none", "mean", "value"])
def test_logger_keys(tmp_path, baseline):
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=64, baseline=baseline, policy_kwargs=SMALL_NET, seed=0)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(500)
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    for key in (
        "rollout/ep_rew_mean",
        "rollout/ep_len_mean",
        "train/policy_loss",
        "train/entropy_loss",
        "train/explained_variance",
        "train/n_updates",
        "train/learning_rate",
        "time/fps",
    ):
        assert key in header
    assert ("train/value_loss" in header) == (baseline == "value")
    rows = [
        dict(zip(header, line.split(","), strict=True)) for line in (tmp_path / "progress.csv").read_text().splitlines()[1:]
    ]
    explained = [float(row["train/explained_variance"]) for row in rows if row["train/explained_variance"]]
    if baseline == "none":
        # A zero baseline explains none of the returns' variance, by definition.
        assert explained == [0.0] * len(explained) and explained
    else:
        assert all(value <= 1.0 for value in explained) and explained


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
    # The 5 steps taken are kept for the continued run (same envs, reset_num_timesteps=False).
    assert model.rollout_buffer.n_unfinished_transitions + model.rollout_buffer.n_complete_transitions == 5
    model.learn(100, reset_num_timesteps=False)
    assert model._n_updates >= 1


class CountingEnv(gym.Env):
    """Observation = steps taken in the episode, reward 1 per step, episodes of exactly 3 steps."""

    observation_space = gym.spaces.Box(0.0, 3.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(1, self.t, dtype=np.float32), 1.0, self.t == 3, False, {}


class RecordBatches(BaseCallback):
    """Stops at ``stop_at`` timesteps (if given) and keeps the observations and returns of every batch."""

    def __init__(self, stop_at: int | None = None):
        super().__init__()
        self.stop_at, self.batches = stop_at, []

    def _on_step(self) -> bool:
        return self.stop_at is None or self.num_timesteps < self.stop_at

    def _on_rollout_end(self) -> None:
        buffer = self.model.rollout_buffer
        self.batches.append((buffer.observations.flatten().tolist(), buffer.returns.tolist()))


def test_callback_stop_on_an_episode_end_does_not_glue_episodes():
    # Stopping on the step that ends the first episode, then continuing, must give the same episodes as never stopping:
    # observations 0, 1, 2 and returns 3, 2, 1 (gamma 1), never an episode spanning the stop.
    model = REINFORCE("MlpPolicy", make_vec_env(CountingEnv, n_envs=1), n_steps=3, gamma=1.0, policy_kwargs=SMALL_NET, seed=0)
    model.learn(100, callback=RecordBatches(stop_at=3))
    assert model.num_timesteps == 3 and model._n_updates == 0
    recorder = RecordBatches()
    model.learn(6, reset_num_timesteps=False, callback=recorder)
    assert len(recorder.batches) == 3
    for observations, returns in recorder.batches:
        assert observations == [0.0, 1.0, 2.0]
        assert returns == [3.0, 2.0, 1.0]


def test_learning_rate_schedule_never_goes_negative():
    # The last rollout overshoots total_timesteps when it is not a multiple of n_envs: a schedule that does not clip,
    # like the zoo's lin_*, must still get a progress of at least 0.
    seen = []

    def schedule(progress_remaining: float) -> float:
        seen.append(progress_remaining)
        return 1e-3 * progress_remaining

    model = REINFORCE("MlpPolicy", make_vec_env(CountingEnv, n_envs=3), n_steps=2, learning_rate=schedule, seed=0)
    # Updates at 9 and 18 timesteps (3 envs step together, episodes of 3 steps): the last one past the budget, as A2C/PPO's.
    model.learn(17)
    assert model.num_timesteps == 18 and model._n_updates == 2
    assert min(seen) == 0.0
    assert model.policy.optimizer.param_groups[0]["lr"] == 0.0


def test_vec_normalize_and_evaluate_policy():
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0), norm_obs=True, norm_reward=True)
    model = REINFORCE("MlpPolicy", env, n_steps=32, policy_kwargs=SMALL_NET, seed=0)
    model.learn(500)
    assert env.obs_rms.count > 500
    env.training = False
    obs_rms_count = env.obs_rms.count
    mean, _ = evaluate_policy(model, env, n_eval_episodes=3)
    # CartPole episodes last at least 8 steps, and the statistics stay frozen during the evaluation.
    assert mean >= 8
    assert env.obs_rms.count == obs_rms_count


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
        model = REINFORCE(
            "MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), baseline=baseline, n_steps=32, seed=3, device="cpu"
        )
        model.learn(600)
        return model.policy.state_dict()

    first, second = train(), train()
    assert all(th.equal(first[key], second[key]) for key in first)
    third = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), baseline=baseline, n_steps=32, seed=4, device="cpu")
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


@pytest.mark.parametrize("baseline", ["none", "mean", "value"])
@pytest.mark.parametrize("env_id", ["CartPole-v1", "MultiInput"])
def test_chunked_update_equals_one_pass(baseline, env_id):
    # A batch split into chunks (bounded memory for big images) must make the same single gradient step.
    def updated(chunk_elements: int | None) -> tuple[dict[str, th.Tensor], float]:
        if env_id == "MultiInput":
            env = make_vec_env(lambda: gym.wrappers.TimeLimit(SimpleMultiObsEnv(random_start=False), 20), n_envs=2, seed=0)
            policy = "MultiInputPolicy"
        else:
            env, policy = make_vec_env(env_id, n_envs=2, seed=0), "MlpPolicy"
        # Plain SGD: Adam's first step is lr * sign(gradient), which turns rounding noise around 0 into lr-sized changes.
        policy_kwargs = dict(SMALL_NET, optimizer_class=th.optim.SGD, optimizer_kwargs={})
        model = REINFORCE(
            policy, env, baseline=baseline, n_steps=64, ent_coef=0.01, learning_rate=0.1, policy_kwargs=policy_kwargs, seed=0
        )
        if chunk_elements is not None:
            model.gradient_chunk_elements = chunk_elements
        model.set_logger(configure(None, []))
        model.learn(128)  # one rollout, one update
        assert model._n_updates == 1
        assert model.rollout_buffer.size() > 7  # several chunks when chunk_elements is 29
        return model.policy.state_dict(), model.logger.name_to_value["train/policy_loss"]

    whole, whole_loss = updated(None)
    # 4 input numbers per CartPole observation: chunks of 7 transitions; single transitions for the Dict env (64x64 image).
    chunked, chunked_loss = updated(29)
    for key in whole:
        th.testing.assert_close(chunked[key], whole[key], rtol=1e-5, atol=1e-6)
    assert chunked_loss == pytest.approx(whole_loss, rel=1e-4, abs=1e-6)


class RolloutValuesCheck(BaseCallback):
    """At the end of each rollout (weights not yet updated): the recorded values are the current policy's."""

    def __init__(self):
        super().__init__()
        self.recorded: list[int] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buffer = self.model.rollout_buffer
        fresh = ~np.isnan(buffer.values)
        self.recorded.append(int(fresh.sum()))
        if fresh.any():
            # Exactly the steps of this rollout: those of carried episodes came before the last update.
            assert fresh.sum() == buffer.size() - buffer.n_batch_carried
            with th.no_grad():
                expected = self.model.policy.predict_values(buffer.to_torch(buffer.observations[fresh])).flatten()
            th.testing.assert_close(th.as_tensor(buffer.values[fresh]), expected, rtol=1e-5, atol=1e-5)


def test_chunked_value_baseline_reuses_rollout_values():
    # Once an update needs several chunks, rollouts record the value baseline (one pass through the network instead of
    # two for images): the updates must stay those of a single pass over the whole batch.
    def trained(chunk_elements: int | None) -> tuple[REINFORCE, RolloutValuesCheck]:
        policy_kwargs = dict(SMALL_NET, optimizer_class=th.optim.SGD, optimizer_kwargs={})
        env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
        kwargs = dict(baseline="value", n_steps=64, learning_rate=0.1, policy_kwargs=policy_kwargs, seed=0)
        model = REINFORCE("MlpPolicy", env, **kwargs)
        if chunk_elements is not None:
            model.gradient_chunk_elements = chunk_elements
        check = RolloutValuesCheck()
        model.learn(400, callback=check)
        return model, check

    whole, whole_check = trained(None)
    chunked, chunked_check = trained(29)
    assert whole._n_updates == chunked._n_updates >= 3
    assert not whole._rollout_values and max(whole_check.recorded) == 0  # one chunk: the values come with the log-probs
    assert chunked._rollout_values and chunked_check.recorded[0] == 0 and min(chunked_check.recorded[1:]) > 0
    for key, value in whole.policy.state_dict().items():
        th.testing.assert_close(chunked.policy.state_dict()[key], value, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n_envs", [1, 4])
@pytest.mark.parametrize("total_timesteps", [64, 200])
def test_learn_stops_at_total_timesteps(n_envs, total_timesteps):
    # A budget, as for A2C/PPO: the rollout stops there even in the middle of episodes.
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=n_envs, seed=0), n_steps=64, policy_kwargs=SMALL_NET)
    model.learn(total_timesteps)
    assert model.num_timesteps == total_timesteps
    model.learn(total_timesteps, reset_num_timesteps=False)
    assert model.num_timesteps == 2 * total_timesteps


class RewardIsStepEnv(CountingEnv):
    """CountingEnv whose reward is the step's index in the episode: 1, 2, 3."""

    def step(self, action):
        obs, _, terminated, truncated, info = super().step(action)
        return obs, float(self.t), terminated, truncated, info


def test_running_episode_is_completed_by_the_next_learn_call():
    # gamma 0.5, rewards 1, 2, 3: G = [1 + 0.5*2 + 0.25*3, 2 + 0.5*3, 3] = [2.75, 3.5, 3.0] for every episode.
    model = REINFORCE("MlpPolicy", make_vec_env(RewardIsStepEnv, n_envs=1), n_steps=1, gamma=0.5, seed=0)
    recorder = RecordBatches()
    model.learn(4, callback=recorder)  # one episode, then a rollout of one step of the next: no update
    assert model.num_timesteps == 4 and model._n_updates == 1
    assert recorder.batches == [([0.0, 1.0, 2.0], [2.75, 3.5, 3.0]), ([], [])]
    assert model.rollout_buffer.n_unfinished_transitions == 1

    recorder = RecordBatches()
    model.learn(2, reset_num_timesteps=False, callback=recorder)  # the two steps that end it
    assert model.num_timesteps == 6 and model._n_updates == 2
    assert recorder.batches == [([0.0, 1.0, 2.0], [2.75, 3.5, 3.0])]
    assert model.rollout_buffer.n_batch_carried == 1  # its first step came from the earlier call
    assert model.rollout_buffer.n_unfinished_transitions == 0


def test_rollout_without_a_complete_episode_makes_no_update():
    model = REINFORCE("MlpPolicy", make_vec_env(CountingEnv, n_envs=2), n_steps=1, seed=0)
    weights = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.learn(4)  # 2 steps of each env's 3-step episode
    assert model.num_timesteps == 4 and model._n_updates == 0
    assert all(th.equal(weights[k], v) for k, v in model.policy.state_dict().items())
    model.learn(2, reset_num_timesteps=False)  # the third steps: two complete episodes
    assert model._n_updates == 1 and model.rollout_buffer.n_batch_episodes == 2


@pytest.mark.parametrize("force_reset", [True, False])
def test_set_env_discards_running_episodes_only_when_it_resets(force_reset):
    # set_env(force_reset=True) makes the next learn() reset the envs: their running episodes can never end.
    model = REINFORCE("MlpPolicy", make_vec_env(CountingEnv, n_envs=2), n_steps=1, seed=0)
    model.learn(4)
    assert model.rollout_buffer.n_unfinished_transitions == 4
    model.set_env(make_vec_env(CountingEnv, n_envs=2), force_reset=force_reset)
    model._setup_learn(10, reset_num_timesteps=False)
    assert model.rollout_buffer.n_unfinished_transitions == (0 if force_reset else 4)


class MatrixActionEnv(gym.Env):
    """A 2x2 Box action; the episode's 5 steps reward actions close to the identity matrix."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (2, 2), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(3, dtype=np.float32), {}

    def step(self, action):
        assert action.shape == (2, 2) and self.action_space.contains(action.astype(np.float32))
        self.t += 1
        return np.zeros(3, dtype=np.float32), -float(np.abs(action - np.eye(2)).sum()), self.t == 5, False, {}


@pytest.mark.parametrize("use_sde", [False, True])
def test_multi_dimensional_box_actions(use_sde):
    model = REINFORCE("MlpPolicy", make_vec_env(MatrixActionEnv, n_envs=2), n_steps=8, use_sde=use_sde, seed=0)
    model.learn(64)
    assert model.num_timesteps == 64 and model._n_updates >= 1
    action, _ = model.predict(np.zeros(3, dtype=np.float32))
    assert action.shape == (2, 2)
