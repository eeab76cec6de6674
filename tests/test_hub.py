"""
Hub sharing: package, push, load, against the real huggingface_hub client and a fake Hub on 127.0.0.1.

The agent is trained once (a few hundred CartPole steps, tiny nets) and pushed once for the module.
"""

import base64
import hashlib
import io
import json
import pickle
import socket
import sys
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import gymnasium as gym
import imageio_ffmpeg
import numpy as np
import pytest
import torch as th
import yaml
from gymnasium import spaces
from hub_server import FakeHub  # tests/ is on sys.path (pytest rootdir-less test modules)
from huggingface_hub import ModelCard, constants, get_token, hf_hub_download
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_reinforce import REINFORCE
from sb3_reinforce.hub import (
    HubError,
    ModelFormatError,
    UnsafeModelError,
    default_repo_id,
    load_from_hub,
    load_safe_model,
    model_name,
    package_to_hub,
    push_to_hub,
    save_safe_model,
)
from sb3_reinforce.hub.cli import load_from_hub_main, push_to_hub_main
from sb3_reinforce.hub.errors import hub_errors
from sb3_reinforce.hub.normalization import vec_normalize_to_json
from sb3_reinforce.hub.spaces_json import space_from_json, space_to_json
from sb3_reinforce.hub.video import VideoError
from sb3_reinforce.hub.zoo_layout import safe_zoo_hyperparams

ENV_ID = "CartPole-v1"
MODEL_NAME = model_name(ENV_ID)
VIDEO_LENGTH = 30
N_EVAL_EPISODES = 3


