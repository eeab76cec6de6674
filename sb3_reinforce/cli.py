"""``sb3-reinforce`` console script: one entry point for the zoo commands and Hub sharing."""

import sys
from collections.abc import Callable, Sequence

PROG = "sb3-reinforce"


def _train(argv: Sequence[str]) -> None:
    from sb3_reinforce.zoo.commands import train

    train(argv, prog=f"{PROG} train")


def _optimize(argv: Sequence[str]) -> None:
    from sb3_reinforce.zoo.commands import optimize

    optimize(argv, prog=f"{PROG} optimize")


def _enjoy(argv: Sequence[str]) -> None:
    from sb3_reinforce.zoo.commands import enjoy

    enjoy(argv, prog=f"{PROG} enjoy")


def _record_video(argv: Sequence[str]) -> None:
    from sb3_reinforce.zoo.commands import record_video

    record_video(argv, prog=f"{PROG} record-video")


def _push_to_hub(argv: Sequence[str]) -> None:
    from sb3_reinforce.hub.cli import push_to_hub_main

    push_to_hub_main(list(argv))


def _load_from_hub(argv: Sequence[str]) -> None:
    from sb3_reinforce.hub.cli import load_from_hub_main

    load_from_hub_main(list(argv))


# Imports are lazy: `--help` stays fast and a missing optional part only breaks its own subcommand
COMMANDS: dict[str, tuple[Callable[[Sequence[str]], None], str]] = {
    "train": (_train, "train an agent (python -m rl_zoo3.train flags)"),
    "enjoy": (_enjoy, "run a trained agent (python -m rl_zoo3.enjoy flags)"),
    "record-video": (_record_video, "record a video of a trained agent (python -m rl_zoo3.record_video flags)"),
    "optimize": (_optimize, "tune hyperparameters with Optuna: train with -optimize"),
    "push-to-hub": (_push_to_hub, "share a trained agent on the Hugging Face Hub"),
    "load-from-hub": (_load_from_hub, "download a trained agent from the Hugging Face Hub"),
}
ALIASES = {"record_video": "record-video", "push_to_hub": "push-to-hub", "load_from_hub": "load-from-hub"}


def usage() -> str:
    """:return: The help text of the console script"""
    lines = [f"usage: {PROG} <command> [options]", "", "commands:"]
    lines += [f"  {name:<15}{help_text}" for name, (_, help_text) in COMMANDS.items()]
    lines += ["", f"'{PROG} <command> -h' lists the options of a command."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """
    Dispatch ``sb3-reinforce <command> [options]`` to the command.

    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(usage(), file=sys.stderr)
        sys.exit(2)
    if args[0] in ("-h", "--help"):
        print(usage())
        return
    if args[0] == "--version":
        from sb3_reinforce.version import __version__

        print(__version__)
        return
    name = ALIASES.get(args[0], args[0])
    if name not in COMMANDS:
        print(f"{PROG}: unknown command {args[0]!r}\n\n{usage()}", file=sys.stderr)
        sys.exit(2)
    command, _ = COMMANDS[name]
    command(args[1:])


if __name__ == "__main__":
    main()
