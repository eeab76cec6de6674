"""
``python -m sb3_reinforce.record_video``: rl_zoo3's record_video script with REINFORCE registered.

Takes every ``python -m rl_zoo3.record_video`` flag; ``--algo`` defaults to ``reinforce``.
"""

from collections.abc import Sequence

from sb3_reinforce.zoo.commands import record_video


def main(argv: Sequence[str] | None = None) -> None:
    """
    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    """
    record_video(argv, prog="python -m sb3_reinforce.record_video")


if __name__ == "__main__":
    main()
