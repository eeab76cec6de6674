import copy
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import IdentityEnv
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import DummyVecEnv

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
    _, path = trained
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


def test_set_parameters_checks_names_and_updates_only_what_is_given():
    model = REINFORCE("MlpPolicy", "CartPole-v1", policy_kwargs=SMALL_NET, seed=0)
    params = copy.deepcopy(model.get_parameters())
    assert set(params) == {"policy", "policy.optimizer"}
    for exact_match in (True, False):
        with pytest.raises(ValueError, match="not_an_object"):
            model.set_parameters({**params, "not_an_object": {}}, exact_match=exact_match)
    with pytest.raises(ValueError, match=r"policy\.optimizer"):
        model.set_parameters({"policy": params["policy"]}, exact_match=True)
    first, *others = params["policy"]
    with pytest.raises(RuntimeError):  # torch's strict load_state_dict: a missing tensor
        model.set_parameters({**params, "policy": {key: params["policy"][key] for key in others}}, exact_match=True)

    model.set_parameters({"policy": {first: params["policy"][first] + 1.0}}, exact_match=False)
    updated = model.get_parameters()["policy"]
    assert th.equal(updated[first], params["policy"][first] + 1.0)
    assert all(th.equal(updated[key], params["policy"][key]) for key in others)


def test_save_exclude_include_and_load_custom_objects(tmp_path):
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=16, policy_kwargs=SMALL_NET, verbose=2, seed=0)
    model.save(tmp_path / "model", exclude=["verbose"])
    assert REINFORCE.load(tmp_path / "model").verbose == 0
    model.save(tmp_path / "model", exclude=["verbose"], include=["verbose"])
    loaded = REINFORCE.load(tmp_path / "model", custom_objects=dict(learning_rate=2e-5, n_steps=3, not_an_attribute=1.0))
    assert loaded.verbose == 2
    assert loaded.learning_rate == 2e-5 and loaded.n_steps == 3
    assert not hasattr(loaded, "not_an_attribute")  # only attributes the model has are replaced


def _identity_env():
    return IdentityEnv(2, ep_length=4)


def test_set_env_and_load_keep_or_reset_the_envs(tmp_path):
    # 4-step episodes and n_steps=4 on one env: every rollout is exactly one episode, whatever the stopping rule.
    model = REINFORCE("MlpPolicy", DummyVecEnv([_identity_env]), n_steps=4, policy_kwargs=SMALL_NET, seed=0)
    model.learn(8)
    model.set_env(DummyVecEnv([_identity_env]), force_reset=True)
    assert model._last_obs is None
    model.learn(8)
    assert model.num_timesteps == 8
    model.set_env(_identity_env())  # a gym env is wrapped as SB3 does
    assert isinstance(model.get_env(), DummyVecEnv)
    with pytest.raises(AssertionError, match="number of environments"):
        model.set_env(DummyVecEnv([_identity_env, _identity_env]))
    model.learn(8)
    model.set_env(model.get_env(), force_reset=False)
    assert model._last_obs is not None
    model.learn(8, reset_num_timesteps=False)
    assert model.num_timesteps == 16

    model.save(tmp_path / "model.zip")
    kept = REINFORCE.load(tmp_path / "model.zip", env=model.get_env(), force_reset=False)
    assert kept._last_obs is not None
    kept.learn(8, reset_num_timesteps=False)
    assert kept.num_timesteps == 24
    reset = REINFORCE.load(tmp_path / "model.zip", env=_identity_env(), force_reset=True)
    assert reset._last_obs is None
    reset.learn(8, reset_num_timesteps=False)
    assert reset.num_timesteps == 24
    more_envs = REINFORCE.load(tmp_path / "model.zip", env=DummyVecEnv([_identity_env] * 3))
    more_envs.learn(24)
    # Two updates of three 4-step episodes (one per env) after the 8 saved ones.
    assert more_envs.num_timesteps == 24 and more_envs._n_updates == 10


def test_set_env_then_learn_counts_exactly_the_budget(tmp_path):
    # SB3's test_set_env sequence with 7-step episodes, which a rollout of complete episodes cannot stop on at 16.
    def env():
        return IdentityEnv(2, ep_length=7)

    model = REINFORCE("MlpPolicy", DummyVecEnv([env]), n_steps=4, policy_kwargs=SMALL_NET, seed=0)
    model.learn(16)
    model.set_env(DummyVecEnv([env]), force_reset=True)
    model.learn(16, reset_num_timesteps=True)
    assert model.num_timesteps == 16
    model.set_env(model.get_env(), force_reset=False)
    model.learn(16, reset_num_timesteps=False)
    assert model.num_timesteps == 32
    model.save(tmp_path / "model.zip")
    loaded = REINFORCE.load(tmp_path / "model.zip", env=model.get_env(), force_reset=False)
    loaded.learn(16, reset_num_timesteps=False)
    assert loaded.num_timesteps == 48


@pytest.mark.parametrize("use_sde", [False, True])
def test_policy_save_load(tmp_path, use_sde):
    env_id = "Pendulum-v1" if use_sde else "CartPole-v1"
    model = REINFORCE("MlpPolicy", env_id, use_sde=use_sde, policy_kwargs=SMALL_NET, seed=0)
    obs = np.stack([model.observation_space.sample() for _ in range(8)])
    expected, _ = model.predict(obs, deterministic=True)
    model.policy.save(tmp_path / "policy.pkl")
    policy = ActorCriticPolicy.load(tmp_path / "policy.pkl", device="cpu")
    np.testing.assert_allclose(policy.predict(obs, deterministic=True)[0], expected, rtol=1e-5)
    assert policy.use_sde == use_sde


@pytest.mark.filterwarnings("error::ResourceWarning")
def test_save_load_paths_and_file_objects(tmp_path):
    model = REINFORCE("MlpPolicy", "CartPole-v1", policy_kwargs=SMALL_NET, seed=0)
    expected, _ = model.predict(observations(), deterministic=True)
    for path in (str(tmp_path / "as_str"), tmp_path / "as_path"):
        model.save(path)
        np.testing.assert_array_equal(REINFORCE.load(path).predict(observations(), deterministic=True)[0], expected)
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(REINFORCE.load(buffer).predict(observations(), deterministic=True)[0], expected)
    assert not buffer.closed  # a file object stays the caller's to close


def test_learning_rate_schedule_survives_save_load(tmp_path):
    def schedule(progress_remaining: float) -> float:
        return 1e-3 * progress_remaining

    REINFORCE("MlpPolicy", "CartPole-v1", learning_rate=schedule, policy_kwargs=SMALL_NET).save(tmp_path / "model.zip")
    loaded = REINFORCE.load(tmp_path / "model.zip")
    assert type(loaded.lr_schedule(1.0)) is float
    assert loaded.lr_schedule(0.5) == pytest.approx(5e-4)
    loaded = REINFORCE.load(tmp_path / "model.zip", custom_objects=dict(learning_rate=0.1, lr_schedule=lambda _: 0.1))
    assert loaded.lr_schedule(0.5) == 0.1


def test_save_load_default_net_arch(tmp_path):
    REINFORCE("MlpPolicy", "CartPole-v1", policy_kwargs=dict(net_arch=None)).save(tmp_path / "model.zip")
    assert REINFORCE.load(tmp_path / "model.zip").policy.net_arch is not None
