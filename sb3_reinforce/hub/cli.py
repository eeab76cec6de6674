"""
``sb3-reinforce push-to-hub`` and ``sb3-reinforce load-from-hub``: rl_zoo3's ``push_to_hub`` / ``load_from_hub``
commands (same flags) for REINFORCE agents trained with ``sb3-reinforce train``.
"""

import argparse
import contextlib
import importlib
import sys
import tempfile
import zipfile
from copy import deepcopy
from pathlib import Path
from typing import Any, NoReturn

import gymnasium as gym
import torch as th
import yaml

from sb3_reinforce.hub.errors import HubError, ModelFormatError, UnsafeModelError
from sb3_reinforce.hub.naming import ALGO, default_repo_id, env_name, model_name


def _is_atari_or_minigrid(env_id: str) -> bool:
    """Same rule as rl_zoo3: stochastic evaluation by default for these."""
    try:
        entry_point = str(gym.spec(env_id).entry_point)
    except gym.error.Error:
        return False
    return "AtariEnv" in entry_point or "minigrid" in entry_point


def _import_env_packages(packages: list[str]) -> None:
    import sb3_reinforce  # noqa: F401  registers the envs of this package

    with contextlib.suppress(ImportError):
        import rl_zoo3.import_envs  # noqa: F401  the optional env packages rl_zoo3 knows (Atari, MiniGrid, ...)
    for package in packages:
        importlib.import_module(package)


def _fail(error: Exception | str) -> NoReturn:
    print(f"Error: {error}", file=sys.stderr)
    sys.exit(1)


def push_parser() -> argparse.ArgumentParser:
    """:return: The parser of ``push-to-hub`` (rl_zoo3's flags, plus --dry-run, --local-dir, --n-eval-episodes, --private)"""
    from rl_zoo3.utils import StoreDict

    parser = argparse.ArgumentParser(
        prog="sb3-reinforce push-to-hub", description="Evaluate a trained agent, record a replay and share it on the Hub"
    )
    parser.add_argument("--env", help="Environment ID", type=str, required=True)
    parser.add_argument("-f", "--folder", help="Log folder", type=str, required=True)
    parser.add_argument("--algo", help="RL Algorithm", type=str, required=True, choices=[ALGO])
    parser.add_argument("-n", "--n-timesteps", help="Number of timesteps for the video recording", default=1000, type=int)
    parser.add_argument("--num-threads", help="Number of threads for PyTorch (-1 to use default)", default=-1, type=int)
    parser.add_argument("--n-envs", help="Number of environments", default=1, type=int)
    parser.add_argument("--exp-id", help="Experiment ID (default: 0: latest, -1: no exp folder)", default=0, type=int)
    parser.add_argument("--verbose", help="Verbose mode (0: no output, 1: INFO)", default=1, type=int)
    parser.add_argument("--no-render", action="store_true", default=False, help="Do not record a replay video")
    parser.add_argument("--deterministic", action="store_true", default=False, help="Use deterministic actions")
    parser.add_argument("--stochastic", action="store_true", default=False, help="Use stochastic actions")
    parser.add_argument("--device", help="PyTorch device to be use (ex: cpu, cuda...)", default="auto", type=str)
    parser.add_argument("--load-best", action="store_true", default=False, help="Load best model instead of last model")
    parser.add_argument("--load-checkpoint", type=int, help="Load the checkpoint of this number of timesteps")
    parser.add_argument("--load-last-checkpoint", action="store_true", default=False, help="Load the last checkpoint")
    parser.add_argument("--seed", help="Random generator seed", type=int, default=0)
    parser.add_argument(
        "--env-kwargs", type=str, nargs="+", action=StoreDict, help="Optional keyword argument to pass to the env constructor"
    )
    parser.add_argument("-orga", "--organization", help="Huggingface hub organization", type=str, required=True)
    parser.add_argument("-name", "--repo-name", help="Huggingface hub repository name, by default 'algo-env'", type=str)
    parser.add_argument("-m", "--commit-message", help="Commit message", default="Upload REINFORCE agent", type=str)
    parser.add_argument("--n-eval-episodes", help="Number of evaluation episodes", default=10, type=int)
    parser.add_argument("--dry-run", action="store_true", default=False, help="Only write the package folder, upload nothing")
    parser.add_argument("--local-dir", help="Package folder (default: hub/<repo name>)", type=str)
    parser.add_argument("--private", action="store_true", default=False, help="Create the repository as private")
    parser.add_argument(
        "--gym-packages", type=str, nargs="+", default=[], help="Additional packages to import (env registration)"
    )
    return parser


