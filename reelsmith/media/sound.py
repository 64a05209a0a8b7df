"""Sound as numpy arrays: any audio ffmpeg reads into float samples, and samples into WAV."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from reelsmith.media.probe import ffmpeg_exe

_TIMEOUT_SECONDS = 600


class SoundError(RuntimeError):
    """ffmpeg could not read the sound; the message ends with what it said."""


def read_audio(path: Path, sample_rate: int, channels: int = 1, filters: str = "") -> np.ndarray:
    """The first audio stream of ``path`` as float32 samples in -1..1, resampled to
    ``sample_rate``: shape ``(N,)`` for mono, ``(N, channels)`` otherwise. ``filters`` is an
    optional ffmpeg audio filter chain applied first (``rubberband=tempo=1.2``)."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-vn"]
    if filters:
        command += ["-af", filters]
    command += ["-ac", str(channels), "-ar", str(sample_rate), "-f", "f32le", "-"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise SoundError(f"reading the sound of {path.name} took longer than {_TIMEOUT_SECONDS} s") from exc
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise SoundError(f"the sound of {path.name} could not be read: {said[-1] if said else done.returncode}")
    samples = np.frombuffer(done.stdout, dtype="<f4").copy()
    return samples if channels == 1 else samples.reshape(-1, channels)


def write_wav(samples: np.ndarray, sample_rate: int, path: Path) -> None:
    """Write float samples (``(N, channels)``, or ``(N,)`` for mono) in -1..1 as 16-bit PCM WAV."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    pcm = np.round(np.clip(frames, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
