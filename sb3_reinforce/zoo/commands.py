"""
Run rl_zoo3's scripts (train, enjoy, record_video) with REINFORCE registered.

The zoo's own argument parsers do all the work, so every zoo flag keeps its meaning. The argument list
is only completed where the user left something out:

- ``--algo reinforce`` when no ``--algo`` is given
- ``-conf <packaged reinforce.yml>`` when training REINFORCE without ``-conf/--conf-file``
- ``sb3_reinforce`` added to ``--gym-packages``, so that our environments are registered wherever the zoo
  imports those packages (and the run's ``args.yml`` says how to reproduce it)
"""

import argparse
import runpy
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import rl_zoo3.enjoy
import rl_zoo3.train

from sb3_reinforce.zoo.experiment import ALGO_NAME
from sb3_reinforce.zoo.registration import hyperparams_path, register_reinforce

GYM_PACKAGE = "sb3_reinforce"


def _read_options(argv: Sequence[str], *, conf: bool = False, gym_packages: bool = False) -> argparse.Namespace:
    """
    Read the few options we may complete, ignoring all the others.

    Only options that the target zoo script also has are declared: the abbreviations argparse accepts
    (``--conf`` for ``--conf-file``) then resolve the same way here as in the zoo.
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--algo")
    if conf:
        parser.add_argument("-conf", "--conf-file")
        parser.add_argument("-optimize", "--optimize-hyperparameters", action="store_true")
    if gym_packages:
        parser.add_argument("--gym-packages", nargs="+", default=[])
    options, _ = parser.parse_known_args(list(argv))
    return options


def complete_argv(argv: Sequence[str], script: str, optimize: bool = False) -> list[str]:
    """
    Complete the arguments of a zoo script for REINFORCE (see the module docstring).

    Additions go at the end: for options given twice argparse keeps the last value, so ``--gym-packages``
    is repeated with the user's packages plus ours.

    :param argv: Arguments given by the user (without the program name)
    :param script: ``"train"``, ``"enjoy"`` or ``"record_video"``
    :param optimize: Add ``-optimize`` (train only) if the user did not
    :return: The arguments to give to the zoo script
    """
    is_train = script == "train"
    has_gym_packages = script in ("train", "enjoy")
    options = _read_options(argv, conf=is_train, gym_packages=has_gym_packages)
    extra: list[str] = []
    algo = options.algo
    if algo is None:
        algo = ALGO_NAME
        extra += ["--algo", ALGO_NAME]
    if is_train and algo == ALGO_NAME and options.conf_file is None:
        extra += ["-conf", str(hyperparams_path())]
    if is_train and optimize and not options.optimize_hyperparameters:
        extra.append("-optimize")
    if has_gym_packages and GYM_PACKAGE not in options.gym_packages:
        extra += ["--gym-packages", *options.gym_packages, GYM_PACKAGE]
    return [*argv, *extra]


@contextmanager
def _argv(prog: str, args: list[str]) -> Iterator[None]:
    """The zoo scripts parse ``sys.argv``: swap it in for the duration of the call."""
    saved = sys.argv
    sys.argv = [prog, *args]
    try:
        yield
    finally:
        sys.argv = saved


def train(argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    """
    ``rl_zoo3.train`` for REINFORCE: train, resume (``-i``) or tune (``-optimize``).

    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    :param prog: Program name shown in usage messages (default: ``sys.argv[0]``)
    """
    _run_train(argv, prog, optimize=False)


def optimize(argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    """
    ``rl_zoo3.train -optimize`` for REINFORCE: hyperparameter search with Optuna.

    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    :param prog: Program name shown in usage messages (default: ``sys.argv[0]``)
    """
    _run_train(argv, prog, optimize=True)


def _run_train(argv: Sequence[str] | None, prog: str | None, optimize: bool) -> None:
    register_reinforce()
    args = complete_argv(sys.argv[1:] if argv is None else argv, "train", optimize=optimize)
    with _argv(prog or sys.argv[0], args):
        rl_zoo3.train.train()


def enjoy(argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    """
    ``rl_zoo3.enjoy`` for REINFORCE: load a trained agent from a log folder and run it.

    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    :param prog: Program name shown in usage messages (default: ``sys.argv[0]``)
    """
    register_reinforce()
    args = complete_argv(sys.argv[1:] if argv is None else argv, "enjoy")
    with _argv(prog or sys.argv[0], args):
        rl_zoo3.enjoy.enjoy()


def record_video(argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    """
    ``rl_zoo3.record_video`` for REINFORCE: record a video of a trained agent.

    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    :param prog: Program name shown in usage messages (default: ``sys.argv[0]``)
    """
    register_reinforce()
    args = complete_argv(sys.argv[1:] if argv is None else argv, "record_video")
    with _argv(prog or sys.argv[0], args):
        # The zoo's record_video has no function: all its code sits under `if __name__ == "__main__"`
        runpy.run_module("rl_zoo3.record_video", run_name="__main__")
