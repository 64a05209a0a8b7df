"""Casting: which voice speaks for each speaker.

Without ``voices_map`` each speaker gets a voice that fits them: a man's voice for a voice heard
low, a woman's for a voice heard high (the median pitch of their lines, measured on the
original), and no two speakers share a voice while the language has voices enough. Being
understood comes before fitting: the best synthesiser's voices (Kokoro's, where it speaks the
language) are taken before another's, so a man with only a woman's neural voice in the language
gets that voice rather than a robotic man's. A voice asked for in ``voices_map`` speaks for the
first speaker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reelsmith.models.interfaces import Voice
from reelsmith.pipelines.video_translation.captions import Line
from reelsmith.pipelines.video_translation.speakers import SAMPLE_RATE, median_pitch

# Adult speaking voices: men mostly 85-155 Hz, women 165-255 Hz; the gap's middle tells them apart.
LOW_VOICE_BELOW_HZ = 160.0


@dataclass(frozen=True)
class Casting:
    """One speaker's part: how they were heard and who speaks for them."""

    speaker: int
    pitch_hz: float  # 0 when no voiced sound was found
    heard_as: str  # "Male", "Female" or "" (unknown)
    voice: Voice

    def report(self) -> dict[str, object]:
        return {"speaker": self.speaker, "pitch_hz": round(self.pitch_hz, 1), "heard_as": self.heard_as,
                "voice": self.voice.voice_id}  # fmt: skip


def speaker_pitches(audio: np.ndarray, lines: Sequence[Line], speakers: int) -> list[float]:
    """Each speaker's median pitch over their lines in 16 kHz ``audio`` (0 where unmeasurable)."""
    pitches = []
    for speaker in range(speakers):
        spans = [
            (int(line.start * SAMPLE_RATE), int(line.end * SAMPLE_RATE)) for line in lines if line.speaker == speaker
        ]
        joined = np.concatenate([audio[a:b] for a, b in spans]) if spans else np.zeros(0, np.float32)
        pitches.append(median_pitch(joined) if len(joined) >= SAMPLE_RATE // 4 else 0.0)
    return pitches


def heard_as(pitch_hz: float) -> str:
    if pitch_hz <= 0:
        return ""
    return "Male" if pitch_hz < LOW_VOICE_BELOW_HZ else "Female"


def cast(
    available: Sequence[Voice], pitches: Sequence[float], chosen: str = "", best: Sequence[Voice] = ()
) -> list[Casting]:
    """A voice per speaker (in the order of ``pitches``), from ``available`` in its order of
    preference, ``best`` being the best synthesiser's voices among them (all of them when not
    given): the voice ``chosen`` for the first speaker; then for each speaker the first unused
    voice, trying in turn the best voices of their gender, the best voices, and every voice of
    their gender; else (more speakers than voices) the voices of their gender again in turn."""
    if not available:
        raise ValueError("no voice to cast")
    best = list(best) or list(available)
    used: list[Voice] = []
    parts = []
    for speaker, pitch in enumerate(pitches):
        gender = heard_as(pitch)
        asked = next((v for v in available if v.voice_id == chosen), None) if speaker == 0 and chosen else None
        unused_best = [voice for voice in best if voice not in used]
        unused = [voice for voice in available if voice not in used]
        alike = [voice for voice in best if voice.gender == gender] or best
        voice = (
            asked
            or next((v for v in unused_best if v.gender == gender), None)
            or (unused_best[0] if unused_best else None)
            or next((v for v in unused if v.gender == gender), None)
            or alike[speaker % len(alike)]
        )
        used.append(voice)
        parts.append(Casting(speaker, pitch, gender, voice))
    return parts
