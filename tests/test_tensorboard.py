"""TensorBoard run folders and scalars as with A2C: one folder per learn() unless it continues, steps are timesteps."""

import pytest
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HParam

from sb3_reinforce import REINFORCE

pytest.importorskip("tensorboard")


class LogHyperparameters(BaseCallback):
    def _on_training_start(self) -> None:
        hparams = {"algorithm": type(self.model).__name__, "gamma": self.model.gamma}
        self.logger.record("hparams", HParam(hparams, {"rollout/ep_len_mean": 0}), exclude=("stdout", "log", "json", "csv"))

    def _on_step(self) -> bool:
        return True


def test_run_folders_and_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=16, policy_kwargs=dict(net_arch=[8]), tensorboard_log=str(tmp_path))
    model.learn(50, callback=LogHyperparameters())
    model.learn(50, reset_num_timesteps=False)  # continues the same run
    first_run_timesteps = model.num_timesteps
    model.learn(20, tb_log_name="named")
    model.learn(20, tb_log_name="named")  # a new run: a new folder
    assert sorted(path.name for path in tmp_path.iterdir()) == ["REINFORCE_1", "named_1", "named_2"]

    events = EventAccumulator(str(tmp_path / "REINFORCE_1"))
    events.Reload()
    tags = events.Tags()["scalars"]
    for tag in ("rollout/ep_len_mean", "train/policy_loss", "train/entropy_loss", "time/fps"):
        assert tag in tags
    assert "train/n_updates" not in tags  # excluded from TensorBoard, as in A2C
    # One point per update, at the timestep it was logged; the continued learn() carries on where the first stopped.
    steps = [event.step for event in events.Scalars("train/policy_loss")]
    assert len(steps) >= 2 and steps == sorted(steps) and steps[-1] == first_run_timesteps