def _zoo_extra_files(log_path: Path, config_folder: Path, env_kwargs: dict[str, Any], tmp: Path) -> dict[str, Path]:
    """rl_zoo3's repository files: config.yml and args.yml (as saved by training), env_kwargs.yml, train_eval_metrics.zip."""
    extra: dict[str, Path] = {}
    for name in ("config.yml", "args.yml"):
        if (config_folder / name).is_file():
            extra[name] = config_folder / name
    (tmp / "env_kwargs.yml").write_text(yaml.dump(env_kwargs), encoding="utf-8")
    extra["env_kwargs.yml"] = tmp / "env_kwargs.yml"
    with zipfile.ZipFile(tmp / "train_eval_metrics.zip", "w") as archive:
        if (log_path / "evaluations.npz").is_file():
            archive.write(log_path / "evaluations.npz", arcname="evaluations.npz")
        for monitor_file in sorted(log_path.glob("*.csv")):
            archive.write(monitor_file, arcname=monitor_file.name)
    extra["train_eval_metrics.zip"] = tmp / "train_eval_metrics.zip"
    return extra


def push_to_hub_main(argv: list[str] | None = None) -> None:
    """
    ``sb3-reinforce push-to-hub --algo reinforce --env CartPole-v1 -f logs/ -orga <user>``: load the agent of a
    training run, evaluate it, record a replay and upload the package (see :func:`~sb3_reinforce.hub.package_to_hub`).

    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    """
    args = push_parser().parse_args(argv)
    _import_env_packages(args.gym_packages)
    from huggingface_sb3 import EnvironmentName
    from rl_zoo3.utils import create_test_env, get_model_path, get_saved_hyperparams
    from stable_baselines3.common.utils import set_random_seed

    from sb3_reinforce.hub.package import package_to_hub
    from sb3_reinforce.hub.video import VideoError
    from sb3_reinforce.reinforce import REINFORCE

    env_id: str = args.env
    try:
        _, model_path, log_path = get_model_path(
            args.exp_id,
            args.folder,
            ALGO,
            EnvironmentName(env_id),
            args.load_best,
            args.load_checkpoint,
            args.load_last_checkpoint,
        )
    except (AssertionError, ValueError) as error:
        _fail(error)
    set_random_seed(args.seed)
    if args.num_threads > 0:
        th.set_num_threads(args.num_threads)

    config_folder = Path(log_path) / env_name(env_id)
    # The user's own training folder: rl_zoo3's readers (which unpickle and eval) are fine here.
    hyperparams, maybe_stats_path = get_saved_hyperparams(str(config_folder), test_mode=True)
    env_kwargs: dict[str, Any] = {}
    if (config_folder / "args.yml").is_file():
        with open(config_folder / "args.yml") as file:
            loaded_args = yaml.load(file, Loader=yaml.UnsafeLoader)
        env_kwargs = dict(loaded_args.get("env_kwargs") or {})
    if args.env_kwargs is not None:
        env_kwargs.update(args.env_kwargs)
    should_render = not args.no_render
    eval_env = create_test_env(
        env_id,
        n_envs=args.n_envs,
        stats_path=maybe_stats_path,
        seed=args.seed,
        log_dir=None,
        should_render=should_render,
        hyperparams=deepcopy(hyperparams),
        env_kwargs={**env_kwargs, "render_mode": "rgb_array"} if should_render else env_kwargs,
    )
    print(f"Loading {model_path}")
    model = REINFORCE.load(model_path, env=eval_env, device=args.device, seed=args.seed)
    stochastic = args.stochastic or (_is_atari_or_minigrid(env_id) and not args.deterministic)
    repo_id = default_repo_id(args.organization, env_id, args.repo_name)
    local_dir = Path(args.local_dir) if args.local_dir else Path("hub") / repo_id.split("/")[1]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            package_to_hub(
                model,
                model_name(env_id),
                env_id,
                eval_env,
                repo_id,
                commit_message=args.commit_message,
                is_deterministic=not stochastic,
                n_eval_episodes=args.n_eval_episodes,
                video_length=0 if args.no_render else args.n_timesteps,
                local_dir=local_dir,
                dry_run=args.dry_run,
                private=args.private or None,
                hyperparams=hyperparams,
                env_kwargs=env_kwargs,
                extra_files=_zoo_extra_files(Path(log_path), config_folder, env_kwargs, Path(tmp)),
                verbose=args.verbose,
            )
        except VideoError as error:
            # write_package stages its files: whatever package was in local_dir before is still there.
            reason = str(error).rstrip(".")
            _fail(
                f"{reason}. Nothing was uploaded and {local_dir} was left as it was. Fix the rendering or the encoder, "
                "or package without a replay: --no-render"
            )
        except (HubError, ValueError) as error:
            _fail(error)
    eval_env.close()
    if args.dry_run:
        print(f"Dry run: the package is in {local_dir}, nothing was uploaded")


