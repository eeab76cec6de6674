"""Load time and peak memory of ``load_from_hub``, and the peak memory of the crafted repositories of issue 10.

``repos`` packages a CartPole ``MlpPolicy`` agent and an Atari-sized ``CnnPolicy`` agent (84x84x4 uint8 frames,
``Discrete(6)``: Pong's spaces, trained a few steps on a stand-in env) with ``package_to_hub(dry_run=True)`` and places
them in a huggingface_hub cache; ``time`` loads one of them offline in a fresh process (the first load of a process
includes PyTorch's lazy imports). ``bombs`` writes the crafted repositories (a policy.pth with 1.5 GiB of deflated
trailing data, a 400M-element extra tensor, deflated or only declared by the pickle, huge ``net_arch`` in SB3's forms,
a 2^24-element float64 Box) and loads each in a fresh process after an honest model, printing the rise of its peak
memory. Works with any version of ``sb3_reinforce.hub`` that has ``package_to_hub`` and ``load_from_hub``::

    python benchmarks/hub_load.py /tmp/hub-bench repos
    python benchmarks/hub_load.py /tmp/hub-bench time cartpole     # or atari
    python benchmarks/hub_load.py /tmp/hub-bench bombs             # this version's format only
"""

import hashlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch as th

COMMIT = "0" * 39 + "1"


class _Frames(gym.Env):
    """Pong's spaces after the zoo's Atari wrappers (before frame stacking), random frames, 8-step episodes."""

    observation_space = gym.spaces.Box(0, 255, (84, 84, 1), np.uint8)
    action_space = gym.spaces.Discrete(6)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return self.observation_space.sample(), 0.0, self.t >= 8, False, {}


def make_repos(work: Path) -> None:
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    from sb3_reinforce import REINFORCE
    from sb3_reinforce.hub import package_to_hub

    cartpole = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=64, seed=0).learn(256)
    atari = REINFORCE("CnnPolicy", VecFrameStack(DummyVecEnv([_Frames]), 4), n_steps=16, seed=0).learn(32)
    envs = {"cartpole": DummyVecEnv([lambda: gym.make("CartPole-v1")]), "atari": VecFrameStack(DummyVecEnv([_Frames]), 4)}
    for name, model, env_id in (("cartpole", cartpole, "CartPole-v1"), ("atari", atari, "PongNoFrameskip-v4")):
        package = work / "packages" / name
        package_to_hub(
            model,
            f"reinforce-{name}",
            env_id,
            envs[name],
            f"bench/{name}",
            n_eval_episodes=1,
            video_length=0,
            local_dir=package,
            dry_run=True,
            verbose=0,
        )
        folder = work / "cache" / f"models--bench--{name}"
        (folder / "refs").mkdir(parents=True, exist_ok=True)
        (folder / "refs" / "main").write_text(COMMIT)
        shutil.copytree(package, folder / "snapshots" / COMMIT, dirs_exist_ok=True)


def time_load(work: Path, name: str) -> None:
    from sb3_reinforce.hub import load_from_hub

    times = []
    for _ in range(4):
        start = time.perf_counter()
        load_from_hub(f"bench/{name}", cache_dir=work / "cache")
        times.append(time.perf_counter() - start)
    files = sum(path.stat().st_size for path in (work / "packages" / name).iterdir())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        json.dumps(
            {
                "repo": name,
                "first_s": round(times[0], 3),
                "next_s": round(min(times[1:]), 3),
                "package_kB": files // 1024,
                "peak_rss_MB": rss,
            }
        )
    )


