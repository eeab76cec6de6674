"""
``sb3-reinforce push-to-hub`` and ``sb3-reinforce load-from-hub``: rl_zoo3's ``push_to_hub`` / ``load_from_hub``
commands (same flags, ``--algo`` defaults to ``reinforce``) for agents trained with ``sb3-reinforce train``.
"""

import argparse
import importlib
import sys
import tempfile
import zipfile
from copy import deepcopy
from pathlib import Path
from typing import Any, NoReturn

import torch as th
import yaml
from huggingface_sb3 import EnvironmentName
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.utils import StoreDict, create_test_env, get_model_path, get_saved_hyperparams
from stable_baselines3.common.utils import set_random_seed

from sb3_reinforce.hub.errors import HubError
from sb3_reinforce.hub.load import ALGO, default_repo_id, download_to_zoo, model_name
from sb3_reinforce.hub.package import package_to_hub
from sb3_reinforce.hub.video import VideoError
from sb3_reinforce.reinforce import REINFORCE

TRUST_HELP = "Copy the repository's pickles and rl_zoo3 files as they are: loading them runs any code they hold. Only for "
TRUST_HELP += "repositories you trust (needed for models pushed with rl_zoo3/huggingface_sb3)"
_COMMON = {
    ("--env",): dict(help="Environment ID", type=str, required=True),
    ("-f", "--folder"): dict(help="Log folder", type=str, required=True),
    ("--algo",): dict(help="RL Algorithm", type=str, default=ALGO, choices=[ALGO]),
    ("-name", "--repo-name"): dict(help="Huggingface hub repository name, by default 'algo-env_id'", type=str),
    ("--exp-id",): dict(help="Experiment ID (default: 0: latest, -1: no exp folder)", default=0, type=int),
    ("--verbose",): dict(help="Verbose mode (0: no output, 1: INFO)", default=1, type=int),
}


def _parser(prog: str, description: str, flags: dict[tuple[str, ...], Any]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"sb3-reinforce {prog}", description=description)
    for names, options in {**_COMMON, **flags}.items():
        parser.add_argument(*names, **options)
    return parser


def _fail(error: Exception | str) -> NoReturn:
    print(f"Error: {error}", file=sys.stderr)
    sys.exit(1)


def _import_env_packages(packages: list[str]) -> None:
    import rl_zoo3.import_envs  # noqa: F401  the optional env packages rl_zoo3 knows (Atari, MiniGrid, ...), when installed

    import sb3_reinforce  # noqa: F401  registers the envs of this package

    for package in packages:
        importlib.import_module(package)


def push_parser() -> argparse.ArgumentParser:
    """:return: The parser of ``push-to-hub`` (rl_zoo3's flags, plus --dry-run, --local-dir, --n-eval-episodes, --private)"""
    flag = dict(action="store_true", default=False)
    flags = {
        ("-orga", "--organization"): dict(help="Huggingface hub organization", type=str, required=True),
        ("-n", "--n-timesteps"): dict(help="Number of timesteps for the video recording", default=1000, type=int),
        ("--num-threads",): dict(help="Number of threads for PyTorch (-1 to use default)", default=-1, type=int),
        ("--n-envs",): dict(help="Number of environments", default=1, type=int),
        ("--no-render",): dict(help="Do not record a replay video", **flag),
        ("--deterministic",): dict(help="Use deterministic actions", **flag),
        ("--stochastic",): dict(help="Use stochastic actions", **flag),
        ("--device",): dict(help="PyTorch device to be use (ex: cpu, cuda...)", default="auto", type=str),
        ("--load-best",): dict(help="Load best model instead of last model", **flag),
        ("--load-checkpoint",): dict(help="Load the checkpoint of this number of timesteps", type=int),
        ("--load-last-checkpoint",): dict(help="Load the last checkpoint", **flag),
        ("--seed",): dict(help="Random generator seed", type=int, default=0),
        ("--env-kwargs",): dict(help="Optional keyword argument to pass to the env constructor", nargs="+", action=StoreDict),
        ("-m", "--commit-message"): dict(help="Commit message", default="Upload REINFORCE agent", type=str),
        ("--n-eval-episodes",): dict(help="Number of evaluation episodes", default=10, type=int),
        ("--dry-run",): dict(help="Only write the package folder, upload nothing", **flag),
        ("--local-dir",): dict(help="Package folder (default: hub/<repo name>)", type=str),
        ("--private",): dict(help="Create the repository as private", **flag),
        ("--gym-packages",): dict(help="Additional packages to import (env registration)", type=str, nargs="+", default=[]),
    }
    return _parser("push-to-hub", "Evaluate a trained agent, record a replay and share it on the Hub", flags)