class _Evil:
    """Unpickling this creates ``marker``: the proof that a file ran code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _rgb_env() -> DummyVecEnv:
    return DummyVecEnv([lambda: gym.make(ENV_ID, render_mode="rgb_array")])


def _marker_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    """
    Write an importable module ``name`` whose import creates a marker file: the proof that a file made us import it.

    :return: The marker's path
    """
    marker = tmp_path / f"{name}.imported"
    (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').close()\n\nclass Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return marker


@pytest.fixture(scope="module")
def hub():
    server = FakeHub().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def hub_environment(hub, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("HF_TOKEN", hub.token)
    # Every other place huggingface_hub takes a token from: the tests must see only the one above.
    for name in ("HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE", "HF_OIDC_ID_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    # Never touch the user's cache or saved token.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no_token"))


@pytest.fixture(scope="module")
def trained_model():
    th.set_num_threads(1)
    model = REINFORCE("MlpPolicy", ENV_ID, n_steps=64, policy_kwargs={"net_arch": [8]}, seed=0)
    return model.learn(600)


@pytest.fixture(scope="module")
def pushed(hub, trained_model, tmp_path_factory):
    """The trained agent pushed to ``tester/reinforce-CartPole-v1``: (repo_id, PackageResult)."""
    repo_id = default_repo_id("tester", ENV_ID)
    result = package_to_hub(
        trained_model,
        MODEL_NAME,
        ENV_ID,
        _rgb_env(),
        repo_id,
        n_eval_episodes=N_EVAL_EPISODES,
        video_length=VIDEO_LENGTH,
        token=hub.token,
        endpoint=hub.endpoint,
        local_dir=tmp_path_factory.mktemp("package") / "repo",
        verbose=0,
    )
    return repo_id, result


def _plant(hub: FakeHub, repo_id: str, files: dict[str, bytes]) -> str:
    hub.add_files(repo_id, files)
    return repo_id


def _assert_same_policy(model_a: REINFORCE, model_b: REINFORCE) -> None:
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    np.testing.assert_array_equal(model_a.predict(obs, deterministic=True)[0], model_b.predict(obs, deterministic=True)[0])
    with th.no_grad():
        obs_tensor = th.as_tensor(obs)
        probs_a = model_a.policy.get_distribution(obs_tensor).distribution.probs
        probs_b = model_b.policy.get_distribution(obs_tensor).distribution.probs
    assert th.equal(probs_a, probs_b)


# --- Round trip ---------------------------------------------------------------------------------------------


def test_round_trip_gives_identical_predictions(hub, pushed, trained_model, tmp_path):
    repo_id, _ = pushed
    first_request = len(hub.requests)
    model = load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert isinstance(model, REINFORCE)
    _assert_same_policy(model, trained_model)
    assert model.observation_space == trained_model.observation_space
    assert model.action_space == trained_model.action_space
    assert model.num_timesteps == trained_model.num_timesteps
    # Safe by default: neither the SB3 zip nor any pickle was even downloaded.
    fetched = [path for _, path in hub.requests[first_request:]]
    assert not any(path.endswith((".zip", ".pkl")) for path in fetched)
    assert any(path.endswith(f"{MODEL_NAME}.safe.pth") for path in fetched)


def test_push_is_one_commit_with_every_file(hub, pushed):
    repo_id, result = pushed
    commits = [path for method, path in hub.requests if method == "POST" and path.endswith(f"{repo_id}/commit/main")]
    assert len(commits) == 1
    files = hub.files(repo_id)
    expected = {
        f"{MODEL_NAME}.zip",
        f"{MODEL_NAME}.safe.json",
        f"{MODEL_NAME}.safe.pth",
        "config.json",
        "results.json",
        "replay.mp4",
        "README.md",
    }
    assert set(files) == expected == set(result.files)
    for name, content in files.items():
        assert (result.local_dir / name).read_bytes() == content


def test_card_metadata_carries_the_evaluation(hub, pushed, tmp_path):
    repo_id, result = pushed
    readme = hf_hub_download(repo_id, "README.md", endpoint=hub.endpoint, cache_dir=tmp_path)
    card = ModelCard.load(readme)
    data = card.data.to_dict()
    assert data["library_name"] == "stable-baselines3"
    assert set(data["tags"]) >= {
        ENV_ID,
        "reinforce",
        "reinforcement-learning",
        "stable-baselines3",
        "deep-rl-class",
        "deep-reinforcement-learning",
    }
    results = json.loads((result.local_dir / "results.json").read_text())
    (evaluation,) = card.data.eval_results
    assert evaluation.metric_type == "mean_reward"
    assert evaluation.metric_value == f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"
    assert evaluation.dataset_type == evaluation.dataset_name == ENV_ID
    assert (results["mean_reward"], results["std_reward"]) == (result.mean_reward, result.std_reward)
    assert results["n_eval_episodes"] == N_EVAL_EPISODES and results["is_deterministic"] is True
    assert len(results["episode_rewards"]) == N_EVAL_EPISODES and "eval_datetime" in results
    # The body tells how to load and run the agent with this package.
    assert f'load_from_hub("{repo_id}"' in card.text and "sb3-reinforce load-from-hub" in card.text


def test_replay_is_a_valid_mp4_with_the_expected_frame_count(pushed):
    _, result = pushed
    video = result.local_dir / "replay.mp4"
    assert video.read_bytes()[4:8] == b"ftyp"
    n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert n_frames == VIDEO_LENGTH
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = reader.__next__()
    assert meta["size"] == (600, 400) and meta["codec"].startswith("h264")
    reader.close()


def test_trusted_load_uses_the_sb3_zip(hub, pushed, trained_model, tmp_path):
    repo_id, _ = pushed
    first_request = len(hub.requests)
    model = load_from_hub(repo_id, trust_remote_code=True, cache_dir=tmp_path)
    _assert_same_policy(model, trained_model)
    assert any(path.endswith(f"{MODEL_NAME}.zip") for _, path in hub.requests[first_request:])


def test_vec_normalize_dry_run_then_push(hub, trained_model, tmp_path):
    venv = VecNormalize(_rgb_env(), norm_reward=True)
    venv.reset()
    for _ in range(50):
        venv.step(np.array([venv.action_space.sample()]))
    stats = venv.obs_rms.mean.copy(), venv.obs_rms.var.copy()
    repo_id, local_dir = "tester/normalized", tmp_path / "normalized"
    before = len(hub.requests)
    package_to_hub(
        trained_model,
        "agent",
        ENV_ID,
        venv,
        repo_id,
        n_eval_episodes=1,
        video_length=0,
        local_dir=local_dir,
        dry_run=True,
        verbose=0,
    )
    assert len(hub.requests) == before, "a dry run must not talk to the Hub"
    assert venv.training and venv.norm_reward, "the user's wrapper settings are restored"
    assert {"vec_normalize.json", "vec_normalize.pkl", "agent.safe.json", "agent.zip"} <= {p.name for p in local_dir.iterdir()}

    push_to_hub(repo_id, local_dir, verbose=0)
    model = load_from_hub(repo_id, env=gym.make(ENV_ID), cache_dir=tmp_path / "cache")
    vec_normalize = model.get_vec_normalize_env()
    assert vec_normalize is not None and not vec_normalize.training and not vec_normalize.norm_reward
    np.testing.assert_array_equal(vec_normalize.obs_rms.mean, stats[0])
    np.testing.assert_array_equal(vec_normalize.obs_rms.var, stats[1])
    obs = np.ones((1, 4), dtype=np.float32)
    np.testing.assert_array_equal(vec_normalize.normalize_obs(obs), venv.normalize_obs(obs))
    # Without env, one is made from the env id to carry the statistics.
    assert load_from_hub(repo_id, cache_dir=tmp_path / "cache").get_vec_normalize_env() is not None
    # The trusted path reads SB3's zip and pickle instead, to the same result.
    trusted = load_from_hub(repo_id, env=gym.make(ENV_ID), trust_remote_code=True, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(trusted.get_vec_normalize_env().normalize_obs(obs), venv.normalize_obs(obs))


# --- Clear errors, local folder intact -----------------------------------------------------------------------


@pytest.fixture
def package_dir(pushed, tmp_path):
    """A copy of the pushed package, to push again."""
    _, result = pushed
    folder = tmp_path / "again"
    folder.mkdir()
    for path in result.local_dir.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def test_missing_token(package_dir, trained_model, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN")
    assert get_token() is None, "a token from the machine running the tests would hide the error"
    before = _digest(package_dir)
    with pytest.raises(HubError, match="no Hugging Face token"):
        push_to_hub("tester/again", package_dir, verbose=0)
    assert _digest(package_dir) == before
    # package_to_hub stops before the (slow) evaluation and writes nothing.
    with pytest.raises(HubError, match="no Hugging Face token"):
        package_to_hub(trained_model, "x", ENV_ID, _rgb_env(), "tester/x", local_dir=tmp_path / "never", verbose=0)
    assert not (tmp_path / "never").exists()


def test_rejected_token(package_dir):
    before = _digest(package_dir)
    with pytest.raises(HubError, match="rejected the token"):
        push_to_hub("tester/again", package_dir, token="hf_wrong", verbose=0)
    assert _digest(package_dir) == before


def test_unreachable_endpoint(package_dir, pushed, tmp_path, monkeypatch):
    url = _closed_port_url()
    before = _digest(package_dir)
    with pytest.raises(HubError, match="could not be reached") as error:
        push_to_hub("tester/again", package_dir, endpoint=url, verbose=0)
    assert str(package_dir) in str(error.value)
    assert _digest(package_dir) == before
    # hf_hub_download retries a refused connection 5 times with backoff (23 s): skip the waits.
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    with pytest.raises(HubError, match="could not be reached"):
        load_from_hub(pushed[0], endpoint=url, cache_dir=tmp_path / "empty")


def test_offline_mode(package_dir, pushed, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = _digest(package_dir)
    with pytest.raises(HubError, match="HF_HUB_OFFLINE"):
        push_to_hub("tester/again", package_dir, verbose=0)
    assert _digest(package_dir) == before
    with pytest.raises(HubError, match="HF_HUB_OFFLINE") as error:
        load_from_hub(pushed[0], cache_dir=tmp_path / "empty")
    assert "could not be reached" not in str(error.value)


def test_offline_load_of_a_cached_repo_without_optional_files(hub, honest_files, monkeypatch, tmp_path):
    # Pushed by another tool: no config.json, so vec_normalize.json is looked for too; neither exists.
    files = {name: content for name, content in honest_files.items() if name != "config.json"}
    repo_id = _plant(hub, "tester/no-config", files)
    online = load_from_hub(repo_id, MODEL_NAME, cache_dir=tmp_path / "cache")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = len(hub.requests)
    offline = load_from_hub(repo_id, MODEL_NAME, cache_dir=tmp_path / "cache")
    assert len(hub.requests) == before
    _assert_same_policy(offline, online)


def test_local_file_errors_are_not_reported_as_network_errors(pushed, tmp_path):
    with pytest.raises(HubError, match="local file") as error, hub_errors("download x", "http://hub.invalid"):
        raise PermissionError(13, "Permission denied", str(tmp_path / "cache"))
    assert "could not be reached" not in str(error.value)
    with pytest.raises(HubError, match="could not be reached"), hub_errors("download x", "http://hub.invalid"):
        raise ConnectionRefusedError(111, "Connection refused")
    # A cache folder that is a file: the Hub answered, the local disk failed.
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("")
    with pytest.raises(HubError, match="local file") as error:
        load_from_hub(pushed[0], cache_dir=not_a_folder)
    assert "could not be reached" not in str(error.value)


# --- Malicious and foreign files --------------------------------------------------------------------------------


@pytest.fixture
def honest_files(hub, pushed) -> dict[str, bytes]:
    return hub.files(pushed[0])


def test_pickle_in_weights_is_refused_without_running(hub, honest_files, tmp_path):
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    th.save({"policy": _Evil(marker)}, buffer)  # a torch.save zip whose pickle calls open()
    repo_id = _plant(hub, "mallory/weights", {**honest_files, f"{MODEL_NAME}.safe.pth": buffer.getvalue()})
    with pytest.raises(UnsafeModelError, match="refused"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert not marker.exists()


def test_pickled_vec_normalize_is_never_opened(hub, honest_files, trained_model, tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(_Evil(marker))
    config = json.loads(honest_files["config.json"])
    config["vec_normalize"] = "vec_normalize.json"
    repo_id = _plant(
        hub,
        "mallory/stats",
        {**honest_files, "config.json": json.dumps(config).encode(), "vec_normalize.pkl": evil, "vec_normalize.json": evil},
    )
    with pytest.raises(UnsafeModelError, match="pickle"):
        load_from_hub(repo_id, env=gym.make(ENV_ID), cache_dir=tmp_path / "cache")
    assert not marker.exists()
    assert not any(path.endswith("mallory/stats/resolve/main/vec_normalize.pkl") for _, path in hub.requests)


def test_crafted_sb3_zip_is_refused_without_running(hub, tmp_path):
    marker = tmp_path / "pwned"
    payload = base64.b64encode(pickle.dumps(_Evil(marker))).decode()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zip_file:
        zip_file.writestr("data", json.dumps({"policy_class": {":type:": "<class 'type'>", ":serialized:": payload}}))
        zip_file.writestr("_stable_baselines3_version", "2.9.2")
    # Only an SB3 zip (as huggingface_sb3 / rl_zoo3 push): refused, and not even downloaded.
    repo_id = _plant(hub, "mallory/zip", {f"{MODEL_NAME}.zip": archive.getvalue(), "README.md": b"# hi"})
    with pytest.raises(UnsafeModelError, match="trust_remote_code"):
        load_from_hub(repo_id, MODEL_NAME, cache_dir=tmp_path / "cache")
    assert not any(path.endswith("mallory/zip/resolve/main/reinforce-CartPole-v1.zip") for _, path in hub.requests)
    # The same zip posing as the safe description: refused before any parsing.
    repo_id = _plant(hub, "mallory/zip-as-json", {f"{MODEL_NAME}.safe.json": archive.getvalue()})
    with pytest.raises(UnsafeModelError, match="zip archive or a pickle"):
        load_from_hub(repo_id, MODEL_NAME, cache_dir=tmp_path / "cache")
    assert not marker.exists()


def test_unknown_class_is_refused_without_import(hub, honest_files, tmp_path, monkeypatch):
    module = "sb3r_marker_activation"
    marker = _marker_module(tmp_path, monkeypatch, module)
    description = json.loads(honest_files[f"{MODEL_NAME}.safe.json"])
    description["policy_kwargs"]["activation_fn"] = {"__class__": f"{module}.Thing"}
    repo_id = _plant(hub, "mallory/class", {**honest_files, f"{MODEL_NAME}.safe.json": json.dumps(description).encode()})
    with pytest.raises(UnsafeModelError, match=rf"{module}\.Thing"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert module not in sys.modules and not marker.exists()


def _vec_normalize_json() -> bytes:
    venv = VecNormalize(DummyVecEnv([lambda: gym.make(ENV_ID)]))
    venv.reset()
    return json.dumps(vec_normalize_to_json(venv)).encode()


def test_env_id_of_a_repo_is_never_imported(hub, honest_files, tmp_path, monkeypatch):
    module = "sb3r_marker_env"
    marker = _marker_module(tmp_path, monkeypatch, module)
    config = json.loads(honest_files["config.json"])
    config.update(vec_normalize="vec_normalize.json", env_id=f"{module}:{ENV_ID}")
    stats = _vec_normalize_json()
    repo_id = _plant(
        hub, "mallory/env-id", {**honest_files, "config.json": json.dumps(config).encode(), "vec_normalize.json": stats}
    )
    with pytest.raises(UnsafeModelError, match="pass env="):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert module not in sys.modules and not marker.exists()
    # An id nobody registered is refused the same way, naming the way out.
    config["env_id"] = "NobodyRegisteredThis-v0"
    _plant(hub, repo_id, {"config.json": json.dumps(config).encode()})
    with pytest.raises(ValueError, match=r"not registered.*pass env="):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    # The caller's own env is used as is.
    assert load_from_hub(repo_id, env=gym.make(ENV_ID), cache_dir=tmp_path / "cache").get_vec_normalize_env() is not None


def test_vec_normalize_json_is_checked_before_any_env_is_made(hub, honest_files, tmp_path, monkeypatch):
    config = json.loads(honest_files["config.json"])
    config["vec_normalize"] = "vec_normalize.json"
    stats = json.loads(_vec_normalize_json())
    stats["clip_obs"] = "ten"
    repo_id = _plant(
        hub,
        "mallory/bad-stats",
        {**honest_files, "config.json": json.dumps(config).encode(), "vec_normalize.json": json.dumps(stats).encode()},
    )
    made: list[str] = []
    monkeypatch.setattr(gym, "make", lambda env_id, **kwargs: made.append(env_id))
    with pytest.raises(ModelFormatError, match="clip_obs"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert made == []


def _oversized(description: dict, case: str) -> None:
    """Make the (CartPole, MlpPolicy) description ask for something huge, in the way ``case`` names."""
    if case == "net_arch":
        description["policy_kwargs"]["net_arch"] = [100_000, 100_000]
    elif case == "observation_space":
        description["observation_space"] = space_to_json(spaces.Box(-1, 1, shape=(2**23,)))  # 8-unit layers: 134M
    elif case == "action_space":
        description["action_space"] = space_to_json(spaces.Discrete(10**9))
    elif case == "features_extractor_kwargs":
        description["policy"] = "CnnPolicy"
        description["observation_space"] = space_to_json(spaces.Box(0, 255, shape=(3, 64, 64), dtype=np.uint8))
        description["policy_kwargs"] = {"features_extractor_kwargs": {"features_dim": 10**9}}
    elif case == "n_steps":
        description["hyperparameters"]["n_steps"] = 2**40
    elif case == "n_envs":
        description["n_envs"] = 10**9
    elif case == "Dict":
        big = space_to_json(spaces.Box(-1, 1, shape=(2**22,)))
        description["observation_space"] = {"type": "Dict", "spaces": {f"part{i}": big for i in range(8)}}
        description["policy"] = "MultiInputPolicy"


@pytest.mark.parametrize(
    "case", ["net_arch", "observation_space", "action_space", "features_extractor_kwargs", "n_steps", "n_envs", "Dict"]
)
def test_oversized_model_description_is_refused(hub, honest_files, tmp_path, case):
    description = json.loads(honest_files[f"{MODEL_NAME}.safe.json"])
    _oversized(description, case)
    repo_id = _plant(
        hub, f"mallory/huge-{case}", {**honest_files, f"{MODEL_NAME}.safe.json": json.dumps(description).encode()}
    )
    field = "observation_space" if case == "Dict" else case
    with pytest.raises(ModelFormatError, match=field):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    "name, content, message",
    [
        (f"{MODEL_NAME}.safe.json", b"hello, I am not a model", "not valid JSON"),
        (f"{MODEL_NAME}.safe.json", b'{"format": "something-else"}', "'format' entry"),
        (f"{MODEL_NAME}.safe.pth", b"\x00not a weights file" * 10, "not a PyTorch weights file"),
    ],
)
def test_not_a_model_gives_a_clear_error(hub, honest_files, tmp_path, name, content, message):
    repo_id = _plant(hub, f"mallory/not-model-{hashlib.sha1(content).hexdigest()[:8]}", {**honest_files, name: content})
    with pytest.raises(ModelFormatError, match=message):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")


# --- Safe format details ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "space",
    [
        spaces.Box(low=np.array([-np.inf, 0.0, -1.5]), high=np.array([np.inf, 1.0, 2.5]), dtype=np.float64),
        spaces.Box(0, 255, shape=(3, 8, 8), dtype=np.uint8),
        spaces.Discrete(5, start=-2),
        spaces.MultiDiscrete([3, 4, 2], start=[0, 1, 0]),
        spaces.MultiBinary([2, 3]),
        spaces.Dict({"pos": spaces.Box(-1, 1, shape=(2,)), "mode": spaces.Discrete(3)}),
    ],
)
def test_space_round_trip(space):
    assert space_from_json(json.loads(json.dumps(space_to_json(space)))) == space


def test_unsupported_values_are_refused_when_saving(tmp_path):
    with pytest.raises(ValueError, match="Tuple"):
        space_to_json(spaces.Tuple([spaces.Discrete(2)]))

    class CustomActivation(th.nn.Tanh):
        pass

    model = REINFORCE("MlpPolicy", ENV_ID, policy_kwargs={"net_arch": [4], "activation_fn": CustomActivation})
    with pytest.raises(ValueError, match="activation_fn"):
        save_safe_model(model, tmp_path, "custom")


def test_policy_kwargs_round_trip(tmp_path):
    policy_kwargs = {
        "net_arch": {"pi": [8, 8], "vf": [4]},
        "activation_fn": th.nn.ReLU,
        "ortho_init": False,
        "optimizer_class": th.optim.AdamW,
        "optimizer_kwargs": {"betas": (0.8, 0.95), "weight_decay": 1e-3},
    }
    model = REINFORCE("MlpPolicy", ENV_ID, baseline="mean", max_grad_norm=float("inf"), policy_kwargs=policy_kwargs, seed=1)
    description, weights = save_safe_model(model, tmp_path, "kwargs")
    loaded = load_safe_model(description, weights)
    _assert_same_policy(loaded, model)
    assert loaded.policy_kwargs == policy_kwargs
    assert isinstance(loaded.policy.optimizer, th.optim.AdamW) and loaded.policy.optimizer.defaults["betas"] == (0.8, 0.95)
    assert loaded.baseline == "mean" and loaded.max_grad_norm == float("inf")


def test_zoo_config_wrappers_are_checked():
    safe = safe_zoo_hyperparams(
        {"env_wrapper": ["stable_baselines3.common.atari_wrappers.AtariWrapper"], "normalize": "dict(norm_obs=True)"}, True
    )
    assert safe["normalize"] == {"norm_obs": True}
    for entry in ("os.system", "stable_baselines3.common.save_util.load_from_pkl", {"subprocess.Popen": {}}):
        with pytest.raises(UnsafeModelError):
            safe_zoo_hyperparams({"env_wrapper": entry}, False)


# --- Command line ----------------------------------------------------------------------------------------------


def _zoo_run(model: REINFORCE, folder: Path) -> None:
    """Lay out ``model`` as ``sb3-reinforce train`` would have saved it under ``folder``."""
    run = folder / "reinforce" / f"{ENV_ID}_1"
    (run / ENV_ID).mkdir(parents=True)
    model.save(run / f"{ENV_ID}.zip")
    hyperparams = OrderedDict([("n_timesteps", 600.0), ("policy", "MlpPolicy"), ("policy_kwargs", "dict(net_arch=[8])")])
    (run / ENV_ID / "config.yml").write_text(yaml.dump(hyperparams))
    (run / ENV_ID / "args.yml").write_text(
        yaml.dump(OrderedDict([("algo", "reinforce"), ("env", ENV_ID), ("env_kwargs", None)]))
    )


def test_cli_push_and_load_with_the_zoo_layout(hub, trained_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _zoo_run(trained_model, tmp_path / "logs")

    flags = ["--algo", "reinforce", "--env", ENV_ID, "-orga", "tester", "-name", "cli-agent", "--verbose", "0"]
    push_to_hub_main([*flags, "-f", "logs", "--n-eval-episodes", "1", "-n", "5", "--device", "cpu"])
    assert {"config.yml", "args.yml", "env_kwargs.yml", "train_eval_metrics.zip", "replay.mp4"} <= set(
        hub.files("tester/cli-agent")
    )

    load_from_hub_main([*flags, "-f", "downloaded"])
    downloaded = tmp_path / "downloaded" / "reinforce" / f"{ENV_ID}_1"
    # Regenerated locally from the safe files: plain YAML, and a zip saved by this machine.
    config = yaml.safe_load((downloaded / ENV_ID / "config.yml").read_text())
    assert config["policy"] == "MlpPolicy" and config["normalize"] is False
    assert yaml.safe_load((downloaded / ENV_ID / "args.yml").read_text())["env"] == ENV_ID
    _assert_same_policy(
        REINFORCE.load(downloaded / f"{ENV_ID}.zip", env=DummyVecEnv([lambda: gym.make(ENV_ID)])), trained_model
    )

    with pytest.raises(SystemExit):
        load_from_hub_main([*flags, "-f", "downloaded", "--exp-id", "1"])  # exists, no --force


def test_cli_video_failure_is_a_clean_error(trained_model, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _zoo_run(trained_model, tmp_path / "logs")
    flags = ["--algo", "reinforce", "--env", ENV_ID, "-orga", "tester", "-f", "logs", "--verbose", "0", "--device", "cpu"]
    flags += ["--n-eval-episodes", "1", "--dry-run", "--local-dir", "package"]
    push_to_hub_main([*flags, "--no-render"])
    before = _digest(tmp_path / "package")

    def broken_encoder(*args, **kwargs):
        raise VideoError("ffmpeg failed to encode replay.mp4: broken pipe")

    monkeypatch.setattr("sb3_reinforce.hub.package.record_replay", broken_encoder)
    with pytest.raises(SystemExit) as exit_info:
        push_to_hub_main([*flags, "-n", "5"])
    assert exit_info.value.code == 1
    message = capsys.readouterr().err
    assert "broken pipe" in message and "--no-render" in message and "Traceback" not in message
    assert _digest(tmp_path / "package") == before, "the package of the earlier run is kept"