def _craft(zip_bytes: bytes, sidecar: bytes, members: dict | None = None, **changes) -> tuple[bytes, bytes]:
    """Alter a package as an attacker who controls the repository would (the sidecar's checksum recomputed)."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()} | (members or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in contents.items():
            if callable(content):
                content(archive, name)
            else:
                archive.writestr(name, content)
    description = json.loads(sidecar) | changes
    description["sha256"] = hashlib.sha256(out.getvalue()).hexdigest()
    return out.getvalue(), json.dumps(description).encode()


def _deflated(parts: list) -> object:
    def write(archive: zipfile.ZipFile, name: str) -> None:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            for part in parts:
                for _ in range(part // 2**20) if isinstance(part, int) else [None]:
                    member.write(bytes(2**20) if isinstance(part, int) else part)

    return write


def make_bombs(work: Path) -> list[Path]:
    from sb3_reinforce import REINFORCE
    from sb3_reinforce.hub import save_safe_model

    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=64, policy_kwargs={"net_arch": [8]}, seed=0).learn(600)
    (work / "bombs" / "honest").mkdir(parents=True, exist_ok=True)
    zip_path, sidecar_path = save_safe_model(model, work / "bombs" / "honest", "agent")[:2]
    honest = zip_path.read_bytes(), sidecar_path.read_bytes()
    with zipfile.ZipFile(zip_path) as archive:
        policy = archive.read("policy.pth")
    state = th.load(io.BytesIO(policy), weights_only=True)
    with th.serialization.skip_data():  # the extra tensor's bytes are written as zeros, never allocated
        th.save({**state, "extra": th.empty(400_000_000)}, work / "extra.pth")
    declared = io.BytesIO()  # the same, its 1.6 GB record cut to 16 bytes
    zipfile.ZipExtFile._update_crc = lambda self, data: None  # skip_data leaves the CRC of the data it did not write
    with zipfile.ZipFile(work / "extra.pth") as big, zipfile.ZipFile(declared, "w") as small:
        for info in big.infolist():
            with big.open(info) as member:
                small.writestr(info.filename, member.read(16) if info.file_size > 10**8 else member.read())
    cases = {
        "trailing-1.5GiB": _craft(*honest, {"policy.pth": _deflated([policy, 3 * 2**29])}),
        "extra-400M-tensor-deflated": _craft(*honest, {"policy.pth": _deflated([(work / "extra.pth").read_bytes()])}),
        "extra-400M-tensor-declared": _craft(*honest, {"policy.pth": declared.getvalue()}),
        "net_arch-list-of-dicts": _craft(*honest, policy_kwargs={"net_arch": [{"pi": [30_000_000], "vf": [30_000_000]}]}),
        "net_arch-5e9": _craft(*honest, policy_kwargs={"net_arch": [{"pi": [5e9]}]}),
        "box-2^24-float64": _craft(
            *honest, observation_space={"type": "Box", "dtype": "float64", "shape": [2**24], "low": -1, "high": 1}
        ),
    }
    (work / "extra.pth").unlink()
    for case, (zip_bytes, sidecar) in cases.items():
        (work / "bombs" / case).mkdir(exist_ok=True)
        (work / "bombs" / case / "agent.zip").write_bytes(zip_bytes)
        (work / "bombs" / case / "agent.safe.json").write_bytes(sidecar)
    return [work / "bombs" / case / "agent.zip" for case in cases]


def peak_of_load(work: Path, path: Path) -> None:
    from sb3_reinforce.hub import load_safe_model

    load_safe_model(work / "bombs" / "honest" / "agent.zip")  # lazy imports and first-call allocations
    before, start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
    try:
        load_safe_model(path)
        error = None
    except Exception as exception:
        error = f"{type(exception).__name__}: {str(exception)[:120]}"
    rise = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    downloaded = sum(file.stat().st_size for file in path.parent.iterdir())
    print(
        json.dumps(
            {
                "case": path.parent.name,
                "downloaded_kB": downloaded // 1024,
                "peak_rise_MB": round(rise / 1024, 1),
                "seconds": round(time.perf_counter() - start, 3),
                "error": error,
            }
        )
    )


if __name__ == "__main__":
    th.set_num_threads(1)
    os.environ["HF_HUB_OFFLINE"] = "1"
    work, command = Path(sys.argv[1]), sys.argv[2]
    if command == "repos":
        make_repos(work)
    elif command == "time":
        time_load(work, sys.argv[3])
    elif command == "bombs":
        for bomb in make_bombs(work):
            subprocess.run([sys.executable, __file__, str(work), "peak", str(bomb)], check=True)
    elif command == "peak":
        peak_of_load(work, Path(sys.argv[3]))
