import json
import os
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


def test_a_save_that_fails_part_way_keeps_the_previous_model(trained, tmp_path):
    # A file-size limit (as a full disk would) stops the second save part-way: the first model must stay loadable,
    # and no temporary file may be left behind.
    model, path = trained
    before = path.read_bytes()
    script = f"""
import resource, signal, sys
from sb3_reinforce import REINFORCE
model = REINFORCE.load({str(path)!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get an OSError (EFBIG) instead of being killed
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    model.save({str(path)!r})
except OSError as error:
    print("failed:", error.errno)
    sys.exit(0)
sys.exit("the save did not fail")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "failed: 27" in result.stdout  # EFBIG
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    REINFORCE.load(path)


def test_save_appends_zip_and_keeps_usual_permissions(trained, tmp_path):
    model, _ = trained
    model.save(tmp_path / "sub" / "agent")
    saved = tmp_path / "sub" / "agent.zip"
    assert sorted(p.name for p in saved.parent.iterdir()) == ["agent.zip"]
    assert saved.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert REINFORCE.load(saved).num_timesteps == model.num_timesteps


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
