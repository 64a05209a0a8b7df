"""Test clips with known speech: English sentences spoken by espeak-ng (Debian's package) over
carphone_pristine.mp4, with a quiet 5 kHz tone as the background sound."""

from __future__ import annotations

import io
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelsmith.media.sound import write_wav
from tests.support.media import carphone, ffmpeg

RATE = 22_050
TONE_HZ = 5000.0
TONE_LEVEL = 0.05
SENTENCES = (
    "The weather is nice today.",
    "We are going to the park with our friends.",
    "Please bring some water and a small lunch.",
)


@dataclass(frozen=True)
class SpokenLine:
    text: str
    start: float
    end: float
    voice: str


def espeak(text: str, voice: str = "en-us+m3") -> np.ndarray:
    """``text`` spoken by espeak-ng at 22.05 kHz, as float samples."""
    done = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True)
    with wave.open(io.BytesIO(done.stdout), "rb") as reader:
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768


def spoken_clip(
    path: Path,
    sentences: tuple[str, ...] = SENTENCES,
    voices: tuple[str, ...] = ("en-us+m3",),
    gap: float = 0.9,
    lead: float = 0.4,
    tone: bool = True,
    size: tuple[int, int] | None = None,
) -> list[SpokenLine]:
    """An MP4 of carphone (looped, scaled to ``size`` if given) with ``sentences`` spoken one
    after another, voice by voice in turn, ``gap`` seconds apart; returns where each line is."""
    lines: list[SpokenLine] = []
    pieces: list[np.ndarray] = [np.zeros(int(lead * RATE), np.float32)]
    cursor = lead
    for index, text in enumerate(sentences):
        voice = voices[index % len(voices)]
        samples = espeak(text, voice)
        loud = np.flatnonzero(np.abs(samples) > 1e-3)
        samples = samples[loud[0] : loud[-1] + 1]
        lines.append(SpokenLine(text, cursor, cursor + len(samples) / RATE, voice))
        pieces += [samples * 0.6, np.zeros(int(gap * RATE), np.float32)]
        cursor += len(samples) / RATE + gap
    sound = np.concatenate(pieces)
    if tone:
        sound = sound + TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * np.arange(len(sound)) / RATE).astype(np.float32)
    wav = path.with_suffix(".wav")
    write_wav(sound, RATE, wav)
    seconds = len(sound) / RATE
    scale = ["-vf", f"scale={size[0]}:{size[1]},setsar=1"] if size else []
    ffmpeg(
        "-stream_loop", "-1", "-i", str(carphone()), "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0",
        *scale, "-t", f"{seconds:.3f}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", str(path),
    )  # fmt: skip
    wav.unlink()
    return lines
