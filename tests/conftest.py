import os
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest
import torch as th

# render_mode="human" opens a pygame window: the tests have no screen, so SDL draws into memory.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

# Small networks run fastest on one thread, and CI machines have 2 cores shared by the test and its env workers.
th.set_num_threads(1)


@pytest.fixture(scope="session")
def installed_script() -> str:
    """:return: Path of the ``sb3-reinforce`` console script installed for this Python (what users type)"""
    candidate = Path(sysconfig.get_path("scripts")) / "sb3-reinforce"
    found = str(candidate) if candidate.is_file() else shutil.which("sb3-reinforce")
    if found is None:
        pytest.fail(f"no sb3-reinforce script is installed for {sys.executable}: pip install -e '.[dev]'")
    return found
