"""
The course's flow as a user types it: the installed ``sb3-reinforce`` script, each step in a new process, offline.

train (periodic evaluation) -> resume with ``-i`` (evaluation and checkpoints) -> enjoy -> record-video ->
push-to-hub --dry-run -> the package in a huggingface_hub cache -> ``load_from_hub`` with ``HF_HUB_OFFLINE=1`` ->
``evaluate_policy`` giving the package's own results.json -> ``REINFORCE.load(zip, env=...)`` and learning on.
On the zoo's own entries (16 envs; Pixelcopter with VecNormalize and 32 stacked observations) with tiny budgets: the
steps must fit together; learning is checked elsewhere.
"""

import json
import os
import subprocess
from pathlib import Path

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest
from hub_server import FakeHub  # tests/ is on sys.path (pytest rootdir-less test modules)
from huggingface_hub import constants, hf_hub_download
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

from sb3_reinforce import REINFORCE
from sb3_reinforce.hub import load_from_hub

ORGANIZATION = "tester"
SUBPROCESS_TIMEOUT = 300
# Not push-to-hub's default seed (0): the evaluation below must follow the flag
PUSH_SEED = 5
N_EVAL_EPISODES = 5
REPLAY_LENGTH = 40


@pytest.fixture
def sb3_reinforce(installed_script: str, tmp_path: Path):
    """Run ``sb3-reinforce <args>`` in ``tmp_path``, offline, with a Hugging Face home of its own; check it succeeds."""
    # One torch thread (not every command has --num-threads): the CPUs are shared
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "OMP_NUM_THREADS": "1"}

    def run(*args: str) -> str:
        result = subprocess.run(
            [installed_script, *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
        )
        assert result.returncode == 0, f"sb3-reinforce {' '.join(args)} failed:\n{result.stdout[-4000:]}"
        return result.stdout

    return run


def count_frames(path: Path) -> tuple[int, tuple[int, int]]:
    """:return: The number of frames an mp4 decodes to (with the ffmpeg of imageio-ffmpeg), and their (width, height)"""
    reader = imageio.get_reader(path, format="FFMPEG")
    try:
        return sum(1 for _ in reader), tuple(reader.get_meta_data()["size"])
    finally:
        reader.close()


def cache_repository(package: Path, repo_id: str, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Put the package into a huggingface_hub cache the way a user gets one: the real client downloads every file
    from a Hub (here a local fake serving the package as the repository's main branch).
    """
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    files = {path.relative_to(package).as_posix(): path.read_bytes() for path in package.rglob("*") if path.is_file()}
    hub = FakeHub().start()
    try:
        hub.add_files(repo_id, files)
        for name in files:
            hf_hub_download(repo_id, name, endpoint=hub.endpoint, cache_dir=cache_dir, token=False)
    finally:
        hub.stop()


def seeded_evaluation(model: REINFORCE, env: VecEnv, seed: int) -> tuple[list[float], list[int]]:
    """Evaluate as push-to-hub does: the eval env's first reset seeded (``VecEnv.seed``), deterministic actions."""
    env.seed(seed)
    rewards, lengths = evaluate_policy(
        model, env, n_eval_episodes=N_EVAL_EPISODES, deterministic=True, return_episode_rewards=True
    )
    return [float(reward) for reward in rewards], [int(length) for length in lengths]


def check_offline_loads(package: Path, env_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[REINFORCE]:
    """
    Cache the package, then load it offline without and with a one-env ``env=...``; each must reproduce
    the evaluation recorded in the package.

    :return: The two models
    """
    repo_id = f"{ORGANIZATION}/reinforce-{env_id}"
    cache_dir = tmp_path / "hf_cache"
    cache_repository(package, repo_id, cache_dir, monkeypatch)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    results = json.loads((package / "results.json").read_text())
    assert results["n_eval_episodes"] == N_EVAL_EPISODES and results["is_deterministic"]

    models = [load_from_hub(repo_id, cache_dir=cache_dir), load_from_hub(repo_id, env=gym.make(env_id), cache_dir=cache_dir)]
    for model in models:
        env = model.get_env() or DummyVecEnv([lambda: gym.make(env_id)])
        assert env.num_envs == 1
        rewards, lengths = seeded_evaluation(model, env, PUSH_SEED)
        assert rewards == results["episode_rewards"] and lengths == results["episode_lengths"]
    return models


def test_cartpole_course_flow(sb3_reinforce, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_id = "CartPole-v1"
    run = tmp_path / "logs" / "reinforce"
    common = ["--env", env_id, "-f", "logs"]
    # The zoo's entry: 8 envs, >= 32 steps each and >= 8 episodes per update; --eval-freq counts steps of all envs
    sb3_reinforce("train", *common, "-n", "2000", "--eval-freq", "800", "--eval-episodes", "2", "--seed", "0")
    first = run / f"{env_id}_1" / f"{env_id}.zip"
    trained_steps = REINFORCE.load(first, device="cpu").num_timesteps
    assert trained_steps >= 2000 and (run / f"{env_id}_1" / "best_model.zip").is_file()

    resume = ["-n", "1600", "--eval-freq", "800", "--eval-episodes", "2", "--save-freq", "800", "--seed", "1"]
    sb3_reinforce("train", *common, *resume, "-i", str(first))
    saved = sorted((run / f"{env_id}_2").glob("*.zip"))
    assert {path.name for path in saved} >= {f"{env_id}.zip", "best_model.zip"} and len(saved) >= 3  # + checkpoints
    for path in saved:  # the resumed run counts on from the trained steps, and every save of it loads
        assert REINFORCE.load(path, device="cpu").num_timesteps > trained_steps, path.name

    output = sb3_reinforce("enjoy", *common, "--no-render", "-n", "500")
    assert f"Loading logs/reinforce/{env_id}_2/{env_id}.zip" in output  # the latest run: the resumed one

    sb3_reinforce("record-video", *common, "-n", "200", "-o", "videos")
    (video,) = (tmp_path / "videos").glob("*.mp4")
    # SB3's VecVideoRecorder keeps the frame after reset and one per step: states 0 to 200 ("step-0-to-step-200")
    assert count_frames(video) == (201, (600, 400))

    push = ["-orga", ORGANIZATION, "--dry-run", "--local-dir", "package", "-n", str(REPLAY_LENGTH)]
    sb3_reinforce("push-to-hub", "--algo", "reinforce", *common, *push, "--n-eval-episodes", str(N_EVAL_EPISODES),
                  "--seed", str(PUSH_SEED))  # fmt: skip
    package = tmp_path / "package"
    assert count_frames(package / "replay.mp4") == (REPLAY_LENGTH, (600, 400))
    check_offline_loads(package, env_id, tmp_path, monkeypatch)

    # SB3's own loading of the packaged zip, onto one env, then training on without resetting the step count
    model = REINFORCE.load(package / f"reinforce-{env_id}.zip", env=gym.make(env_id), device="cpu")
    before = model.num_timesteps
    assert before >= trained_steps + 1600
    model.learn(300, reset_num_timesteps=False)
    assert model.num_timesteps >= before + 300


def test_pixelcopter_course_flow_with_vec_normalize(sb3_reinforce, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_id = "Pixelcopter-PLE-v0"
    common = ["--env", env_id, "-f", "logs"]
    # The zoo's entry normalizes observations; 16 envs, >= 64 steps each per update: two updates
    sb3_reinforce("train", *common, "-n", "2048", "--seed", "0")
    stats = tmp_path / "logs" / "reinforce" / f"{env_id}_1" / env_id / "vecnormalize.pkl"
    assert stats.is_file()

    sb3_reinforce("record-video", *common, "-n", "20", "-o", "videos")
    (video,) = (tmp_path / "videos").glob("*.mp4")
    assert count_frames(video) == (21, (384, 384))  # the 48x48 screen, upscaled 8x by default

    push = ["-orga", ORGANIZATION, "--dry-run", "--local-dir", "package", "-n", str(REPLAY_LENGTH)]
    sb3_reinforce("push-to-hub", "--algo", "reinforce", *common, *push, "--n-eval-episodes", str(N_EVAL_EPISODES),
                  "--seed", str(PUSH_SEED))  # fmt: skip
    package = tmp_path / "package"
    assert count_frames(package / "replay.mp4") == (REPLAY_LENGTH, (384, 384))

    trained = VecNormalize.load(str(stats), DummyVecEnv([lambda: gym.make(env_id)]))
    for model in check_offline_loads(package, env_id, tmp_path, monkeypatch):
        vec_normalize = model.get_vec_normalize_env()
        assert vec_normalize is not None and not vec_normalize.training and not vec_normalize.norm_reward
        np.testing.assert_array_equal(vec_normalize.obs_rms.mean, trained.obs_rms.mean)
        np.testing.assert_array_equal(vec_normalize.obs_rms.var, trained.obs_rms.var)
