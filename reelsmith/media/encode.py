"""Frames into an H.264 MP4 through the ffmpeg binary, and sound put on a finished video.

Frames go into ffmpeg's standard input as raw RGB from a writer thread, a few frames behind
the code making them, so making the next frame overlaps encoding the last one and a clip is
never held in memory. Sound joins in a second pass that copies the video, cut to the video's
exact length (``-shortest`` ends a few hundred milliseconds late).
"""

from __future__ import annotations

import queue
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np

from reelsmith.media.probe import ffmpeg_exe

CRF = 20
PRESET = "veryfast"
AUDIO_BITRATE = "192k"
_QUEUE_FRAMES = 4


class EncodeError(RuntimeError):
    """ffmpeg failed, or was given no frames; the message ends with what ffmpeg said."""


def encode_frames(
    frames: Iterable[np.ndarray],
    size: tuple[int, int],
    fps: float | Fraction,
    out_path: Path,
    on_frame: Callable[[int], None] | None = None,
    pixel_aspect: float = 1.0,
) -> int:
    """Encode ``frames`` (uint8 RGB of ``size``, width x height) as a silent H.264 MP4; returns
    how many frames went in. ``on_frame(n)`` is called after the n-th frame; an exception from
    it (a cancellation) stops ffmpeg and removes the partial file. ``pixel_aspect`` (a pixel's
    width over its height) is stored for players, for frames of a source with non-square
    pixels."""
    width, height = size
    if width % 2 or height % 2:
        raise ValueError(f"H.264 in yuv420p needs even sides, got {width}x{height}")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            video_command(size, fps, out_path, pixel_aspect),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        assert process.stdin is not None
        writer = PipeWriter(process.stdin)
        try:
            count = _feed(frames, (height, width, 3), writer, on_frame)
            writer.close()
            code = process.wait()
        except BaseException:
            process.kill()
            writer.close()
            process.wait()
            Path(out_path).unlink(missing_ok=True)
            raise
        if code != 0 or writer.error is not None or count == 0:
            Path(out_path).unlink(missing_ok=True)
            reason = "no frames to encode" if count == 0 else f"ffmpeg exited with {code}"
            raise EncodeError(_with_log(reason, log))
    return count


def put_audio(video: Path, audio: Path, seconds: float, out_path: Path, audio_offset: float = 0.0) -> None:
    """``video`` with the first audio stream of ``audio`` (from ``audio_offset`` seconds on) as
    AAC, padded with silence or cut to exactly ``seconds``."""
    run_ffmpeg(mux_command(video, audio, seconds, out_path, audio_offset), out_path)


def video_command(size: tuple[int, int], fps: float | Fraction, out_path: Path, pixel_aspect: float = 1.0) -> list[str]:
    width, height = size
    aspect = Fraction(pixel_aspect).limit_denominator(1000)
    setsar = ["-vf", f"setsar={aspect.numerator}/{aspect.denominator}"] if aspect != 1 else []
    return [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-video_size", f"{width}x{height}", "-framerate", _rate(fps),
        "-i", "pipe:0", *setsar,
        "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
        "-movflags", "+faststart", str(out_path),
    ]  # fmt: skip


def mux_command(video: Path, audio: Path, seconds: float, out_path: Path, audio_offset: float = 0.0) -> list[str]:
    # Silence pads short audio; -t cuts long audio (and ends exactly at the video's last frame).
    return [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-i", str(video), "-ss", f"{audio_offset:.6f}", "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
        "-c:v", "copy", "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-af", "apad", "-t", f"{seconds:.6f}",
        "-movflags", "+faststart", str(out_path),
    ]  # fmt: skip


def encode_mp3(audio: Path, out_path: Path) -> None:
    """``audio``'s first stream as a mono MP3 (what browsers play as ``audio/mpeg``)."""
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(audio),
        "-map", "0:a:0", "-ac", "1", "-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3", str(out_path),
    ]  # fmt: skip
    run_ffmpeg(command, out_path)


def poster_frame(video: Path, out_path: Path) -> None:
    """The first frame of ``video`` as a JPEG: the still a player shows before playing."""
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(video),
        "-map", "0:v:0", "-frames:v", "1", "-q:v", "3", "-f", "image2", str(out_path),
    ]  # fmt: skip
    run_ffmpeg(command, out_path)


def run_ffmpeg(command: list[str], out_path: Path) -> None:
    """Run one ffmpeg command; on failure remove ``out_path`` and raise :class:`EncodeError`."""
    with tempfile.TemporaryFile() as log:
        code = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log).returncode
        if code != 0:
            Path(out_path).unlink(missing_ok=True)
            raise EncodeError(_with_log(f"ffmpeg exited with {code}", log))


def _rate(fps: float | Fraction) -> str:
    rate = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
    return f"{rate.numerator}/{rate.denominator}"


def _with_log(reason: str, log: IO[bytes]) -> str:
    log.seek(0)
    said = log.read().decode("utf-8", "replace").strip()[-2000:]
    return f"{reason}: {said}" if said else reason


def _feed(
    frames: Iterable[np.ndarray],
    shape: tuple[int, int, int],
    writer: PipeWriter,
    on_frame: Callable[[int], None] | None,
) -> int:
    count = 0
    for frame in frames:
        if frame.shape != shape or frame.dtype != np.uint8:
            raise ValueError(f"frame {count} is {frame.shape} {frame.dtype}, expected {shape} uint8")
        if not writer.put(frame):
            break
        count += 1
        if on_frame is not None:
            on_frame(count)
    return count


class PipeWriter:
    """Writes frames into ffmpeg's stdin from a thread, a few frames behind the producer."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.error: OSError | None = None
        self._pipe = pipe
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=_QUEUE_FRAMES)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ffmpeg-writer", daemon=True)
        self._thread.start()

    def put(self, frame: np.ndarray) -> bool:
        """Queue ``frame``; False once ffmpeg stopped reading (its error says why)."""
        if self.error is not None:
            return False
        self._queue.put(np.ascontiguousarray(frame))
        return True

    def close(self) -> None:
        """Let the queued frames through, then close the pipe (ffmpeg finishes the file)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (frame := self._queue.get()) is not None:
            # After a failed write keep draining, so the producer is never stuck on a full queue.
            if self.error is None:
                try:
                    self._pipe.write(frame.data.cast("B"))
                except OSError as exc:
                    self.error = exc
        try:
            self._pipe.close()
        except OSError as exc:
            self.error = self.error or exc
