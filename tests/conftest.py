import torch as th

# Small networks run fastest on one thread, and CI machines have 2 cores shared by the test and its env workers.
th.set_num_threads(1)
