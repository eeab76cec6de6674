import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env

from sb3_reinforce import REINFORCE

SMALL_NET = dict(net_arch=[16])


@pytest.fixture
def trained(tmp_path):
    model = REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), baseline="value", n_steps=32, seed=0)
    model.learn(300)
    path = tmp_path / "reinforce_cartpole.zip"
    model.save(path)
    return model, path


def observations(n: int = 20) -> np.ndarray:
    return np.random.default_rng(0).uniform(-0.2, 0.2, size=(n, 4)).astype(np.float32)


def test_save_load_identical_predictions_and_hyperparameters(trained):
    model, path = trained
    loaded = REINFORCE.load(path)
    for deterministic in (True, False):
        th.manual_seed(1)
        expected, _ = model.predict(observations(), deterministic=deterministic)
        th.manual_seed(1)
        actual, _ = loaded.predict(observations(), deterministic=deterministic)
        np.testing.assert_array_equal(actual, expected)
    for name in ("baseline", "n_steps", "n_episodes", "gamma", "normalize_advantage", "max_episode_length", "num_timesteps"):
        assert getattr(loaded, name) == getattr(model, name)
    params, loaded_params = model.get_parameters(), loaded.get_parameters()
    for key in params["policy"]:
        assert th.equal(params["policy"][key], loaded_params["policy"][key])


def test_load_in_a_fresh_process(trained):
    model, path = trained
    expected, _ = model.predict(observations(), deterministic=True)
    code = (
        "import sys, numpy as np; from sb3_reinforce import REINFORCE; "
        "obs = np.random.default_rng(0).uniform(-0.2, 0.2, size=(20, 4)).astype(np.float32); "
        "print(REINFORCE.load(sys.argv[1]).predict(obs, deterministic=True)[0].tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(expected.tolist())


def test_load_with_env_and_continue_training(trained):
    _, path = trained
    env = make_vec_env("CartPole-v1", n_envs=3, seed=1)  # saved with 2 envs
    loaded = REINFORCE.load(path, env=env)
    assert loaded.rollout_buffer.n_envs == 3
    start = loaded.num_timesteps
    updates = loaded._n_updates
    loaded.learn(200, reset_num_timesteps=False)
    assert loaded.num_timesteps >= start + 200
    assert loaded._n_updates > updates


def test_set_env_and_set_parameters(trained):
    model, _ = trained
    other = REINFORCE("MlpPolicy", "CartPole-v1", baseline="value", seed=5)
    other.set_parameters(model.get_parameters())
    np.testing.assert_array_equal(
        other.predict(observations(), deterministic=True)[0], model.predict(observations(), deterministic=True)[0]
    )
    other.set_env(make_vec_env("CartPole-v1", n_envs=1, seed=2))
    other.learn(100)
    assert other.num_timesteps >= 100


def test_saved_zip_does_not_hold_the_rollout_buffer(trained):
    _, path = trained
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    assert "rollout_buffer" not in data  # episodes in flight are not saved, only the hyperparameters
    assert data["baseline"] == "value" and data["n_steps"] == 32


def test_load_rejects_files_that_are_not_reinforce_models(tmp_path):
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("not a zip archive")
    with pytest.raises(ValueError, match="not a model"):
        REINFORCE.load(not_zip)

    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ValueError, match=r"lacks data, policy\.pth"):
        REINFORCE.load(other_zip)

    with pytest.raises(FileNotFoundError, match="No model file"):
        REINFORCE.load(tmp_path / "missing.zip")


def test_load_rejects_another_algorithms_model(tmp_path):
    from stable_baselines3 import A2C

    A2C("MlpPolicy", "CartPole-v1", policy_kwargs=SMALL_NET).save(tmp_path / "a2c.zip")
    with pytest.raises(ValueError, match="not saved by REINFORCE"):
        REINFORCE.load(tmp_path / "a2c.zip")


def test_load_from_a_file_object(trained):
    model, path = trained
    with open(path, "rb") as file:
        loaded = REINFORCE.load(file)
    np.testing.assert_array_equal(
        loaded.predict(observations(), deterministic=True)[0], model.predict(observations(), deterministic=True)[0]
    )


@pytest.mark.parametrize("name", ["model", "model.v2", "run-1.5"])
def test_load_adds_the_zip_suffix_as_save_does(tmp_path, name):
    # SB3's load tries "<path>" then "<path>.zip" (it appends the suffix; it does not replace one).
    model = REINFORCE("MlpPolicy", "CartPole-v1", policy_kwargs=SMALL_NET, seed=0)
    model.save(tmp_path / f"{name}.zip")
    loaded = REINFORCE.load(tmp_path / name)
    np.testing.assert_array_equal(
        loaded.predict(observations(), deterministic=True)[0], model.predict(observations(), deterministic=True)[0]
    )
    assert REINFORCE.load(str(tmp_path / name)).n_steps == model.n_steps
