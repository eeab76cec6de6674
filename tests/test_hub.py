"""
Hub sharing: package, push, load, against the real huggingface_hub client and a fake Hub on 127.0.0.1.

Repositories are written by ``package_to_hub`` and then altered the way an attacker who controls the whole
repository would (the sidecar's checksum recomputed), or a careless user would (packaging into ``.``).
"""

import base64
import hashlib
import io
import json
import os
import pickle
import socket
import subprocess
import sys
import textwrap
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import gymnasium as gym
import huggingface_sb3
import imageio_ffmpeg
import numpy as np
import pytest
import torch as th
import yaml
from gymnasium import spaces
from hub_server import FakeHub  # tests/ is on sys.path (pytest rootdir-less test modules)
from huggingface_hub import ModelCard, constants, get_token, hf_hub_download
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecNormalize

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
from sb3_reinforce.hub.package import MANIFEST
from sb3_reinforce.hub.video import VideoError

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
    """Write an importable module ``name`` whose import creates a marker file. :return: The marker's path"""
    marker = tmp_path / f"{name}.imported"
    (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').close()\n\nclass Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return marker


@pytest.fixture(scope="module")
def hub():
    server = FakeHub().start()
    yield server
    server.stop()
    assert not server.unhandled, f"huggingface_hub called endpoints tests/hub_server.py lacks: {server.unhandled}"


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


@pytest.fixture
def honest_files(hub, pushed) -> dict[str, bytes]:
    return hub.files(pushed[0])


def _plant(hub: FakeHub, repo_id: str, files: dict[str, bytes]) -> str:
    hub.add_files(repo_id, files)
    return repo_id


def _zip_members(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _recraft(files: dict[str, bytes], members: dict[str, bytes | None] | None = None, **sidecar_changes) -> dict[str, bytes]:
    """
    Alter a repository as an attacker who controls all of it would: replace members of the model zip (None: remove,
    ``bytes``: stored, a callable: written by it) and entries of the sidecar, then record the new zip's SHA-256.
    """
    zip_name, sidecar_name = f"{MODEL_NAME}.zip", f"{MODEL_NAME}.safe.json"
    contents = {**_zip_members(files[zip_name]), **(members or {})}
    archive_bytes = io.BytesIO()
    with zipfile.ZipFile(archive_bytes, "w") as archive:
        for name, content in contents.items():
            if callable(content):
                content(archive, name)
            elif content is not None:
                archive.writestr(name, content)
    sidecar = {**json.loads(files[sidecar_name]), **sidecar_changes}
    sidecar["sha256"] = hashlib.sha256(archive_bytes.getvalue()).hexdigest()
    return {**files, zip_name: archive_bytes.getvalue(), sidecar_name: json.dumps(sidecar).encode()}


def _with_data(files: dict[str, bytes], **changes) -> dict[str, bytes]:
    """:return: The repository with entries of the zip's ``data`` replaced (None: removed)"""
    data = json.loads(_zip_members(files[f"{MODEL_NAME}.zip"])["data"])
    data.update(changes)
    return _recraft(files, {"data": json.dumps({key: value for key, value in data.items() if value is not None}).encode()})


def _serialized(payload: object) -> dict[str, str]:
    return {":type:": "<class 'object'>", ":serialized:": base64.b64encode(pickle.dumps(payload)).decode()}


def _obs_batch(space: spaces.Space, n: int = 100) -> np.ndarray | dict[str, np.ndarray]:
    space.seed(1)
    samples = [space.sample() for _ in range(n)]
    if isinstance(space, spaces.Dict):
        return {key: np.stack([sample[key] for sample in samples]) for key in space.spaces}
    return np.stack(samples)


def _actions(model: REINFORCE, raw_obs, vec_normalize: VecNormalize | None = None) -> np.ndarray:
    obs = vec_normalize.normalize_obs(raw_obs) if vec_normalize is not None else raw_obs
    return model.predict(obs, deterministic=True)[0]


def _assert_same_policy(model_a: REINFORCE, model_b: REINFORCE) -> None:
    obs = np.random.default_rng(0).normal(size=(100, 4)).astype(np.float32)
    np.testing.assert_array_equal(_actions(model_a, obs), _actions(model_b, obs))
    with th.no_grad():
        obs_tensor = th.as_tensor(obs)
        probs_a = model_a.policy.get_distribution(obs_tensor).distribution.probs
        probs_b = model_b.policy.get_distribution(obs_tensor).distribution.probs
    assert th.equal(probs_a, probs_b)


# --- Round trips -------------------------------------------------------------------------------------------------


class _ToyEnv(gym.Env):
    """Episodes of 5 steps with the given spaces, random rewards: enough to train and package any combination."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space):
        self.observation_space, self.action_space = observation_space, action_space

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        self.steps = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.steps += 1
        return self.observation_space.sample(), float(self.np_random.normal()), self.steps >= 5, False, {}


_OBSERVATIONS = {
    "vector": spaces.Box(-1, 1, (3,)),
    "image": spaces.Box(0, 255, (36, 36, 3), np.uint8),
    "dict": spaces.Dict({"image": spaces.Box(0, 255, (36, 36, 1), np.uint8), "vec": spaces.Box(-1, 1, (2,))}),
}
_ACTIONS = {
    "Discrete": spaces.Discrete(3),
    "Box": spaces.Box(-1, 1, (2,)),
    "MultiDiscrete": spaces.MultiDiscrete([3, 2]),
    "MultiBinary": spaces.MultiBinary(3),
}
_POLICY_KWARGS = {
    "MlpPolicy": {"net_arch": [8]},
    "CnnPolicy": {"features_extractor_kwargs": {"features_dim": 16}, "net_arch": [8]},
    "MultiInputPolicy": {"features_extractor_kwargs": {"cnn_output_dim": 8}, "net_arch": [8]},
}
for _obs_name, _obs_space in _OBSERVATIONS.items():
    for _action_name, _action_space in _ACTIONS.items():
        gym.register(
            f"HubToy-{_obs_name}-{_action_name}-v0",
            entry_point=lambda o=_obs_space, a=_action_space: _ToyEnv(o, a),  # type: ignore[misc]
        )


@pytest.mark.parametrize(
    "policy, observation, action, normalize, n_envs",
    [
        ("MlpPolicy", "vector", "Discrete", False, 1),
        ("MlpPolicy", "vector", "Box", True, 3),
        ("MlpPolicy", "vector", "MultiDiscrete", False, 3),
        ("MlpPolicy", "vector", "MultiBinary", True, 1),
        ("CnnPolicy", "image", "Discrete", False, 3),
        ("CnnPolicy", "image", "MultiBinary", False, 1),
        ("MultiInputPolicy", "dict", "Box", True, 3),
        ("MultiInputPolicy", "dict", "MultiDiscrete", False, 1),
    ],
)
def test_round_trip_keeps_deterministic_actions(hub, tmp_path, policy, observation, action, normalize, n_envs):
    env_id = f"HubToy-{observation}-{action}-v0"
    venv = DummyVecEnv([lambda: gym.make(env_id)] * n_envs)
    if normalize:
        venv = VecNormalize(venv, norm_obs_keys=["vec"] if observation == "dict" else None)
    model = REINFORCE(policy, venv, n_steps=16, policy_kwargs=_POLICY_KWARGS[policy], seed=0).learn(16 * n_envs)
    repo_id = f"tester/{env_id}-{normalize}-{n_envs}"
    package_to_hub(
        model, "agent", env_id, venv, repo_id, n_eval_episodes=1, video_length=0, local_dir=tmp_path / "p", verbose=0
    )

    raw_obs = _obs_batch(gym.make(env_id).observation_space)
    expected = _actions(model, raw_obs, venv if normalize else None)
    for env in (None, gym.make(env_id)):
        loaded = load_from_hub(repo_id, env=env, cache_dir=tmp_path / "cache")
        assert loaded.n_envs == (n_envs if env is None and not normalize else 1), "as SB3's load: the env's count"
        assert (loaded.get_vec_normalize_env() is not None) == normalize, "the statistics come with and without env="
        np.testing.assert_array_equal(_actions(loaded, raw_obs, loaded.get_vec_normalize_env()), expected)


@pytest.mark.parametrize("trust_remote_code", [False, True])
def test_round_trip_of_a_frame_stacked_agent(hub, tmp_path, trust_remote_code):
    # As the zoo trains Pixelcopter: VecFrameStack over VecNormalize, several envs (8 here, 16 in the zoo entry). Loaded
    # without env=, or with a plain env, the agent gets that stack back and acts as before.
    env_id, n_stack = "HubToy-vector-Discrete-v0", 3
    venv = VecFrameStack(VecNormalize(DummyVecEnv([lambda: gym.make(env_id)] * 8)), n_stack)
    model = REINFORCE("MlpPolicy", venv, n_steps=16, policy_kwargs=_POLICY_KWARGS["MlpPolicy"], seed=0).learn(16 * 8)
    repo_id = f"tester/frame-stacked-{trust_remote_code}"
    hyperparams = {"policy": "MlpPolicy", "normalize": True, "frame_stack": n_stack}
    package_to_hub(
        model,
        "agent",
        env_id,
        venv,
        repo_id,
        n_eval_episodes=1,
        video_length=0,
        local_dir=tmp_path / "p",
        hyperparams=hyperparams,
        verbose=0,
    )
    raw_obs = _obs_batch(gym.make(env_id).observation_space, 8)
    stacked = np.repeat(venv.venv.normalize_obs(raw_obs), n_stack, axis=1)  # a stack of n_stack copies of each
    expected = _actions(model, stacked)
    for env in (None, gym.make(env_id)):
        loaded = load_from_hub(repo_id, env=env, cache_dir=tmp_path / "cache", trust_remote_code=trust_remote_code)
        loaded_env = loaded.get_env()
        assert isinstance(loaded_env, VecFrameStack) and loaded_env.observation_space == model.observation_space
        normalize = loaded.get_vec_normalize_env()
        assert normalize is not None
        np.testing.assert_array_equal(_actions(loaded, np.repeat(normalize.normalize_obs(raw_obs), n_stack, axis=1)), expected)
        assert loaded_env.reset().shape == (1, *model.observation_space.shape)


def test_round_trip_keeps_the_model(hub, pushed, trained_model, tmp_path):
    repo_id, _ = pushed
    first_request = len(hub.requests)
    model = load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    _assert_same_policy(model, trained_model)
    assert model.observation_space == trained_model.observation_space and model.action_space == trained_model.action_space
    assert model.num_timesteps == trained_model.num_timesteps
    optimizer_a, optimizer_b = model.policy.optimizer.state_dict(), trained_model.policy.optimizer.state_dict()
    assert all(th.equal(optimizer_a["state"][0][key], optimizer_b["state"][0][key]) for key in ("exp_avg", "exp_avg_sq"))
    # The model continues to learn where it stopped, as one loaded with SB3's load does.
    model.set_env(DummyVecEnv([lambda: gym.make(ENV_ID)]))
    model.learn(64, reset_num_timesteps=False)
    assert model.num_timesteps == trained_model.num_timesteps + 64
    fetched = [path for _, path in hub.requests[first_request:]]
    assert not any(path.endswith(".pkl") for path in fetched)


def test_the_course_way_loads_a_package_with_sb3(hub, pushed, trained_model, monkeypatch, tmp_path):
    """``huggingface_sb3.load_from_hub`` (with its TRUST_REMOTE_CODE) then ``REINFORCE.load(path, env=...)``."""
    monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setenv("TRUST_REMOTE_CODE", "True")
    path = huggingface_sb3.load_from_hub(pushed[0], f"{MODEL_NAME}.zip")
    model = REINFORCE.load(path, env=gym.make(ENV_ID))
    _assert_same_policy(model, trained_model)
    # And with trust_remote_code, load_from_hub does the same.
    _assert_same_policy(load_from_hub(pushed[0], trust_remote_code=True, cache_dir=tmp_path), trained_model)


# --- The package -------------------------------------------------------------------------------------------------


def test_push_is_one_commit_with_every_file(hub, pushed):
    repo_id, result = pushed
    commits = [path for method, path in hub.requests if method == "POST" and path.endswith(f"{repo_id}/commit/main")]
    assert len(commits) == 1
    files = hub.files(repo_id)
    expected = {f"{MODEL_NAME}.zip", f"{MODEL_NAME}.safe.json", "config.json", "results.json", "replay.mp4", "README.md"}
    assert set(files) == expected == set(result.files)
    for name, content in files.items():
        assert (result.local_dir / name).read_bytes() == content


def test_card_metadata_carries_the_evaluation(hub, pushed, tmp_path):
    repo_id, result = pushed
    card = ModelCard.load(hf_hub_download(repo_id, "README.md", endpoint=hub.endpoint, cache_dir=tmp_path))
    data = card.data.to_dict()
    assert data["library_name"] == "stable-baselines3"
    tags = {ENV_ID, "reinforce", "reinforcement-learning", "stable-baselines3", "deep-rl-class", "deep-reinforcement-learning"}
    assert set(data["tags"]) >= tags
    results = json.loads((result.local_dir / "results.json").read_text())
    (evaluation,) = card.data.eval_results
    assert evaluation.metric_type == "mean_reward"
    assert evaluation.metric_value == f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"
    assert evaluation.dataset_type == evaluation.dataset_name == ENV_ID
    assert (results["mean_reward"], results["std_reward"]) == (result.mean_reward, result.std_reward)
    assert results["n_eval_episodes"] == N_EVAL_EPISODES and results["is_deterministic"] is True
    assert len(results["episode_rewards"]) == N_EVAL_EPISODES and "eval_datetime" in results
    # How to load and run the agent, and an install line that works: the package is on no index.
    assert f'load_from_hub("{repo_id}"' in card.text and "sb3-reinforce load-from-hub --env" in card.text
    assert "pip install sb3-reinforce" not in card.text and "pypi.org" not in card.text
    assert "pip install /path/to/sb3-reinforce" in card.text
    config = json.loads((result.local_dir / "config.json").read_text())
    assert config["sb3_reinforce"]["model_name"] == MODEL_NAME and config["env_id"] == ENV_ID
    assert config["hyperparameters"]["n_steps"] == 64 and config["policy_kwargs"] == {"net_arch": [8]}


def test_replay_is_a_valid_mp4_with_the_expected_frame_count(pushed):
    video = pushed[1].local_dir / "replay.mp4"
    assert video.read_bytes()[4:8] == b"ftyp"
    n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert n_frames == VIDEO_LENGTH
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = reader.__next__()
    assert meta["size"] == (600, 400) and meta["codec"].startswith("h264")
    reader.close()


def test_dry_run_talks_to_no_hub_and_restores_the_wrapper(hub, trained_model, tmp_path):
    venv = VecNormalize(_rgb_env(), norm_reward=True)
    before = len(hub.requests)
    package_to_hub(
        trained_model, "agent", ENV_ID, venv, "tester/x", n_eval_episodes=1, video_length=0, local_dir=tmp_path, dry_run=True
    )
    assert len(hub.requests) == before
    assert venv.training and venv.norm_reward
    assert {"vec_normalize.pkl", "agent.safe.json", "agent.zip"} <= {p.name for p in tmp_path.iterdir()}
    stats = json.loads((tmp_path / "agent.safe.json").read_text())["vec_normalize"]
    np.testing.assert_array_equal(stats["moments"]["obs_rms"]["mean"], venv.obs_rms.mean)


# --- Packaging touches only its own files ------------------------------------------------------------------------


def _package(model: REINFORCE, local_dir: str | Path, **kwargs):
    kwargs = {"n_eval_episodes": 1, "video_length": 0, "dry_run": True, "verbose": 0, **kwargs}
    return package_to_hub(model, "agent", ENV_ID, _rgb_env(), "tester/agent", local_dir=local_dir, **kwargs)


def test_packaging_into_the_current_folder_keeps_every_other_file(hub, trained_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sentinel.txt").write_text("mine")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("1,2")
    # A file of the user in the way: refused before the evaluation, nothing touched, its name in the message.
    (tmp_path / "README.md").write_text("my project")
    before = _digest(tmp_path)
    with pytest.raises(FileExistsError, match=r"README\.md"):
        _package(trained_model, ".")
    assert _digest(tmp_path) == before and sorted(os.listdir(tmp_path)) == ["README.md", "data", "sentinel.txt"]
    (tmp_path / "README.md").unlink()
    result = _package(trained_model, ".", extra_files={"notes.txt": tmp_path / "sentinel.txt"})
    assert (tmp_path / "sentinel.txt").read_text() == "mine" and (tmp_path / "data" / "train.csv").read_text() == "1,2"
    assert (tmp_path / "agent.zip").is_file() and "notes.txt" in result.files
    # Pushed: the package's files, not the folder's.
    push_to_hub("tester/from-cwd", ".", verbose=0)
    assert set(hub.files("tester/from-cwd")) == set(result.files)


def test_packaging_again_replaces_only_the_earlier_package(trained_model, tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "sentinel.txt").write_text("mine")
    _package(trained_model, folder, video_length=5)
    assert (folder / "replay.mp4").is_file()
    (folder / "notes.md").write_text("kept")
    result = _package(trained_model, folder)  # no video this time: the earlier one goes, nothing else does
    assert not (folder / "replay.mp4").exists()
    assert (folder / "sentinel.txt").read_text() == "mine" and (folder / "notes.md").read_text() == "kept"
    assert sorted(json.loads((folder / MANIFEST).read_text())) == result.files
    # A packaging that fails leaves the earlier package as it was.
    before = _digest(folder)
    with pytest.raises(ValueError):
        _package(trained_model, folder, extra_files={"../escape": folder / "sentinel.txt"})
    assert _digest(folder) == before and not list(folder.glob(".sb3-reinforce-staging-*"))


# --- Hub errors, local folder intact -----------------------------------------------------------------------------


@pytest.fixture
def package_dir(pushed, tmp_path):
    """A copy of the pushed package, to push again."""
    folder = tmp_path / "again"
    folder.mkdir()
    for path in pushed[1].local_dir.iterdir():
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
    online = load_from_hub(pushed[0], cache_dir=tmp_path / "cache")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = _digest(package_dir)
    with pytest.raises(HubError, match="HF_HUB_OFFLINE"):
        push_to_hub("tester/again", package_dir, verbose=0)
    assert _digest(package_dir) == before
    with pytest.raises(HubError, match="HF_HUB_OFFLINE") as error:
        load_from_hub(pushed[0], cache_dir=tmp_path / "empty")
    assert "could not be reached" not in str(error.value)
    # A repository loaded once loads again from the cache.
    _assert_same_policy(load_from_hub(pushed[0], cache_dir=tmp_path / "cache"), online)


def test_local_file_errors_are_not_reported_as_network_errors(pushed, tmp_path):
    with pytest.raises(HubError, match="local file") as error, hub_errors("download x", "http://hub.invalid"):
        raise PermissionError(13, "Permission denied", str(tmp_path / "cache"))
    assert "could not be reached" not in str(error.value)
    with pytest.raises(HubError, match="could not be reached"), hub_errors("download x", "http://hub.invalid"):
        raise ConnectionRefusedError(111, "Connection refused")
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("")
    with pytest.raises(HubError, match="local file") as error:
        load_from_hub(pushed[0], cache_dir=not_a_folder)
    assert "could not be reached" not in str(error.value)


def test_the_fake_hub_names_a_request_it_does_not_implement(hub):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(f"{hub.endpoint}/api/models/tester/x/tree/main")
    assert answer.value.code == 501 and "does not implement GET /api/models/tester/x/tree/main" in answer.value.read().decode()
    assert hub.unhandled.pop() == "GET /api/models/tester/x/tree/main"


# --- Nothing from a repository runs ------------------------------------------------------------------------------

_SIDECAR_SLOTS = ["observation_space", "action_space", "policy_class", "policy_kwargs", "lr_schedule", "_last_obs",
                  "_last_episode_starts", "ep_info_buffer", "ep_success_buffer", "rollout_buffer_class"]  # fmt: skip


@pytest.mark.parametrize("slot", _SIDECAR_SLOTS)
def test_pickles_in_the_zips_data_are_never_opened(hub, honest_files, trained_model, tmp_path, slot):
    marker = tmp_path / "pwned"
    repo_id = _plant(hub, f"mallory/slot{slot}", _with_data(honest_files, **{slot: _serialized(_Evil(marker))}))
    # The sidecar supplies these values: SB3 is handed them and never unpickles the repository's.
    _assert_same_policy(load_from_hub(repo_id, cache_dir=tmp_path / "cache"), trained_model)
    assert not marker.exists()


@pytest.mark.parametrize("slot", ["action_noise", "sde_sample_freq", "an_attribute_sb3_never_writes"])
def test_a_pickle_the_sidecar_does_not_cover_is_refused(hub, honest_files, tmp_path, slot):
    marker = tmp_path / "pwned"
    repo_id = _plant(hub, f"mallory/uncovered-{slot}", _with_data(honest_files, **{slot: _serialized(_Evil(marker))}))
    with pytest.raises(UnsafeModelError, match=rf"{MODEL_NAME}\.zip/data: '{slot}'"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert not marker.exists()


def test_plain_values_that_would_pick_a_path_or_an_attribute(hub, honest_files, tmp_path):
    repo_id = _plant(hub, "mallory/tb", _with_data(honest_files, tensorboard_log="/tmp/chosen-by-repo"))
    assert load_from_hub(repo_id, cache_dir=tmp_path / "cache").tensorboard_log is None
    repo_id = _plant(hub, "mallory/env", _with_data(honest_files, env="pwn_module:Env-v0"))
    with pytest.raises(UnsafeModelError, match=r"data: 'env'"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    config = json.loads(honest_files["config.json"])
    config["sb3_reinforce"]["model_name"] = "../../outside"
    repo_id = _plant(hub, "mallory/path", {**honest_files, "config.json": json.dumps(config).encode()})
    with pytest.raises(ValueError, match=r"Invalid model name '\.\./\.\./outside'"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("member", ["policy.pth", "policy.optimizer.pth", "pytorch_variables.pth"])
def test_pickle_in_weights_is_refused_without_running(hub, honest_files, tmp_path, member):
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    th.save({"state": _Evil(marker)}, buffer)  # a torch.save zip whose pickle calls open()
    repo_id = _plant(hub, f"mallory/weights-{member}", _recraft(honest_files, {member: buffer.getvalue()}))
    with pytest.raises(UnsafeModelError, match=rf"{MODEL_NAME}\.zip/{member} holds objects other than tensors"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert not marker.exists()


def test_pickled_vec_normalize_is_never_opened(hub, honest_files, tmp_path):
    marker = tmp_path / "pwned"
    files = {**_vec_normalize_files(honest_files), "vec_normalize.pkl": pickle.dumps(_Evil(marker))}
    repo_id = _plant(hub, "mallory/stats", files)
    assert load_from_hub(repo_id, env=gym.make(ENV_ID), cache_dir=tmp_path / "cache").get_vec_normalize_env() is not None
    assert not marker.exists()
    assert not any(path.endswith("mallory/stats/resolve/main/vec_normalize.pkl") for _, path in hub.requests)


def test_a_repository_without_sidecar_needs_trust(hub, honest_files, tmp_path):
    marker = tmp_path / "pwned"
    zip_only = _with_data(honest_files, policy_class=_serialized(_Evil(marker)))[f"{MODEL_NAME}.zip"]
    repo_id = _plant(hub, "mallory/zip", {f"{MODEL_NAME}.zip": zip_only, "README.md": b"# hi"})
    with pytest.raises(UnsafeModelError, match="trust_remote_code"):
        load_from_hub(repo_id, MODEL_NAME, cache_dir=tmp_path / "cache")
    assert not any(path.endswith("mallory/zip/resolve/main/reinforce-CartPole-v1.zip") for _, path in hub.requests)
    # The zip posing as the sidecar: refused before any parsing.
    repo_id = _plant(hub, "mallory/zip-as-json", {f"{MODEL_NAME}.safe.json": zip_only, f"{MODEL_NAME}.zip": zip_only})
    with pytest.raises(UnsafeModelError, match="zip archive or a pickle"):
        load_from_hub(repo_id, MODEL_NAME, cache_dir=tmp_path / "cache")
    assert not marker.exists()


def test_unknown_class_is_refused_without_import(hub, honest_files, tmp_path, monkeypatch):
    module = "sb3r_marker_activation"
    marker = _marker_module(tmp_path, monkeypatch, module)
    files = _recraft(honest_files, policy_kwargs={"net_arch": [8], "activation_fn": {"__class__": f"{module}.Thing"}})
    repo_id = _plant(hub, "mallory/class", files)
    with pytest.raises(UnsafeModelError, match=rf"policy_kwargs\['activation_fn'\] names the class '{module}\.Thing'"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert module not in sys.modules and not marker.exists()


def _vec_normalize_files(files: dict[str, bytes], **changes) -> dict[str, bytes]:
    """:return: The repository with VecNormalize statistics in its sidecar, altered by ``changes`` (``<entry>__<field>``)"""
    venv = VecNormalize(DummyVecEnv([lambda: gym.make(ENV_ID)]))
    venv.reset()
    for _ in range(20):
        venv.step(np.array([venv.action_space.sample()]))
    model = REINFORCE("MlpPolicy", venv, policy_kwargs={"net_arch": [8]})
    folder = Path(__import__("tempfile").mkdtemp())
    stats = json.loads(save_safe_model(model, folder, "stats", venv)[1].read_text())["vec_normalize"]
    for key, value in changes.items():
        entry, _, field = key.partition("__")
        if field:
            stats["moments"][entry][field] = value
        else:
            stats[entry] = value
    return _recraft(files, vec_normalize=stats)


def test_env_id_of_a_repo_is_never_imported(hub, honest_files, tmp_path, monkeypatch):
    module = "sb3r_marker_env"
    marker = _marker_module(tmp_path, monkeypatch, module)
    files = _vec_normalize_files(honest_files)
    config = json.loads(files["config.json"])
    config["env_id"] = f"{module}:{ENV_ID}"
    repo_id = _plant(hub, "mallory/env-id", {**files, "config.json": json.dumps(config).encode()})
    with pytest.raises(UnsafeModelError, match="pass env="):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert module not in sys.modules and not marker.exists()
    config["env_id"] = "NobodyRegisteredThis-v0"
    _plant(hub, repo_id, {"config.json": json.dumps(config).encode()})
    with pytest.raises(UnsafeModelError, match="pass env="):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert load_from_hub(repo_id, env=gym.make(ENV_ID), cache_dir=tmp_path / "cache").get_vec_normalize_env() is not None


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"obs_rms__var": [float("nan")] * 4}, "obs_rms"),
        ({"obs_rms__var": [-1.0] * 4}, "obs_rms"),
        ({"ret_rms__count": 0}, "ret_rms"),
        ({"obs_rms__mean": [0.0] * 5}, "obs_rms"),
        ({"clip_obs": -1}, "clip_obs"),
        ({"epsilon": 0}, "epsilon"),
        ({"clip_obs": "ten"}, "clip_obs"),
    ],
)
def test_invalid_normalization_statistics_are_refused_before_any_env_is_made(
    hub, honest_files, tmp_path, monkeypatch, changes, field
):
    files = _vec_normalize_files(honest_files, **changes)  # json.dumps writes NaN as a careless tool would
    repo_id = _plant(hub, f"mallory/stats-{hashlib.sha1(repr(changes).encode()).hexdigest()[:8]}", files)
    made: list[str] = []
    monkeypatch.setattr(gym, "make", lambda env_id, **kwargs: made.append(env_id))
    with pytest.raises(ModelFormatError, match=field):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    assert made == []


# --- Malformed and oversized files -------------------------------------------------------------------------------


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "where, depth", [("sidecar", 5000), ("policy_kwargs", 900), ("data", 5000), ("config", 5000), ("wide sidecar", 0)]
)
def test_deep_nesting_is_a_format_error(hub, honest_files, tmp_path, where, depth):
    if where == "sidecar":
        files = {**honest_files, f"{MODEL_NAME}.safe.json": ("[" * depth + "]" * depth).encode()}
    elif where == "wide sidecar":  # 2 MB that would parse into a million Python objects
        files = {**honest_files, f"{MODEL_NAME}.safe.json": b"[" + b"0," * 2**20 + b"0]"}
    elif where == "policy_kwargs":
        files = _recraft(honest_files, policy_kwargs={"net_arch": [8], "optimizer_kwargs": {"betas": _nested(depth)}})
    elif where == "data":
        data = _zip_members(honest_files[f"{MODEL_NAME}.zip"])["data"]
        files = _recraft(honest_files, {"data": data[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"})
    else:
        files = {**honest_files, "config.json": b'{"a": ' + b"[" * depth + b"]" * depth + b"}"}
    repo_id = _plant(hub, f"mallory/deep-{where.replace(' ', '-')}", files)
    with pytest.raises(ModelFormatError, match=r"nests JSON more than 32 deep|holds more than 1048576 values|is not"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")


def test_checksum_is_required_and_checked(hub, honest_files, tmp_path):
    sidecar = json.loads(honest_files[f"{MODEL_NAME}.safe.json"])
    del sidecar["sha256"]
    repo_id = _plant(hub, "mallory/no-sha", {**honest_files, f"{MODEL_NAME}.safe.json": json.dumps(sidecar).encode()})
    with pytest.raises(ModelFormatError, match="SHA-256"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")
    modified = _recraft(honest_files)[f"{MODEL_NAME}.zip"]
    repo_id = _plant(hub, "mallory/modified", {**honest_files, f"{MODEL_NAME}.zip": modified + b"\0"})
    with pytest.raises(ModelFormatError, match="SHA-256"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")


def test_a_repository_of_the_first_safe_format_is_named(hub, honest_files, tmp_path):
    files = _recraft(honest_files, format_version=1, weights={"file": f"{MODEL_NAME}.safe.pth", "sha256": "0" * 64})
    repo_id = _plant(hub, "mallory/format-1", files)
    with pytest.raises(ModelFormatError, match=r"format 1.*trust_remote_code=True"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")


def test_unknown_policy_is_refused(hub, honest_files, tmp_path):
    repo_id = _plant(hub, "mallory/policy", _recraft(honest_files, policy="NoSuchPolicy"))
    with pytest.raises(ModelFormatError, match="policy must be in"):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"seed": 2**40}, "(?i)seed"),
        ({"n_steps": -3}, "n_steps"),
        ({"baseline": "median"}, "baseline"),
    ],
)
def test_invalid_settings_in_the_zip_are_refused(hub, honest_files, tmp_path, data, message):
    repo_id = _plant(hub, f"mallory/data-{next(iter(data))}", _with_data(honest_files, **data))
    with pytest.raises(ModelFormatError, match=message):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    "name, content, message",
    [
        (f"{MODEL_NAME}.safe.json", b"hello, I am not a model", "is not a safe REINFORCE model description"),
        (f"{MODEL_NAME}.safe.json", b'{"format": "something-else"}', "not in the safe format"),
        (f"{MODEL_NAME}.zip", b"\x00not a zip" * 10, "SHA-256"),
    ],
)
def test_not_a_model_gives_a_clear_error(hub, honest_files, tmp_path, name, content, message):
    repo_id = _plant(hub, f"mallory/not-model-{hashlib.sha1(content).hexdigest()[:8]}", {**honest_files, name: content})
    with pytest.raises(ModelFormatError, match=message):
        load_from_hub(repo_id, cache_dir=tmp_path / "cache")


# --- Bombs: refused before the large allocation, peak memory bounded by the files --------------------------------

_BOMB_BYTES = 2**28  # 256 MiB unpacked from a few hundred kB: far above the bound, quick to deflate


def _deflated_member(parts: list) -> object:
    """:return: A writer of a deflated zip member made of ``parts`` (bytes, or an int: that many zero bytes)"""

    def write(archive: zipfile.ZipFile, name: str) -> None:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            for part in parts:
                for _ in range(part // 2**20) if isinstance(part, int) else [None]:
                    member.write(bytes(2**20) if isinstance(part, int) else part)

    return write


def _bombs(files: dict[str, bytes], tmp_path: Path) -> dict[str, tuple[dict[str, bytes], str]]:
    """:return: The cases of the issue, each as (repository files, the field its error must name)"""
    members = _zip_members(files[f"{MODEL_NAME}.zip"])
    state = th.load(io.BytesIO(members["policy.pth"]), weights_only=True)
    with th.serialization.skip_data():  # the extra tensor's bytes are written as zeros, never allocated
        th.save({**state, "extra": th.empty(_BOMB_BYTES // 4)}, tmp_path / "extra.pth")
    small_extra = io.BytesIO()
    th.save({**state, "extra": th.zeros(10)}, small_extra)
    return {
        "trailing data": (
            _recraft(files, {"policy.pth": _deflated_member([members["policy.pth"], _BOMB_BYTES])}),
            "policy.pth",
        ),
        "extra tensor": (
            _recraft(files, {"policy.pth": _deflated_member([(tmp_path / "extra.pth").read_bytes()])}),
            "policy.pth",
        ),
        "extra small tensor": (_recraft(files, {"policy.pth": small_extra.getvalue()}), "policy.pth: extra"),
        "huge data": (
            _recraft(files, {"data": _deflated_member([members["data"][:-1] + b', "x": "', _BOMB_BYTES, b'"}'])}),
            "data",
        ),
        "net_arch list of dicts": (
            _recraft(files, policy_kwargs={"net_arch": [{"pi": [30_000_000], "vf": [30_000_000]}]}),
            "policy_kwargs",
        ),
        "net_arch float": (_recraft(files, policy_kwargs={"net_arch": [{"pi": [5e9]}]}), "policy_kwargs"),
        "net_arch dict": (
            _recraft(files, policy_kwargs={"net_arch": {"pi": [30_000_000], "vf": [30_000_000]}}),
            "policy_kwargs",
        ),
        "huge Box": (
            _recraft(files, observation_space={"type": "Box", "dtype": "float64", "shape": [2**24], "low": -1, "high": 1}),
            "observation_space",
        ),
        "huge MultiBinary": (_recraft(files, action_space={"type": "MultiBinary", "n": [2**12, 2**12]}), "action_space"),
        "n_envs": (_with_data(files, n_envs=10**9), "n_envs"),
    }


_PEAK_SCRIPT = textwrap.dedent("""
    import json, resource, sys
    import torch as th
    th.set_num_threads(1)
    from sb3_reinforce.hub import load_safe_model
    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    load_safe_model(sys.argv[1])  # an honest model first: lazy imports and first-call allocations
    start, outcomes = peak(), {}
    for path in sys.argv[2:]:
        try:
            load_safe_model(path)
            error = None
        except Exception as exception:
            error = f"{type(exception).__name__}: {exception}"
        outcomes[path] = {"rise": peak() - start, "error": error}
    print(json.dumps(outcomes))
    """)


def test_bombs_are_refused_before_the_allocation_in_bounded_memory(honest_files, tmp_path):
    """Every case is loaded in one fresh process: the peak memory it reaches bounds each one's."""
    cases, folders = _bombs(honest_files, tmp_path), {}
    for case, (files, _) in {"honest": (honest_files, ""), **_bombs(honest_files, tmp_path)}.items():
        folders[case] = tmp_path / case.replace(" ", "-")
        folders[case].mkdir()
        for name in (f"{MODEL_NAME}.zip", f"{MODEL_NAME}.safe.json"):
            (folders[case] / name).write_bytes(files[name])
    paths = {case: str(folder / f"{MODEL_NAME}.zip") for case, folder in folders.items()}
    result = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, *paths.values()], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    outcomes = json.loads(result.stdout.splitlines()[-1])
    downloaded = min(len(files[f"{MODEL_NAME}.zip"]) + len(files[f"{MODEL_NAME}.safe.json"]) for files, _ in cases.values())
    model_size = len(honest_files[f"{MODEL_NAME}.zip"])
    for case, (_, field) in cases.items():
        error = outcomes[paths[case]]["error"]
        assert error is not None and error.startswith("ModelFormatError") and field in error, (case, error)
        # 3x the files plus the model, and 32 MiB for the interpreter's own churn that ru_maxrss sees.
        assert outcomes[paths[case]]["rise"] < 3 * downloaded + model_size + 2**25, (case, outcomes)


# --- Command line ------------------------------------------------------------------------------------------------


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
    flags = ["--env", ENV_ID, "-orga", "tester", "-name", "cli-agent", "--verbose", "0"]  # no --algo: reinforce
    push_to_hub_main([*flags, "-f", "logs", "--n-eval-episodes", "1", "-n", "5", "--device", "cpu"])
    assert {"config.yml", "args.yml", "env_kwargs.yml", "train_eval_metrics.zip", "replay.mp4"} <= set(
        hub.files("tester/cli-agent")
    )

    load_from_hub_main([*flags, "-f", "downloaded"])
    downloaded = tmp_path / "downloaded" / "reinforce" / f"{ENV_ID}_1"
    # Written here from plain values: plain YAML, and a zip saved by this machine.
    config = yaml.safe_load((downloaded / ENV_ID / "config.yml").read_text())
    assert config == {"policy": "MlpPolicy", "normalize": False}
    assert yaml.safe_load((downloaded / ENV_ID / "args.yml").read_text())["env"] == ENV_ID
    _assert_same_policy(
        REINFORCE.load(downloaded / f"{ENV_ID}.zip", env=DummyVecEnv([lambda: gym.make(ENV_ID)])), trained_model
    )
    with pytest.raises(SystemExit):
        load_from_hub_main([*flags, "-f", "downloaded", "--exp-id", "1"])  # exists, no --force


def _zoo_repo(hub, honest_files, name: str, **zoo_hyperparams) -> str:
    config = json.loads(honest_files["config.json"])
    config["zoo_hyperparams"] = {"policy": "MlpPolicy", **zoo_hyperparams}
    return _plant(hub, f"mallory/{name}", {**honest_files, "config.json": json.dumps(config).encode()})


@pytest.mark.parametrize(
    "wrapper",
    [
        [{"stable_baselines3.common.monitor.Monitor": {"filename": "/tmp/pwn"}}],
        "sb3_reinforce.__main__.X",
        "rl_zoo3.benchmark.X",
        [{"stable_baselines3.common.atari_wrappers.AtariWrapper": {"screen_size": 10**6}}],
    ],
)
def test_cli_load_refuses_wrappers_a_repository_names(hub, honest_files, tmp_path, monkeypatch, capsys, wrapper):
    monkeypatch.chdir(tmp_path)
    modules = set(sys.modules)
    repo = _zoo_repo(hub, honest_files, f"wrapper-{hashlib.sha1(repr(wrapper).encode()).hexdigest()[:8]}", env_wrapper=wrapper)
    with pytest.raises(SystemExit):
        load_from_hub_main(["--env", ENV_ID, "-orga", "mallory", "-name", repo.split("/")[1], "-f", "logs", "--verbose", "0"])
    assert "config.json zoo_hyperparams.env_wrapper" in capsys.readouterr().err
    assert not (tmp_path / "logs").exists() and not Path("/tmp/pwn").exists()
    assert not {"rl_zoo3.benchmark", "sb3_reinforce.__main__"} & (set(sys.modules) - modules)


def test_cli_load_bounds_and_drops_the_repositorys_zoo_settings(hub, honest_files, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flags = ["--env", ENV_ID, "-orga", "mallory", "-f", "logs", "--verbose", "0"]
    repo = _zoo_repo(hub, honest_files, "frame-stack", frame_stack=10**9)
    with pytest.raises(SystemExit):
        load_from_hub_main([*flags, "-name", repo.split("/")[1]])
    assert "zoo_hyperparams.frame_stack=1000000000" in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()
    callback = {"rl_zoo3.callbacks.ParallelTrainCallback": {"gradient_steps": 1}}
    repo = _zoo_repo(hub, honest_files, "extras", callback=callback, frame_stack=2, n_envs=8)
    with pytest.warns(UserWarning, match="callback"):
        load_from_hub_main([*flags, "-name", repo.split("/")[1]])
    config = yaml.safe_load(next((tmp_path / "logs").rglob("config.yml")).read_text())
    assert config == {"policy": "MlpPolicy", "normalize": False, "frame_stack": 2}


def test_cli_video_failure_is_a_clean_error(trained_model, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _zoo_run(trained_model, tmp_path / "logs")
    flags = ["--env", ENV_ID, "-orga", "tester", "-f", "logs", "--verbose", "0", "--device", "cpu"]
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


def test_local_save_and_load(trained_model, tmp_path):
    paths = save_safe_model(trained_model, tmp_path, "agent")
    assert [path.name for path in paths] == ["agent.zip", "agent.safe.json"]
    _assert_same_policy(load_safe_model(paths[0]), trained_model)
    assert os.path.getsize(paths[1]) < 4096
