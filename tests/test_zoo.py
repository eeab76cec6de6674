"""
End-to-end tests of the RL Zoo integration (``sb3_reinforce.train/enjoy/record_video``, ``sb3-reinforce``).

Budgets are tiny (a few hundred CartPole steps on 2 envs, one torch thread): these tests check the plumbing
(log folders, studies, resuming, errors), not learning.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import optuna
import pytest
import torch as th
import yaml
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from stable_baselines3.common.save_util import load_from_zip_file

from sb3_reinforce import REINFORCE, cli
from sb3_reinforce.zoo import HyperparameterFileError, ReinforceExperimentManager, hyperparams_path, register_reinforce
from sb3_reinforce.zoo.commands import complete_argv, enjoy, optimize, record_video, train
from sb3_reinforce.zoo.hyperparams_opt import sample_reinforce_params
from sb3_reinforce.zoo.storage import resolve_storage

REPO = Path(__file__).resolve().parents[1]
ENV_ID = "CartPole-v1"
# 2 envs, short rollouts, one torch thread: the CPUs are shared
TINY = ["--env", ENV_ID, "--num-threads", "1", "-params", "n_envs:2", "n_steps:32", "n_episodes:1"]
# Flags for the optimization runs (each trial trains -n steps, evaluated twice for the pruner)
TINY_OPTIMIZE = [*TINY, "-n", "300", "--n-evaluations", "2", "--eval-episodes", "2", "--no-optim-plots"]
SUBPROCESS_TIMEOUT = 120


@pytest.fixture(autouse=True)
def restore_torch_threads() -> Iterator[None]:
    """``--num-threads`` sets torch's global thread count: do not leak it into other tests of the session."""
    n_threads = th.get_num_threads()
    yield
    th.set_num_threads(n_threads)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log folder holding one tiny REINFORCE run (with periodic evaluation and progress bar)."""
    log_folder = tmp_path_factory.mktemp("logs")
    n_threads = th.get_num_threads()
    train([*TINY, "-n", "400", "-f", str(log_folder), "--eval-freq", "100", "--eval-episodes", "2", "--seed", "1", "-P"])
    th.set_num_threads(n_threads)
    return log_folder


def run_dir(log_folder: Path, run_id: int = 1) -> Path:
    return log_folder / "reinforce" / f"{ENV_ID}_{run_id}"


def saved_num_timesteps(model_path: Path) -> int:
    data, _, _ = load_from_zip_file(model_path, load_data=True)
    assert data is not None
    return int(data["num_timesteps"])


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sb3_reinforce.train", *args]


def run_workers(commands: list[list[str]]) -> None:
    """Run the commands at the same time (as workers sharing a study would be) and check they all succeed."""
    processes = [
        subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for command in commands
    ]
    outputs = [process.communicate(timeout=SUBPROCESS_TIMEOUT)[0] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))


# ---------------------------------------------------------------------------------------------------------
# Train, enjoy, record, resume
# ---------------------------------------------------------------------------------------------------------


def test_train_writes_zoo_log_folder(trained: Path) -> None:
    run = run_dir(trained)
    assert (run / f"{ENV_ID}.zip").is_file()
    assert (run / "best_model.zip").is_file()  # written by the zoo's EvalCallback (--eval-freq)
    assert (run / "evaluations.npz").is_file()
    assert list(run.glob("*.monitor.csv"))
    config = yaml.load((run / ENV_ID / "config.yml").read_text(), Loader=yaml.UnsafeLoader)
    # Packaged reinforce.yml, with the -params overrides
    packaged = yaml.safe_load(hyperparams_path().read_text())[ENV_ID]
    assert config["n_steps"] == 32 and config["n_envs"] == 2
    assert config["policy"] == packaged["policy"] and config["baseline"] == packaged["baseline"]
    args = yaml.load((run / ENV_ID / "args.yml").read_text(), Loader=yaml.UnsafeLoader)
    assert args["algo"] == "reinforce"
    assert args["conf_file"] == str(hyperparams_path())
    assert "sb3_reinforce" in args["gym_packages"]
    assert saved_num_timesteps(run / f"{ENV_ID}.zip") >= 400


def test_enjoy_runs_trained_agent(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    enjoy(["--env", ENV_ID, "-f", str(trained), "-n", "150", "--no-render", "--num-threads", "1"])
    out = capsys.readouterr().out
    assert f"Loading {run_dir(trained) / ENV_ID}.zip" in out
    assert "Episode Reward" in out


def test_record_video(trained: Path, tmp_path: Path) -> None:
    pytest.importorskip("pygame", reason="CartPole renders frames with pygame (pip install 'sb3-reinforce[human]')")
    pytest.importorskip("moviepy", reason="SB3's VecVideoRecorder writes videos with moviepy")
    record_video(["--env", ENV_ID, "-f", str(trained), "-n", "30", "-o", str(tmp_path)])
    videos = list(tmp_path.glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0


def test_resume_continues_counting(trained: Path, tmp_path: Path) -> None:
    first = run_dir(trained) / f"{ENV_ID}.zip"
    before = saved_num_timesteps(first)
    train([*TINY, "-n", "200", "-f", str(tmp_path), "--eval-freq", "-1", "-i", str(first)])
    after = saved_num_timesteps(run_dir(tmp_path) / f"{ENV_ID}.zip")
    assert after >= before + 200


def test_resume_with_evaluation_and_checkpoints_saves_loadable_models(trained: Path, tmp_path: Path) -> None:
    """Every save during a resumed run (best model, checkpoints, final model) must work and load."""
    first = run_dir(trained) / f"{ENV_ID}.zip"
    before = saved_num_timesteps(first)
    flags = ["--eval-freq", "100", "--eval-episodes", "2", "--save-freq", "100"]
    train([*TINY, "-n", "200", "-f", str(tmp_path), *flags, "-i", str(first)])
    run = run_dir(tmp_path)
    saved = sorted(run.rglob("*.zip"))
    names = {path.name for path in saved}
    assert {f"{ENV_ID}.zip", "best_model.zip"} <= names
    assert any(re.fullmatch(r"rl_model_\d+_steps\.zip", name) for name in names), names
    for path in saved:
        model = REINFORCE.load(path, device="cpu")
        assert model.num_timesteps > before, path.name  # saved after the resumed steps, counting on
        assert "learn" not in vars(model), f"{path.name} holds an attribute shadowing REINFORCE.learn"


# ---------------------------------------------------------------------------------------------------------
# Hyperparameter optimization
# ---------------------------------------------------------------------------------------------------------


def test_optimize_two_trials_journal(tmp_path: Path) -> None:
    storage = tmp_path / "optuna" / "study.log"
    # Through the console script's dispatcher; `optimize` adds -optimize itself
    study_args = ["--storage", str(storage), "--study-name", "journal", "--pruner", "median", "--n-startup-trials", "1"]
    cli.main(["optimize", *TINY_OPTIMIZE, "-f", str(tmp_path), "--n-trials", "2", *study_args])
    study = optuna.load_study(
        study_name="journal",
        storage=JournalStorage(JournalFileBackend(str(storage))),
    )
    trials = finished_trials(study)
    assert len(trials) == 2
    # The zoo's TrialEvalCallback reported intermediate values: what the pruner works with
    assert all(trial.intermediate_values for trial in trials)
    assert {"learning_rate", "n_steps", "n_episodes", "baseline", "net_arch"} <= set(trials[0].params)
    assert list((tmp_path / "reinforce").glob(f"report_{ENV_ID}_2-trials-300-*.csv"))


def test_optimize_sqlite_parallel_jobs_then_train_from_trial(tmp_path: Path) -> None:
    storage = tmp_path / "study.db"
    study_args = ["--storage", str(storage), "--study-name", "sqlite"]
    search_args = ["--n-trials", "2", "--n-jobs", "2", "--sampler", "random", "--pruner", "none"]
    train([*TINY_OPTIMIZE, "-optimize", "-f", str(tmp_path), *study_args, *search_args])
    study = optuna.load_study(study_name="sqlite", storage=f"sqlite:///{storage}")
    trials = finished_trials(study)
    assert len(trials) == 2
    # Train with the hyperparameters of a stored trial (the zoo skips --trial-id 0, so use trial 1)
    trial = next(trial for trial in trials if trial.number == 1)
    train([*TINY, "-n", "64", "-f", str(tmp_path), "--eval-freq", "-1", *study_args, "--trial-id", "1"])
    config = yaml.load((run_dir(tmp_path, 2) / ENV_ID / "config.yml").read_text(), Loader=yaml.UnsafeLoader)
    assert config["learning_rate"] == trial.params["learning_rate"]
    assert config["gamma"] == pytest.approx(1 - trial.params["one_minus_gamma"])


def test_two_workers_share_journal_study(tmp_path: Path) -> None:
    """Several processes on one machine, one study, no server: the journal file storage."""
    storage = tmp_path / "study.log"
    command = worker_command(*TINY_OPTIMIZE, "-optimize", "-f", str(tmp_path), "--n-trials", "1",
                             "--storage", str(storage), "--study-name", "shared")  # fmt: skip
    run_workers([command, command])
    study = optuna.load_study(
        study_name="shared",
        storage=JournalStorage(JournalFileBackend(str(storage))),
    )
    assert len(finished_trials(study)) == 2


@pytest.fixture(scope="module")
def postgres_url() -> str:
    """
    A PostgreSQL URL: ``SB3_REINFORCE_TEST_POSTGRES_URL``, else a server started with ``.ci/start-postgres.sh``
    when PostgreSQL is installed (the script is not allowed to install it from a test).
    """
    pytest.importorskip("psycopg2", reason="PostgreSQL storage needs a driver: pip install 'sb3-reinforce[postgres]'")
    url = os.environ.get("SB3_REINFORCE_TEST_POSTGRES_URL")
    if url:
        return url
    how = 'set SB3_REINFORCE_TEST_POSTGRES_URL=postgresql://... or run `eval "$(.ci/start-postgres.sh)"` first'
    if shutil.which("pg_ctlcluster") is None:
        pytest.skip(f"no PostgreSQL server: PostgreSQL is not installed; {how}")
    script = REPO / ".ci" / "start-postgres.sh"
    result = subprocess.run(
        ["bash", str(script)],
        env={**os.environ, "SB3_REINFORCE_PG_INSTALL": "0"},
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    match = re.search(r"SB3_REINFORCE_TEST_POSTGRES_URL=(\S+)", result.stdout)
    if result.returncode != 0 or match is None:
        pytest.skip(f"no PostgreSQL server: {script} failed ({result.stderr.strip()[-500:]}); {how}")
    return match.group(1)


@pytest.mark.postgres
def test_postgres_workers_share_study(tmp_path: Path, postgres_url: str) -> None:
    """Workers on several machines, one study: processes sharing a PostgreSQL database through Optuna."""
    study_name = f"test-{uuid.uuid4().hex}"
    command = worker_command(*TINY_OPTIMIZE, "-optimize", "-f", str(tmp_path), "--n-trials", "1",
                             "--storage", postgres_url, "--study-name", study_name)  # fmt: skip
    run_workers([command, command])
    storage = resolve_storage(postgres_url)
    assert storage is not None
    try:
        assert len(finished_trials(optuna.load_study(study_name=study_name, storage=storage))) == 2
    finally:
        optuna.delete_study(study_name=study_name, storage=storage)


def test_sampler_gives_valid_reinforce_arguments() -> None:
    from sb3_reinforce import REINFORCE

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        kwargs = sample_reinforce_params(study.ask(), n_actions=0, n_envs=1, additional_args={})
        model = REINFORCE("MlpPolicy", ENV_ID, device="cpu", **kwargs)
        assert model.gamma == kwargs["gamma"]
        assert model.env is not None
        model.env.close()


# ---------------------------------------------------------------------------------------------------------
# Command line: subprocess, Ctrl-C, dispatcher, argument completion
# ---------------------------------------------------------------------------------------------------------


def test_python_m_train_saves_model_on_ctrl_c(tmp_path: Path) -> None:
    """A real `python -m sb3_reinforce.train`, interrupted like Ctrl-C: the zoo saves the model and exits 0."""
    process = subprocess.Popen(
        worker_command(*TINY, "-n", "100000000", "-f", str(tmp_path), "--eval-freq", "-1"),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Python turns SIGINT into KeyboardInterrupt only if SIGINT is not ignored when it starts
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    output = []
    for line in process.stdout:  # wait until training runs
        output.append(line)
        if "total_timesteps" in line:
            break
    process.send_signal(signal.SIGINT)
    output.append(process.communicate(timeout=SUBPROCESS_TIMEOUT)[0])
    assert process.returncode == 0, "".join(output)[-3000:]
    assert saved_num_timesteps(run_dir(tmp_path) / f"{ENV_ID}.zip") > 0


def test_cli_dispatch(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["--help"])
    assert "record-video" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bogus"])
    assert exit_info.value.code == 2
    assert "unknown command 'bogus'" in capsys.readouterr().err
    # Hub commands are imported lazily from sb3_reinforce.hub.cli
    calls = []
    fake = types.ModuleType("sb3_reinforce.hub.cli")
    fake.push_to_hub_main = lambda argv: calls.append(("push", argv))  # type: ignore[attr-defined]
    fake.load_from_hub_main = lambda argv: calls.append(("load", argv))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sb3_reinforce.hub.cli", fake)
    cli.main(["push-to-hub", "--env", ENV_ID])
    cli.main(["load-from-hub", "-f", "logs"])
    assert calls == [("push", ["--env", ENV_ID]), ("load", ["-f", "logs"])]


def test_complete_argv() -> None:
    conf = str(hyperparams_path())
    assert complete_argv(["--env", ENV_ID], "train") == [
        "--env", ENV_ID, "--algo", "reinforce", "-conf", conf, "--gym-packages", "sb3_reinforce",
    ]  # fmt: skip
    # The user's choices are kept: own config (also abbreviated), other algorithm, extra gym packages
    assert complete_argv(["--conf", "my.yml"], "train") == [
        "--conf", "my.yml", "--algo", "reinforce", "--gym-packages", "sb3_reinforce",
    ]  # fmt: skip
    assert complete_argv(["--algo", "ppo"], "train") == ["--algo", "ppo", "--gym-packages", "sb3_reinforce"]
    assert complete_argv(["--gym-packages", "a", "b", "--algo", "reinforce", "-conf", "c.yml"], "train")[-4:] == [
        "--gym-packages", "a", "b", "sb3_reinforce",
    ]  # fmt: skip
    # optimize adds -optimize once; enjoy has no -conf; record_video has no --gym-packages
    assert complete_argv(["-optimize"], "train", optimize=True).count("-optimize") == 1
    assert "-optimize" in complete_argv([], "train", optimize=True)
    assert complete_argv(["-f", "logs"], "enjoy") == ["-f", "logs", "--algo", "reinforce", "--gym-packages", "sb3_reinforce"]
    assert complete_argv(["-o", "videos"], "record_video") == ["-o", "videos", "--algo", "reinforce"]


# ---------------------------------------------------------------------------------------------------------
# Clear errors
# ---------------------------------------------------------------------------------------------------------


def test_unknown_env_id(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CartPole-v9 not found in gym registry, you maybe meant CartPole-v"):
        train(["--env", "CartPole-v9", "-f", str(tmp_path)])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("CartPole-v1: {policy: MlpPolicy, n_steps: [32\n", "Malformed hyperparameter file .*bad.yml"),
        ("- just\n- a list\n", "expected a mapping from environment ids to hyperparameters, got list"),
        ("CartPole-v1: 42\n", "the entry 'CartPole-v1' must be a mapping of hyperparameters, got 42"),
        ("CartPole-v1: {policy: MlpPolicy}\n", "n_timesteps is missing"),
        ("CartPole-v1: {n_timesteps: 100, n_stepz: 32, policy: MlpPolicy}\n", r"Unknown key\(s\) n_stepz"),
        ("Pendulum-v1: {n_timesteps: 100, policy: MlpPolicy}\n", "Hyperparameters not found for reinforce-CartPole-v1"),
    ],
)
def test_bad_hyperparameter_file(tmp_path: Path, content: str, message: str) -> None:
    conf = tmp_path / "bad.yml"
    conf.write_text(content)
    with pytest.raises(ValueError, match=message):
        train(["--env", ENV_ID, "-conf", str(conf), "-f", str(tmp_path)])


def test_invalid_hyperparameter_value(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="baseline must be one of"):
        train([*TINY, "baseline:'critic'", "-n", "10", "-f", str(tmp_path)])


def test_bad_storage(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Unsupported --storage 'study\.txt'"):
        optimize([*TINY_OPTIMIZE, "-f", str(tmp_path), "--storage", "study.txt"])


def test_hyperparameter_file_error_is_a_value_error() -> None:
    assert issubclass(HyperparameterFileError, ValueError)


# ---------------------------------------------------------------------------------------------------------
# The packaged hyperparameter file
# ---------------------------------------------------------------------------------------------------------

PACKAGED = yaml.safe_load(hyperparams_path().read_text())
# Env ids to try each entry on; the "atari" entry applies to any Atari game
ENTRY_ENV_IDS = {key: ("PongNoFrameskip-v4" if key == "atari" else key) for key in PACKAGED}


@pytest.mark.parametrize("key", sorted(PACKAGED))
def test_packaged_entry_builds_a_model(key: str, tmp_path: Path) -> None:
    """Each entry passes the zoo's preprocessing and REINFORCE's checks (model built, no training)."""
    env_id = ENTRY_ENV_IDS[key]
    if env_id not in gym.envs.registry:
        pytest.skip(f"{env_id} is not registered (missing optional dependency or environment)")
    manager = ReinforceExperimentManager(
        argparse.Namespace(), "reinforce", env_id, str(tmp_path), eval_freq=-1, config=str(hyperparams_path()), seed=0
    )
    result = manager.setup_experiment()
    assert result is not None
    model, _ = result
    assert model.n_envs == PACKAGED[key]["n_envs"]
    assert model.env is not None
    model.env.close()


@pytest.mark.parametrize(
    ("flags", "policy", "expected"),
    [([], "MlpPolicy", 1), (["--num-threads", "2"], "MlpPolicy", 2), ([], "CnnPolicy", None)],
    ids=["mlp-default", "mlp-explicit", "cnn-default"],
)
def test_default_num_threads(tmp_path: Path, flags: list[str], policy: str, expected: int | None) -> None:
    # One thread is the default for MLP policies; an explicit --num-threads wins; CnnPolicy keeps torch's default.
    register_reinforce()
    th.set_num_threads(3)
    manager = ReinforceExperimentManager(
        argparse.Namespace(num_threads=int(flags[1]) if flags else -1),
        "reinforce",
        ENV_ID,
        str(tmp_path),
        config=str(hyperparams_path()),
        hyperparams={"policy": policy},
        verbose=0,
    )
    if flags:
        th.set_num_threads(int(flags[1]))  # what rl_zoo3's train script does with the flag before the manager runs
    manager.read_hyperparameters()
    assert th.get_num_threads() == (3 if expected is None else expected)
