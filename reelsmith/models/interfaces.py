"""The contracts between the pipelines and the models they call, and what crosses them.

Four kinds of model adapter, each a ``Protocol`` whose docstrings are the contract an adapter
keeps (a pipeline relies on nothing else):

- :class:`Recognizer`: speech (16 kHz mono) -> timed lines of timed words, and the language
  they were heard in;
- :class:`Translator`: lines of text, source, target -> the same number of lines; the pairs it
  offers and the route a pair takes;
- :class:`Synthesizer`: text, voice, style -> :class:`Speech`, the samples at a stated rate
  **and** the phonemes spoken, in IPA, with their times; lip-sync reads only these, so any
  voice that reports IPA moves the mouth, whichever synthesiser it is;
- :class:`LanguageIdentifier`: text -> the language it is in, with a probability.

They live in one module so that whoever writes a new adapter reads every contract and every
type in one place, and adapters never import each other. Adapters raise the errors defined
here (:class:`RecognitionError`, :class:`TranslationError`, :class:`SynthesisError`) for what a
task's user should read; :mod:`reelsmith.models.registry` says which adapters a worker uses.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

# What a Recognizer listens to: float32 mono samples at this rate.
RECOGNITION_SAMPLE_RATE = 16_000
# A phoneme's symbol for silence within or after the speech (IPA has no segment for it).
PAUSE = "_"


class RecognitionError(RuntimeError):
    """The model is missing, damaged, or cannot recognise the asked language; says which."""


class TranslationError(RuntimeError):
    """The pair cannot be translated, or the translator failed; says which."""


class SynthesisError(RuntimeError):
    """The voice is unknown or the synthesiser failed; says which."""


# --- recognition -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One recognised word and its time in seconds from the start of the audio."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class TranscriptLine:
    """A stretch of speech as the recogniser cut it (Whisper's segments), with its words."""

    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


@dataclass(frozen=True)
class Transcript:
    """What was said: the lines in order, and the language they were recognised as."""

    language: str
    lines: tuple[TranscriptLine, ...]

    @property
    def words(self) -> tuple[Word, ...]:
        """Every word of every line, in order."""
        return tuple(word for line in self.lines for word in line.words)

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


class Recognizer(Protocol):
    """Speech to timed words.

    ``transcribe`` takes float32 mono samples at :data:`RECOGNITION_SAMPLE_RATE` and the
    language spoken (an API code, ``en``) or None to detect it; it answers lines in order whose
    words carry times in seconds from the audio's first sample, and the language heard (the
    asked one, or the detected one). Asked for a language outside :meth:`languages`, it raises
    :class:`RecognitionError` with a message the user can act on.
    """

    @property
    def name(self) -> str:
        """What the report shows: ``faster-whisper (tiny.en)``."""
        ...

    @property
    def signature(self) -> str:
        """The model and its decoding settings: the same audio, language and signature give the
        same transcript (recognition shared between tasks is keyed by it)."""
        ...

    def languages(self) -> frozenset[str] | None:
        """The languages it can recognise; ``None`` when any (a multilingual model)."""
        ...

    def transcribe(self, audio: npt.NDArray[np.float32], language: str | None) -> Transcript:
        """The words in ``audio``; ``language`` None means detect it."""
        ...


# --- translation -------------------------------------------------------------------------------


class Translator(Protocol):
    """Lines of text from one language into another.

    ``translate`` answers exactly one line for each line given, in order (an empty line stays
    empty). Tokens like ``Zq0qZ`` (``studio_voice`` terms) must come back untouched. A pair
    outside :meth:`pairs` raises :class:`TranslationError`.
    """

    @property
    def name(self) -> str:
        """What the report shows: ``apertium``."""
        ...

    def pairs(self) -> frozenset[tuple[str, str]]:
        """The (source, target) pairs it translates, directly or through another language."""
        ...

    def route(self, source: str, target: str) -> list[str]:
        """The languages a translation passes through, ``source`` and ``target`` included
        (``["en", "es", "fr"]`` through Spanish)."""
        ...

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        """Each line translated, in order; the same number of lines back."""
        ...


# --- speech ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """One voice of one language; ``voice_id`` is what ``voices_map`` names, and it is unique
    across every synthesiser a worker uses."""

    voice_id: str
    language: str
    name: str
    gender: str  # "Male" or "Female", as Akool's voice list spells them
    age: tuple[str, ...] = ("Adult",)  # Akool's voice list: "Young", "Adult", "Old"
    scenario: tuple[str, ...] = ("Dubbing", "Narration")


@dataclass(frozen=True)
class Style:
    """How a line is spoken: ``rate``, its speed (1 = the voice's normal speed), and ``pitch``,
    a shift of the voice's pitch from -50 to +49 in steps of espeak-ng's 0-99 pitch setting
    (where 50 is a voice's own); an adapter with another pitch control maps it onto its own,
    and one without any speaks at the voice's pitch."""

    rate: float
    pitch: int


@dataclass(frozen=True)
class Phoneme:
    """One phoneme of synthesised speech and its time in seconds from the first sample of the
    :class:`Speech` it belongs to.

    ``symbol`` is IPA: one segment, a letter with its diacritics and length marks (``ɔ̃``,
    ``iː``, ``ɐ̃``) or a diphthong or affricate written as one phoneme (``aɪ``, ``tʃ``, with or
    without a tie bar); stress marks are allowed and mean nothing to lip-sync. Silence is
    :data:`PAUSE`; a symbol with no IPA letter at all is read as a pause too.
    """

    symbol: str
    start: float
    end: float


@dataclass(frozen=True, eq=False)
class Speech:
    """What a synthesiser said: float32 mono ``samples`` in -1..1 at ``sample_rate``, and the
    phonemes spoken, in order, each within ``[0, seconds]``; empty when the synthesiser cannot
    tell which phonemes it spoke when (lip-sync then follows the sound's loudness)."""

    samples: npt.NDArray[np.float32]
    sample_rate: int
    phonemes: tuple[Phoneme, ...] = ()

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def ipa_letters(symbol: str) -> str:
    """The letters of an IPA symbol without what modifies them: diacritics, tie bars, length
    and stress marks and modifier letters (``ˈaː`` -> ``a``, ``t͡ʃʰ`` -> ``tʃ``, ``ɐ̃ʊ̃`` -> ``ɐʊ``);
    empty for a pause or anything else without a letter."""
    # Modifier letters (ʰ ʲ ː ˈ) are "Lm" and diacritics "Mn": neither is a sound of its own.
    return "".join(char for char in symbol if unicodedata.category(char) in ("Ll", "Lu", "Lo"))


class Synthesizer(Protocol):
    """Text to speech in a chosen voice and style.

    ``speak`` answers the whole line's :class:`Speech`: its samples, and its phonemes in IPA
    timed on those samples (a synthesiser that knows only the phoneme string can time it with
    ``visemes.spread_phonemes``; one that knows none answers none). Leading and trailing
    silence may be left in; the pipeline trims it and shifts the phonemes with it.
    """

    @property
    def name(self) -> str:
        """What the report shows: ``espeak-ng``."""
        ...

    def languages(self) -> frozenset[str]:
        """The API language codes it has voices for."""
        ...

    def voices(self, language: str) -> list[Voice]:
        """The voices of ``language``, the default one first; empty for a language it lacks."""
        ...

    def speak(self, text: str, voice: Voice, style: Style) -> Speech:
        """``text`` spoken by ``voice`` (one of :meth:`voices`) in ``style``."""
        ...


# --- language identification -------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageGuess:
    """The most likely language of a text (an API code) and its probability, 0-1."""

    language: str
    probability: float


class LanguageIdentifier(Protocol):
    """Which language a text is in (``source_language: DEFAULT`` with given captions)."""

    @property
    def name(self) -> str: ...

    def identify(self, text: str) -> LanguageGuess:
        """The most likely of the languages requests may name (``reelsmith.languages``)."""
        ...
