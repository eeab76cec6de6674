"""
``python -m sb3_reinforce.enjoy``: rl_zoo3's enjoy script with REINFORCE registered.

Takes every ``python -m rl_zoo3.enjoy`` flag; ``--algo`` defaults to ``reinforce``.
"""

from collections.abc import Sequence

from sb3_reinforce.zoo.commands import enjoy


def main(argv: Sequence[str] | None = None) -> None:
    """
    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    """
    enjoy(argv, prog="python -m sb3_reinforce.enjoy")


if __name__ == "__main__":
    main()
