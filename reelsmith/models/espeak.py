"""Speech with espeak-ng: a :class:`~reelsmith.models.interfaces.Synthesizer`.

espeak-ng comes from Debian's packages: about a hundred languages, formant synthesis (clear and
robotic rather than natural), instant on a CPU. Each language gets several voices, espeak-ng's
language voice with its male and female variants, so that each speaker of a video can be given
a voice of their own. Rate and pitch follow the requested style.

Lines are spoken by espeak-ng's C library (``espeak_library.py``, in a fresh process each, so
the speech is the command line's), which gives the samples and, from the same synthesis, the
first sample of every phoneme, named in IPA by the voice's own phoneme table: the same IPA as
``espeak-ng --ipa``. What is left of espeak's own notation in those names is turned into IPA
here (:func:`ipa_symbol`), so nothing past this module knows espeak's phoneme names. Without
the library the command line speaks, and there are no phonemes.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import wave
from functools import cached_property

import numpy as np
import numpy.typing as npt

from reelsmith.languages import LANGUAGES
from reelsmith.models import espeak_library
from reelsmith.models.interfaces import PAUSE, Phoneme, Speech, Style, SynthesisError, Voice, ipa_letters

# espeak-ng's own variants: three men and three women, far enough apart to tell speakers apart.
_VARIANTS = (("m3", "Male"), ("f2", "Female"), ("m1", "Male"), ("f4", "Female"), ("m7", "Male"), ("f1", "Female"))
_RATE_WPM = 165
_PITCH = 50
# The API's codes whose espeak-ng voice has another name. French is named by its voice file,
# "fr": "fr-fr" is only a language tag, which the command line reaches by the voice's
# properties, dropping the variant (the six French voices were one man), and which the C
# library refuses (French lip-sync had no phonemes).
_ESPEAK_NAMES = {"en": "en-us", "zh": "cmn", "zh-CN": "cmn", "zh-TW": "yue", "no": "nb", "fr": "fr", "pt": "pt"}
# Phonemes whose table gives espeak-ng no IPA keep their ASCII mnemonic in its IPA names; these
# are the ones found by speaking numbers and place names in every language of the voice list
# (Mandarin's retroflex "sh" and the vowel after it, Hindi's and Gujarati's retroflex flap).
_MNEMONIC_IPA = {"s.": "ʂ", "i.": "ɨ", "r.": "ɽ"}
# More of that notation, by character: "#" after a letter makes it voiceless (Icelandic "r#"),
# "?" is a glottal stop or stød (Danish "?a"), "-" marks a French vowel that may be dropped.
_VOICELESS = "\u0325"  # combining ring below


class EspeakSynthesizer:
    """espeak-ng's voices: each line spoken by its C library (samples and timed phonemes), or by
    its command line (samples only) where the library is missing."""

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
        # Each voice by its language tag (column 2) and by its file's name (column 5).
        rows = [line.split() for line in listing.splitlines()[1:]]
        return frozenset(name for row in rows if len(row) > 4 for name in (row[1], row[4].rsplit("/", 1)[-1].lower()))

    def _espeak_name(self, language: str) -> str | None:
        name = _ESPEAK_NAMES.get(language, language)
        return name if name in self._installed else None

    def languages(self) -> frozenset[str]:
        """The API codes whose espeak-ng voice is installed."""
        return frozenset(code for code in LANGUAGES if self._espeak_name(code))

    def voices(self, language: str) -> list[Voice]:
        """Six voices: the language's voice in espeak-ng's variants, three men and three women."""
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

    def speak(self, text: str, voice: Voice, style: Style) -> Speech:
        """The line at 22.05 kHz with its phonemes in IPA, both from one synthesis by the C
        library (the command line's speech, sample for sample); from the command line, without
        phonemes, where the library is not installed."""
        name, rate, pitch = self._settings(voice, style)
        return _speak_by_library(text, name, rate, pitch) or self._speak_by_command(text, name, rate, pitch)

    def _speak_by_command(self, text: str, name: str, rate: int, pitch: int) -> Speech:
        assert self.binary is not None
        command = [
            self.binary, "-b", "1", "-v", name, "-s", str(rate), "-p", str(pitch), "--stdout", "--stdin",
        ]  # fmt: skip
        done = _run(command, text)
        if done.returncode != 0 or not done.stdout:
            raise SynthesisError(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()[-300:]}")
        # The WAV it writes to a pipe gives no length in its header: read to the end.
        with wave.open(io.BytesIO(done.stdout), "rb") as reader:
            return Speech(_float_samples(reader.readframes(reader.getnframes())), reader.getframerate())


def _speak_by_library(text: str, name: str, rate: int, pitch: int) -> Speech | None:
    """The line spoken by ``espeak_library.py`` in a process of its own (the standard library
    only: ``-I -S`` keeps its start short); None when the library is missing or refuses."""
    done = _run([sys.executable, "-I", "-S", espeak_library.__file__, name, str(rate), str(pitch)], text)
    if done.returncode == espeak_library.REFUSED:
        return None
    if done.returncode != 0:
        raise SynthesisError(f"espeak-ng's library failed: {done.stderr.decode(errors='replace').strip()[-300:]}")
    output = io.BytesIO(done.stdout)
    sample_rate, count = int(output.readline()), int(output.readline())
    events = [output.readline().decode("utf-8").rstrip("\n").split("\t", 1) for _ in range(count)]
    samples = _float_samples(output.read())
    return Speech(
        samples, sample_rate, _ipa_phonemes([(int(at), event) for at, event in events], len(samples), sample_rate)
    )


def _run(command: list[str], text: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(command, input=text.encode("utf-8"), capture_output=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        raise SynthesisError("espeak-ng took longer than 120 s for one line") from exc


def _float_samples(pcm: bytes) -> npt.NDArray[np.float32]:
    """16-bit little-endian PCM as float32 samples in -1..1."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768


def _ipa_phonemes(events: list[tuple[int, str]], samples: int, sample_rate: int) -> tuple[Phoneme, ...]:
    """The library's phoneme events (first sample, IPA name) as IPA phonemes with start and end
    times; each ends where the next starts, the last with the speech."""
    starts = [at / sample_rate for at, _ in events]
    ends = [*starts[1:], samples / sample_rate]
    phonemes: list[Phoneme] = []
    for (_, event), start, end in zip(events, starts, ends, strict=True):
        symbol, end = ipa_symbol(event), max(end, start)
        if symbol != PAUSE and not ipa_letters(symbol):
            # A modifier timed on its own (Russian's palatalising "ʲ") belongs to the phoneme
            # before it.
            if phonemes and phonemes[-1].symbol != PAUSE:
                last = phonemes.pop()
                phonemes.append(Phoneme(last.symbol + symbol, last.start, end))
                continue
            symbol = PAUSE
        phonemes.append(Phoneme(symbol, start, end))
    return tuple(phonemes)


def ipa_symbol(name: str) -> str:
    """One of espeak-ng's IPA phoneme names (:mod:`espeak_library`) as an IPA segment, or
    :data:`PAUSE` for a pause, a linking mark (empty names) or a switch of language (``(en)``)."""
    if not name or name.startswith("("):
        return PAUSE
    symbol = _MNEMONIC_IPA.get(name, name).replace("-", "").replace("?", "ʔ")
    if symbol.endswith("#"):
        symbol = symbol[:-1] + _VOICELESS
    return symbol or PAUSE
