import os

import torch as th

# render_mode="human" opens a pygame window: the tests have no screen, so SDL draws into memory.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

# Small networks run fastest on one thread, and CI machines have 2 cores shared by the test and its env workers.
th.set_num_threads(1)
