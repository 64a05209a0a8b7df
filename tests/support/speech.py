"""Test clips with known speech: English sentences spoken by espeak-ng (Debian's package) over
carphone_pristine.mp4, with a quiet 5 kHz tone as the background sound."""

from __future__ import annotations

import functools
import io
import subprocess
import wave
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from reelsmith.media.sound import write_wav
from reelsmith.models.interfaces import Style
from reelsmith.models.kokoro import KokoroSynthesizer, bundled_model_parts, default_voices_dir
from tests.support.media import carphone, ffmpeg

RATE = 22_050
TONE_HZ = 5000.0
TONE_LEVEL = 0.05
SENTENCES = (
    "The weather is nice today.",
    "We are going to the park with our friends.",
    "Please bring some water and a small lunch.",
)
# Sentences for sources in other languages (recognition, language detection, translation).
SPANISH = (
    "Hoy hace muy buen tiempo.",
    "Vamos al parque con nuestros amigos.",
    "Por favor trae agua y una comida pequeña.",
)
FRENCH = (
    "Il fait très beau aujourd'hui.",
    "Nous allons au parc avec nos amis.",
    "Apportez de l'eau et un petit repas, s'il vous plaît.",
)


@dataclass(frozen=True)
class SpokenLine:
    text: str
    start: float
    end: float
    voice: str


def espeak(text: str, voice: str = "en-us+m3", speed: int | None = None) -> np.ndarray:
    """``text`` spoken by espeak-ng at 22.05 kHz, as float samples; ``speed`` in words a minute
    (espeak-ng's own is 175)."""
    rate = ["-s", str(speed)] if speed else []
    done = subprocess.run(["espeak-ng", "-v", voice, *rate, "--stdout", text], capture_output=True, check=True)
    with wave.open(io.BytesIO(done.stdout), "rb") as reader:
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768


@functools.cache
def _kokoro() -> KokoroSynthesizer:
    return KokoroSynthesizer(bundled_model_parts(), default_voices_dir(), threads=2)


def kokoro(text: str, voice_id: str = "kokoro-af_heart") -> np.ndarray:
    """``text`` spoken by one of Kokoro-82M's voices (the one named ``kokoro-<name>``), at
    22.05 kHz like :func:`espeak`, as float samples."""
    synthesizer = _kokoro()
    voice = next(v for code in synthesizer.languages() for v in synthesizer.voices(code) if v.voice_id == voice_id)
    speech = synthesizer.speak(text, voice, Style(1.0, 0))
    ratio = Fraction(RATE, speech.sample_rate)
    return resample_poly(speech.samples, ratio.numerator, ratio.denominator).astype(np.float32)


def spoken_clip(
    path: Path,
    sentences: tuple[str, ...] = SENTENCES,
    voices: tuple[str, ...] = ("en-us+m3",),
    gap: float = 0.9,
    lead: float = 0.4,
    tone: bool = True,
    size: tuple[int, int] | None = None,
    speak: Callable[[str, str], np.ndarray] = espeak,
) -> list[SpokenLine]:
    """An MP4 of carphone (looped, scaled to ``size`` if given) with ``sentences`` spoken one
    after another, voice by voice in turn, ``gap`` seconds apart; returns where each line is.
    ``speak(text, voice)`` makes a sentence's samples at :data:`RATE` (espeak-ng by default)."""
    lines: list[SpokenLine] = []
    pieces: list[np.ndarray] = [np.zeros(int(lead * RATE), np.float32)]
    cursor = lead
    for index, text in enumerate(sentences):
        voice = voices[index % len(voices)]
        samples = speak(text, voice)
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
