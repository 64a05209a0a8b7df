"""Frames out of a video through the ffmpeg binary, one at a time, scaled on the way.

ffmpeg decodes and scales in its own process and hands raw RGB frames through a pipe; a reader
thread keeps a few frames ready, so decoding overlaps the work done on the previous frame and a
video is never held in memory. Every frame of the source is passed on (no frames dropped or
duplicated to reach a rate), so the output keeps the source's frame count.
"""

from __future__ import annotations

import queue
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from reelsmith.media.probe import ffmpeg_exe

_QUEUE_FRAMES = 4


class DecodeError(RuntimeError):
    """ffmpeg could not decode the video; the message ends with what it said."""


def read_frames(path: Path, size: tuple[int, int], seconds: float | None = None) -> Iterator[np.ndarray]:
    """Yield the frames of ``path`` (its first video stream) as H x W x 3 uint8 RGB of ``size``
    (width, height, square pixels), for the first ``seconds`` when given."""
    width, height = size
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-i", str(path), *(["-t", f"{seconds:.6f}"] if seconds else []),
        "-map", "0:v:0", "-vf", f"scale={width}:{height}:flags=bicubic,setsar=1", "-fps_mode", "passthrough",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ]  # fmt: skip
    frame_bytes = width * height * 3
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        assert process.stdout is not None
        frames: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUE_FRAMES)
        stop = threading.Event()

        def pump() -> None:
            assert process.stdout is not None
            while not stop.is_set():
                data = process.stdout.read(frame_bytes)
                if len(data) < frame_bytes:
                    break
                frames.put(data)
            frames.put(None)

        reader = threading.Thread(target=pump, name="ffmpeg-reader", daemon=True)
        reader.start()
        try:
            while (data := frames.get()) is not None:
                yield np.frombuffer(data, np.uint8).reshape(height, width, 3).copy()
            code = process.wait()
            if code != 0:
                log.seek(0)
                said = log.read().decode("utf-8", "replace").strip()[-2000:]
                raise DecodeError(f"ffmpeg exited with {code}: {said}")
        finally:
            stop.set()
            if process.poll() is None:
                process.kill()
            while reader.is_alive():
                # Unblock a reader waiting on a full queue so it can see the stop.
                try:
                    frames.get_nowait()
                except queue.Empty:
                    reader.join(timeout=0.05)
            process.wait()
            process.stdout.close()
