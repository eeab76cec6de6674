"""
``python -m sb3_reinforce.train``: rl_zoo3's train script with REINFORCE registered.

Takes every ``python -m rl_zoo3.train`` flag; ``--algo`` defaults to ``reinforce`` and ``-conf`` to the
packaged ``reinforce.yml``. Add ``-optimize`` to tune hyperparameters (see ``docs/zoo.md``).
"""

from collections.abc import Sequence

from sb3_reinforce.zoo.commands import train


def main(argv: Sequence[str] | None = None) -> None:
    """
    :param argv: Command line arguments (default: ``sys.argv[1:]``)
    """
    train(argv, prog="python -m sb3_reinforce.train")


if __name__ == "__main__":
    main()
