"""``python -m sb3_reinforce <command>``: same as the ``sb3-reinforce`` console script."""

from sb3_reinforce.cli import main

main()
