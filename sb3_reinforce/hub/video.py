"""
Replay video of an agent, encoded with the ffmpeg bundled in ``imageio-ffmpeg``: the encoder always exists (where
huggingface_sb3 skips the video without a system ``ffmpeg``), and any failure is an error, not a missing file.
"""

from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv


class VideoError(RuntimeError):
    """The replay video could not be recorded."""


def record_replay(
    model: BaseAlgorithm,
    env: VecEnv,
    path: str | Path,
    video_length: int = 1000,
    deterministic: bool = True,
    fps: int | None = None,
) -> int:
    """
    Run the agent for ``video_length`` steps (across episodes) and write the frames it saw as an H.264 MP4.

    :param model: The agent
    :param env: Environment created with ``render_mode="rgb_array"``
    :param path: Output file (``replay.mp4``)
    :param video_length: Number of frames (agent steps)
    :param deterministic: Whether the agent acts deterministically
    :param fps: Frames per second (default: the env's ``render_fps`` metadata, else 30)
    :return: The number of frames written
    :raises VideoError: if the env cannot render RGB frames or the encoder fails
    """
    if video_length < 1:
        raise ValueError(f"video_length must be >= 1, got {video_length}")
    if (render_mode := getattr(env, "render_mode", None)) != "rgb_array":
        skip = "or skip the video (video_length=0, --no-render on the command line)"
        raise VideoError(
            f"The env's render_mode is {render_mode!r}: make it with render_mode='rgb_array' to record a replay, {skip}"
        )
    path, obs = Path(path), env.reset()
    writer = imageio.get_writer(
        path,
        format="FFMPEG",  # type: ignore[arg-type]
        mode="I",
        fps=fps or int((getattr(env, "metadata", None) or {}).get("render_fps") or 30),
        codec="libx264",
        pixelformat="yuv420p",  # the pixel format browsers (and the Hub's player) decode
        macro_block_size=2,  # yuv420p needs even sizes; 2 avoids rescaling the usual frame sizes
        ffmpeg_log_level="error",
        output_params=["-movflags", "+faststart"],  # index first: the Hub page can start playing at once
    )
    try:
        for _ in range(video_length):
            try:
                frame = env.render()
            except Exception as error:  # rendering backends raise anything (missing pygame, no display, ...)
                raise VideoError(f"The environment could not render a frame ({type(error).__name__}: {error})") from error
            if not isinstance(frame, np.ndarray) or frame.ndim not in (2, 3):
                raise VideoError(f"env.render() returned {type(frame).__name__}, not an image array")
            writer.append_data(frame)
            obs = env.step(model.predict(obs, deterministic=deterministic)[0])[0]  # type: ignore[arg-type]
    except BaseException:
        writer.close()
        path.unlink(missing_ok=True)
        raise
    try:
        writer.close()
    except Exception as error:
        path.unlink(missing_ok=True)
        raise VideoError(f"ffmpeg failed to encode {path.name}: {error}") from error
    return video_length