def push_to_hub_main(argv: list[str] | None = None) -> None:
    """
    ``sb3-reinforce push-to-hub --env CartPole-v1 -f logs/ -orga <user>``: load the agent of a training run, evaluate
    it, record a replay and upload the package, with rl_zoo3's files (see :func:`~sb3_reinforce.hub.package_to_hub`).

    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    """
    args = push_parser().parse_args(argv)
    _import_env_packages(args.gym_packages)
    env_id, env_name = args.env, EnvironmentName(args.env)
    try:
        checkpoint = args.load_best, args.load_checkpoint, args.load_last_checkpoint
        _, model_path, log_path = get_model_path(args.exp_id, args.folder, ALGO, env_name, *checkpoint)
    except (AssertionError, ValueError) as error:
        _fail(error)
    set_random_seed(args.seed)
    if args.num_threads > 0:
        th.set_num_threads(args.num_threads)
    # The user's own training folder: rl_zoo3's readers (which unpickle and eval) are fine here.
    config_folder = Path(log_path) / env_name
    hyperparams, stats_path = get_saved_hyperparams(str(config_folder), test_mode=True)
    args_file = config_folder / "args.yml"
    saved_args = yaml.load(args_file.read_text(), Loader=yaml.UnsafeLoader) if args_file.is_file() else {}
    env_kwargs = {**(saved_args.get("env_kwargs") or {}), **(args.env_kwargs or {})}
    render = {"render_mode": "rgb_array"} if not args.no_render else {}
    copy = deepcopy(hyperparams)  # create_test_env changes it
    eval_env = create_test_env(env_id, args.n_envs, stats_path, args.seed, None, bool(render), copy, env_kwargs | render)
    print(f"Loading {model_path}")
    model = REINFORCE.load(model_path, env=eval_env, device=args.device, seed=args.seed)
    # As rl_zoo3: stochastic evaluation by default for Atari and MiniGrid
    atari_or_minigrid = ExperimentManager.is_atari(env_id) or ExperimentManager.is_minigrid(env_id)
    stochastic = args.stochastic or (atari_or_minigrid and not args.deterministic)
    repo_id = default_repo_id(args.organization, env_id, args.repo_name)
    local_dir = Path(args.local_dir) if args.local_dir else Path("hub") / repo_id.split("/")[1]
    with tempfile.TemporaryDirectory() as tmp:
        # rl_zoo3's repository files: config.yml and args.yml as training saved them, env_kwargs.yml, the logs.
        extra_files = {name: config_folder / name for name in ("config.yml", "args.yml") if (config_folder / name).is_file()}
        extra_files |= {"env_kwargs.yml": Path(tmp) / "env_kwargs.yml", "train_eval_metrics.zip": Path(tmp) / "metrics.zip"}
        extra_files["env_kwargs.yml"].write_text(yaml.dump(env_kwargs), encoding="utf-8")
        with zipfile.ZipFile(extra_files["train_eval_metrics.zip"], "w") as archive:
            for path in [*Path(log_path).glob("evaluations.npz"), *sorted(Path(log_path).glob("*.csv"))]:
                archive.write(path, arcname=path.name)
        options = dict(is_deterministic=not stochastic, n_eval_episodes=args.n_eval_episodes, verbose=args.verbose)
        options |= dict(video_length=bool(render) * args.n_timesteps, local_dir=local_dir, private=args.private or None)
        options |= dict(commit_message=args.commit_message, dry_run=args.dry_run, hyperparams=hyperparams)
        options |= dict(env_kwargs=env_kwargs, extra_files=extra_files)
        try:
            package_to_hub(model, model_name(env_id), env_id, eval_env, repo_id, **options)  # type: ignore[arg-type]
        except VideoError as error:
            reason = f"{str(error).rstrip('.')}. Nothing was uploaded and {local_dir} was left as it was"
            _fail(f"{reason}. Fix the rendering or the encoder, or package without a replay: --no-render")
        except (HubError, ValueError, OSError) as error:
            _fail(error)
    eval_env.close()
    if args.dry_run:
        print(f"Dry run: the package is in {local_dir}, nothing was uploaded")


def load_parser() -> argparse.ArgumentParser:
    """:return: The parser of ``load-from-hub`` (rl_zoo3's flags, plus --trust-remote-code and --revision)"""
    flags = {
        ("-orga", "--organization"): dict(help="Huggingface hub organization", default="sb3"),
        ("--force",): dict(help="Allow overwriting exp folder if it already exist", action="store_true", default=False),
        ("--revision",): dict(help="Branch, tag or commit to download (default: main)", type=str),
        ("--trust-remote-code",): dict(help=TRUST_HELP, action="store_true", default=False),
    }
    return _parser("load-from-hub", "Download an agent from the Hub into the RL Zoo log folder layout", flags)


def load_from_hub_main(argv: list[str] | None = None) -> None:
    """
    ``sb3-reinforce load-from-hub --env CartPole-v1 -orga <user> -f logs/``: download an agent into
    ``logs/reinforce/CartPole-v1_<id>/`` for ``sb3-reinforce enjoy`` (see :func:`~sb3_reinforce.hub.load.download_to_zoo`).

    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    """
    args = load_parser().parse_args(argv)
    _import_env_packages([])
    repo_id = default_repo_id(args.organization, args.env, args.repo_name)
    if args.verbose:
        print(f"Downloading from {repo_id}")
    try:
        options = args.exp_id, args.force, args.trust_remote_code, args.revision, args.verbose
        log_path = download_to_zoo(repo_id, args.env, args.folder, *options)
    except (HubError, ValueError) as error:
        _fail(error)
    if args.verbose:
        exp_id = log_path.name.rsplit("_", 1)[-1] if log_path.name != ALGO else "-1"
        print(f"Run it with: sb3-reinforce enjoy --env {args.env} -f {args.folder} --exp-id {exp_id}")
