"""Speech synthesis: a line of text into a mono WAV file, in a chosen voice and speaking style.

The default engine is espeak-ng from Debian's packages: about a hundred languages, formant
synthesis (clear and robotic rather than natural), instant on a CPU. Each language gets several
voices, espeak-ng's language voice with its male and female variants, so that each speaker of
a video can be given a voice of their own. Rate and pitch follow the requested style.

For lip-sync a synthesiser also tells which phonemes it speaks and when
(:meth:`Synthesizer.phonemes`): espeak-ng's C library reports each phoneme's first sample while
synthesising exactly what the command line writes (``espeak_library.py``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

from reelsmith.engines import espeak_library
from reelsmith.languages import LANGUAGES


class SynthesisError(RuntimeError):
    """The voice is unknown or the engine failed; says which."""


@dataclass(frozen=True)
class Voice:
    """One voice of one language; ``voice_id`` is what ``voices_map`` names."""

    voice_id: str
    language: str
    name: str
    gender: str  # "Male" or "Female", as Akool's voice list spells them
    age: tuple[str, ...] = ("Adult",)  # Akool's voice list: "Young", "Adult", "Old"
    scenario: tuple[str, ...] = ("Dubbing", "Narration")


@dataclass(frozen=True)
class Style:
    """How a line is spoken: speed (1 = the voice's normal rate) and pitch shift (-50..+49)."""

    rate: float
    pitch: int


STYLES: dict[str, Style] = {
    "professional": Style(1.0, 0),
    "affectionate": Style(0.92, 6),
    "angry": Style(1.1, -4),
    "calm": Style(0.9, -4),
    "cheerful": Style(1.08, 10),
    "depressed": Style(0.82, -10),
    "disgruntled": Style(0.95, -6),
    "embarrassed": Style(0.95, 4),
    "empathetic": Style(0.92, 2),
    "excited": Style(1.15, 14),
    "fearful": Style(1.1, 12),
    "friendly": Style(1.0, 6),
    "unfriendly": Style(1.0, -8),
    "sad": Style(0.85, -8),
    "serious": Style(0.95, -6),
    "relaxed": Style(0.9, 0),
}


@dataclass(frozen=True)
class Phoneme:
    """One phoneme of synthesised speech: the engine's symbol (espeak-ng's ASCII mnemonic:
    ``a``, ``tS``, ``_:`` for a pause) and its time in seconds from the start of the WAV file
    that :meth:`Synthesizer.synthesize` writes for the same text, voice and style."""

    symbol: str
    start: float
    end: float


class Synthesizer(Protocol):
    name: str

    def languages(self) -> frozenset[str]: ...

    def voices(self, language: str) -> list[Voice]:
        """The voices of ``language``, the default one first."""
        ...

    def synthesize(self, text: str, voice: Voice, style: Style, out_path: Path) -> None:
        """Write ``text`` spoken by ``voice`` as a mono WAV file at ``out_path``."""
        ...

    def phonemes(self, text: str, voice: Voice, style: Style) -> list[Phoneme]:
        """The phonemes that :meth:`synthesize` speaks for the same arguments, with their times;
        empty when the engine cannot tell (lip-sync then follows the sound's loudness)."""
        ...


# espeak-ng's own variants: three men and three women, far enough apart to tell speakers apart.
_VARIANTS = (("m3", "Male"), ("f2", "Female"), ("m1", "Male"), ("f4", "Female"), ("m7", "Male"), ("f1", "Female"))
_RATE_WPM = 165
_PITCH = 50
# The API's codes whose espeak-ng voice has another name.
_ESPEAK_NAMES = {"en": "en-us", "zh": "cmn", "zh-CN": "cmn", "zh-TW": "yue", "no": "nb", "fr": "fr-fr", "pt": "pt"}


class EspeakSynthesizer:
    name = "espeak-ng"

    def __init__(self, binary: str = "espeak-ng") -> None:
        self.binary = shutil.which(binary)

    @cached_property
    def _installed(self) -> frozenset[str]:
        if self.binary is None:
            return frozenset()
        try:
            listing = subprocess.run([self.binary, "--voices"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return frozenset()
        return frozenset(line.split()[1] for line in listing.splitlines()[1:] if len(line.split()) > 1)

    def _espeak_name(self, language: str) -> str | None:
        name = _ESPEAK_NAMES.get(language, language)
        return name if name in self._installed else None

    def languages(self) -> frozenset[str]:
        return frozenset(code for code in LANGUAGES if self._espeak_name(code))

    def voices(self, language: str) -> list[Voice]:
        if self._espeak_name(language) is None:
            return []
        title = LANGUAGES.get(language, language)
        voices: list[Voice] = []
        for variant, gender in _VARIANTS:
            number = sum(1 for voice in voices if voice.gender == gender) + 1
            name = f"{title} {gender.lower()} {number} (espeak-ng)"
            voices.append(Voice(f"espeak-{language}-{variant}", language, name, gender))
        return voices

    def _settings(self, voice: Voice, style: Style) -> tuple[str, int, int]:
        """espeak-ng's voice name (``es+m3``), rate (words a minute) and pitch for a line."""
        espeak_name = self._espeak_name(voice.language)
        if self.binary is None or espeak_name is None:
            raise SynthesisError(f"espeak-ng has no voice for {voice.language!r}")
        variant = voice.voice_id.rsplit("-", 1)[-1]
        return f"{espeak_name}+{variant}", round(_RATE_WPM * style.rate), min(max(_PITCH + style.pitch, 0), 99)

    def synthesize(self, text: str, voice: Voice, style: Style, out_path: Path) -> None:
        name, rate, pitch = self._settings(voice, style)
        assert self.binary is not None
        command = [
            self.binary, "-b", "1", "-v", name, "-s", str(rate), "-p", str(pitch), "-w", str(out_path), "--stdin",
        ]  # fmt: skip
        try:
            done = subprocess.run(command, input=text.encode(), capture_output=True, timeout=120)
        except subprocess.TimeoutExpired as exc:
            raise SynthesisError("espeak-ng took longer than 120 s for one line") from exc
        if done.returncode != 0 or not out_path.is_file():
            raise SynthesisError(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()[-300:]}")

    def phonemes(self, text: str, voice: Voice, style: Style) -> list[Phoneme]:
        """espeak-ng's phonemes for the line, timed by its C library (see ``espeak_library.py``);
        empty when the library is not installed."""
        name, rate, pitch = self._settings(voice, style)
        timed = espeak_library.timed_phonemes(text, name, rate, pitch)
        if timed is None or not timed.phonemes:
            return []
        starts = [sample / timed.rate for _, sample in timed.phonemes]
        ends = [*starts[1:], timed.samples / timed.rate]
        return [
            Phoneme(symbol, start, max(end, start))
            for (symbol, _), start, end in zip(timed.phonemes, starts, ends, strict=True)
        ]