def load_parser() -> argparse.ArgumentParser:
    """:return: The parser of ``load-from-hub`` (rl_zoo3's flags, plus --trust-remote-code and --revision)"""
    parser = argparse.ArgumentParser(
        prog="sb3-reinforce load-from-hub", description="Download an agent from the Hub into the RL Zoo log folder layout"
    )
    parser.add_argument("--env", help="environment ID", type=str, required=True)
    parser.add_argument("-f", "--folder", help="Log folder", type=str, required=True)
    parser.add_argument("-orga", "--organization", help="Huggingface hub organization", default="sb3")
    parser.add_argument("-name", "--repo-name", help="Huggingface hub repository name, by default 'algo-env_id'", type=str)
    parser.add_argument("--algo", help="RL Algorithm", type=str, required=True, choices=[ALGO])
    parser.add_argument("--exp-id", help="Experiment ID (default: 0: latest, -1: no exp folder)", default=0, type=int)
    parser.add_argument("--verbose", help="Verbose mode (0: no output, 1: INFO)", default=1, type=int)
    parser.add_argument("--force", action="store_true", default=False, help="Allow overwriting exp folder if it already exist")
    parser.add_argument("--revision", help="Branch, tag or commit to download (default: main)", type=str)
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        default=False,
        help="Copy the repository's pickles and rl_zoo3 files as they are: loading them runs any code they hold. "
        "Only for repositories you trust (needed for models pushed with rl_zoo3/huggingface_sb3)",
    )
    return parser


def load_from_hub_main(argv: list[str] | None = None) -> None:
    """
    ``sb3-reinforce load-from-hub --algo reinforce --env CartPole-v1 -orga <user> -f logs/``: download an agent
    into ``logs/reinforce/CartPole-v1_<id>/`` for ``sb3-reinforce enjoy``; safe unless ``--trust-remote-code``
    (see :func:`~sb3_reinforce.hub.zoo_layout.download_to_zoo`).

    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    """
    args = load_parser().parse_args(argv)
    _import_env_packages([])
    from sb3_reinforce.hub.zoo_layout import download_to_zoo

    repo_id = default_repo_id(args.organization, args.env, args.repo_name)
    if args.verbose:
        print(f"Downloading from {repo_id}")
    try:
        log_path = download_to_zoo(
            repo_id,
            args.env,
            args.folder,
            exp_id=args.exp_id,
            force=args.force,
            trust_remote_code=args.trust_remote_code,
            revision=args.revision,
            verbose=args.verbose,
        )
    except (HubError, UnsafeModelError, ModelFormatError, ValueError) as error:
        _fail(error)
    if args.verbose:
        exp_id = log_path.name.rsplit("_", 1)[-1] if log_path.name != ALGO else "-1"
        print(f"Run it with: sb3-reinforce enjoy --algo {ALGO} --env {args.env} -f {args.folder} --exp-id {exp_id}")
