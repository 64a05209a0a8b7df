"""Mouth shapes from the new speech: phonemes with times become visemes (mouth opening, width,
lip rounding), smoothed the way a real mouth runs sounds together, sampled per output frame.

**Visemes.** Phonemes are IPA (the synthesiser's contract, :class:`~reelsmith.models.interfaces.
Phoneme`), so any voice that reports IPA gets lip-sync, whichever synthesiser it is. Each symbol
is read by its letters, diacritics, length and stress aside, and put in a class by the first:
lips shut (bilabial stops and nasals, [p b m]), lips near (bilabial fricatives, Spanish [β]),
lower lip to the teeth (labiodentals, [f v]), rounded glides ([w ɥ]), lips pushed out
(postalveolars, [ʃ ʒ tʃ dʒ]), teeth nearly together ([s z]), tongue between the teeth ([θ ð]),
the other tongue consonants and the back ones, whose lips follow their neighbours. Vowels
take their shape from the IPA chart: the mouth opens with the vowel's openness, spreads for
front unrounded vowels and narrows and rounds for rounded ones (:data:`VOWEL_SHAPES`).
Diphthongs ([aɪ], [oʊ]) glide from their first vowel to their second. Pauses are the mouth at
rest (closed, relaxed).

**Coarticulation** (after Cohen and Massaro, 1993). A mouth never reaches each sound's shape on
its own: it is already moving to the next. Each phoneme pulls each of the three parameters
towards its target with a *dominance* that is full while it sounds and decays exponentially
before it (anticipation, slower) and after it (carry-over, faster); a parameter's value is the
dominance-weighted mean of the targets. Lip closure of p/b/m dominates the opening strongly, so
the lips do close on them even between open vowels, but hardly the width, which the neighbours
set; rounding spreads far ahead of a rounded vowel, as it does in speech. The mouth leads the
sound slightly (:data:`LEAD_SECONDS`), as a speaker's does.

**Fallbacks.** A synthesiser that knows only the phoneme string (no times) gets them spread
over its clip's voiced stretches (:func:`spread_phonemes`); with no phonemes at all the opening
follows the speech's loudness envelope (:func:`envelope_track`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reelsmith.models.interfaces import Phoneme, ipa_letters

# The track's time step: fine enough for 60 fps, coarse enough to stay cheap.
STEP_SECONDS = 0.01
# The mouth moves this much before the sound it makes.
LEAD_SECONDS = 0.03
# Dominance decay (seconds) before a phoneme (anticipation) and after it (carry-over).
_ANTICIPATION = 0.04
_CARRY_OVER = 0.03
# How fast a dominance above the ordinary falls back to it outside its phoneme.
_STRONG_FADE = 0.015
# Rounding is anticipated further ahead (lips round during the consonants before an "u").
_ROUND_ANTICIPATION = 0.12
# A pause's dominance: the mouth relaxes towards rest in a pause, but a short one between
# words hardly closes it.
_REST_DOMINANCE = 1.0
# Envelope fallback: RMS window, and the share of the loud level that counts as wide open.
_ENVELOPE_WINDOW = 0.04
_ENVELOPE_LOUD_PERCENTILE = 95
# Typical phoneme durations (seconds) used to spread an untimed phoneme string.
_TYPICAL = {"vowel": 0.09, "consonant": 0.06, "pause": 0.0}
# Voiced: RMS above this share of the clip's loud level.
_VOICED_SHARE = 0.1


@dataclass(frozen=True)
class Viseme:
    """A mouth target: ``opening`` 0 (lips together) to 1 (wide open, an "a"); ``width`` -1
    (narrow) through 0 (relaxed) to 1 (spread, an "i"); ``rounding`` 0 to 1 (pushed forward and
    rounded, an "u"); and how strongly the sound holds each of the three (its dominance)."""

    opening: float
    width: float
    rounding: float
    dominance: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def target(self) -> tuple[float, float, float]:
        return (self.opening, self.width, self.rounding)


REST = Viseme(0.0, 0.0, 0.0, (_REST_DOMINANCE, _REST_DOMINANCE, _REST_DOMINANCE))
_CLOSED = Viseme(0.0, 0.0, 0.0, (8.0, 0.3, 0.3))  # p, b, m: the lips must meet
_LIPS_NEAR = Viseme(0.12, 0.0, 0.1, (3.0, 0.3, 0.3))  # β, ɸ: Spanish b/v between vowels
_LABIODENTAL = Viseme(0.1, 0.1, 0.0, (4.0, 0.5, 0.5))  # f, v: lower lip to the upper teeth
_GLIDE_ROUND = Viseme(0.2, -0.7, 0.9, (1.5, 1.5, 1.5))  # w, ɥ
_POSTALVEOLAR = Viseme(0.22, -0.3, 0.55, (0.8, 1.0, 1.0))  # ʃ, ʒ, tʃ, dʒ: lips pushed out
_SIBILANT = Viseme(0.1, 0.3, 0.0, (1.2, 0.6, 0.5))  # s, z: teeth nearly together
_DENTAL = Viseme(0.2, 0.1, 0.0, (0.8, 0.4, 0.3))  # θ, ð: tongue between the teeth
_TONGUE = Viseme(0.18, 0.0, 0.0, (0.9, 0.2, 0.2))  # t, d, n, l, r...: lips follow neighbours
_BACK = Viseme(0.25, 0.0, 0.0, (0.7, 0.2, 0.2))  # k, g, h, x, j...: lips follow neighbours

# Consonants by their first letter (the IPA chart's places and manners that the lips show).
_CONSONANT_CLASSES = {
    **dict.fromkeys("pbmʙɓ", _CLOSED),
    **dict.fromkeys("βɸ", _LIPS_NEAR),
    **dict.fromkeys("fvɱʋ", _LABIODENTAL),
    **dict.fromkeys("wʍɥ", _GLIDE_ROUND),
    **dict.fromkeys("ʃʒʂʐɕʑ", _POSTALVEOLAR),
    **dict.fromkeys("sz", _SIBILANT),
    **dict.fromkeys("θð", _DENTAL),
    # Alveolar and retroflex consonants, every r (French [ʁ] too), and the palatals made with
    # the tongue's blade ([ɲ ʎ ɟ ʝ]); the glide [j] and the rest are back ones.
    **dict.fromkeys("tdnlrɾɹɻɽʀʁɫɬɮɺʈɖɳɭʎɲɟʝ", _TONGUE),
}
# Affricates whose second letter gives the lips their shape ([tʃ] is pushed out like [ʃ]).
_POSTALVEOLAR_AFFRICATES = ("tʃ", "dʒ", "tɕ", "dʑ", "ʈʂ", "ɖʐ")

# Every vowel of the IPA chart as (opening, width, rounding), row by row from open to close.
# Opening falls with the vowel's height; front unrounded vowels spread the lips more the closer
# they are, rounded ones narrow and round them more the closer they are; central and back
# unrounded ones leave the width relaxed.
VOWEL_SHAPES: dict[str, tuple[float, float, float]] = {
    # open
    "a": (1.0, 0.1, 0.0), "ɶ": (0.85, -0.25, 0.45), "ɑ": (0.95, 0.0, 0.1), "ɒ": (0.7, -0.3, 0.5),
    # near-open
    "æ": (0.85, 0.3, 0.0), "ɐ": (0.8, 0.1, 0.0),
    # open-mid
    "ɛ": (0.75, 0.4, 0.0), "œ": (0.65, -0.35, 0.6), "ɞ": (0.65, -0.35, 0.55), "ʌ": (0.6, 0.0, 0.0),
    "ɔ": (0.7, -0.35, 0.55),
    # mid, with English's central [ɜ] (as in "church", said half open) and r-coloured vowels
    "ə": (0.45, 0.0, 0.0), "ɜ": (0.45, 0.0, 0.1), "ɚ": (0.45, 0.0, 0.1), "ɝ": (0.45, 0.0, 0.1),
    # close-mid
    "e": (0.6, 0.5, 0.0), "ø": (0.5, -0.5, 0.75), "ɘ": (0.5, 0.2, 0.0), "ɵ": (0.5, -0.5, 0.7),
    "ɤ": (0.55, 0.1, 0.0), "o": (0.55, -0.5, 0.75),
    # near-close
    "ɪ": (0.4, 0.7, 0.0), "ʏ": (0.35, -0.6, 0.8), "ᵻ": (0.38, 0.4, 0.0), "ʊ": (0.35, -0.7, 0.85),
    "ᵿ": (0.35, -0.7, 0.85),
    # close
    "i": (0.35, 0.85, 0.0), "y": (0.3, -0.7, 0.9), "ɨ": (0.35, 0.4, 0.0), "ʉ": (0.3, -0.7, 0.9),
    "ɯ": (0.35, 0.3, 0.0), "u": (0.3, -0.8, 1.0),
}  # fmt: skip
_VOWELS = {letter: Viseme(*shape) for letter, shape in VOWEL_SHAPES.items()}
# A glottal stop before a vowel (Danish stød, a hard onset) is written in the same phoneme.
_GLOTTAL = "ʔ"


def viseme_of(symbol: str) -> Viseme:
    """The mouth target of one IPA phoneme (diacritics, length and stress ignored); for a
    diphthong, of its first vowel."""
    shapes = visemes_of(symbol)
    return shapes[0][0]


def visemes_of(symbol: str) -> list[tuple[Viseme, float]]:
    """The targets one IPA phoneme goes through, each with its share of the phoneme's time: one
    for most, two for a diphthong (the glide's end gets the smaller share); rest for a pause."""
    letters = _letters(symbol)
    if not letters:
        return [(REST, 1.0)]
    if letters[0] in _VOWELS:
        vowels = [letter for letter in letters if letter in _VOWELS]
        if len(vowels) >= 2 and vowels[1] != vowels[0]:
            return [(_VOWELS[vowels[0]], 0.6), (_VOWELS[vowels[1]], 0.4)]
        return [(_VOWELS[vowels[0]], 1.0)]
    if letters.startswith(_POSTALVEOLAR_AFFRICATES):
        return [(_POSTALVEOLAR, 1.0)]
    return [(_CONSONANT_CLASSES.get(letters[0], _BACK), 1.0)]


def _letters(symbol: str) -> str:
    """The symbol's letters, a glottal onset before others dropped ([ʔa] is an [a])."""
    letters = ipa_letters(symbol)
    return letters[1:] if len(letters) > 1 and letters[0] == _GLOTTAL else letters


@dataclass(frozen=True)
class MouthTrack:
    """Mouth targets on a regular time grid of the output: ``values`` is G x 3 (opening,
    width, rounding) at times ``k * STEP_SECONDS``; ``source`` says what they were made from
    (``"espeak-ng phonemes"``, ``"envelope"``)."""

    values: np.ndarray
    source: str = "phonemes"

    def at_frames(self, count: int, fps: float) -> np.ndarray:
        """The targets for ``count`` frames at ``fps``: each frame gets the mean over the time it
        is shown (count x 3); frames past the track's end are at rest."""
        out = np.zeros((count, 3), dtype=np.float32)
        if len(self.values) == 0 or count == 0:
            return out
        # The cumulative sum makes each frame's mean one subtraction.
        cumulative = np.vstack([np.zeros((1, 3)), np.cumsum(self.values, axis=0)])
        edges = np.arange(count + 1) / fps / STEP_SECONDS
        first = np.clip(edges[:-1], 0, len(self.values))
        last = np.clip(edges[1:], 0, len(self.values))
        sums = _interpolated(cumulative, last) - _interpolated(cumulative, first)
        width = (edges[1:] - edges[:-1])[:, None]
        out[:] = sums / width
        return out


def _interpolated(cumulative: np.ndarray, at: np.ndarray) -> np.ndarray:
    low = np.clip(np.floor(at).astype(int), 0, len(cumulative) - 1)
    high = np.clip(low + 1, 0, len(cumulative) - 1)
    share = (at - low)[:, None]
    return cumulative[low] + share * (cumulative[high] - cumulative[low])


@dataclass(frozen=True)
class Segment:
    """A stretch of output time with one mouth target."""

    start: float
    end: float
    viseme: Viseme


def segments_of(
    phonemes: Sequence[Phoneme], offset: float, stretch: float = 1.0, until: float | None = None
) -> list[Segment]:
    """``phonemes`` (times in their clip) placed at ``offset`` seconds of the output, their
    clip played ``stretch`` times faster, cut at ``until`` seconds of the clip (where the trimmed
    clip ends); diphthongs split into their two targets."""
    segments = []
    for phoneme in phonemes:
        start, end = phoneme.start, phoneme.end
        if until is not None:
            start, end = min(start, until), min(end, until)
        start, end = max(start, 0.0), max(end, 0.0)
        if end <= start:
            continue
        cursor = start
        for viseme, share in visemes_of(phoneme.symbol):
            piece_end = cursor + share * (end - start)
            segments.append(Segment(offset + cursor / stretch, offset + piece_end / stretch, viseme))
            cursor = piece_end
    return segments


def phoneme_track(segments: Sequence[Segment], seconds: float, source: str = "phonemes") -> MouthTrack:
    """The coarticulated mouth targets over ``seconds`` of output for the spoken ``segments``
    (in output time); everywhere else the mouth is at rest."""
    count = max(int(np.ceil(seconds / STEP_SECONDS)), 1)
    times = np.arange(count) * STEP_SECONDS + LEAD_SECONDS
    ordered = sorted(segments, key=lambda segment: segment.start)
    # Rest fills every gap between spoken segments, and the time before and after them.
    filled: list[Segment] = []
    cursor = -1.0
    for segment in ordered:
        if segment.start > cursor + 1e-6:
            filled.append(Segment(cursor, segment.start, REST))
        filled.append(segment)
        cursor = max(cursor, segment.end)
    filled.append(Segment(cursor, seconds + 1.0, REST))
    starts = np.array([segment.start for segment in filled])
    ends = np.array([segment.end for segment in filled])
    targets = np.array([segment.viseme.target for segment in filled])
    dominance = np.array([segment.viseme.dominance for segment in filled])
    values = np.empty((count, 3))
    # In blocks of time, so the times x segments matrices stay small on long videos; only
    # segments near a block matter (dominance after 0.6 s is negligible).
    block = 500
    reach = 0.6
    for first in range(0, count, block):
        at = times[first : first + block]
        near = np.flatnonzero((ends > at[0] - reach) & (starts < at[-1] + reach))
        before = np.maximum(starts[near][None, :] - at[:, None], 0.0)  # the phoneme is ahead
        after = np.maximum(at[:, None] - ends[near][None, :], 0.0)  # the phoneme is past
        # Outside its phoneme a strong dominance (a closure) falls back to the ordinary one
        # within a few milliseconds, so it holds its own time without pulling its neighbours.
        fade = np.exp(-(before + after) / _STRONG_FADE)
        for parameter in range(3):
            # Rounded sounds reach further ahead with their rounding; nothing else does.
            rounded = (parameter == 2) & (targets[near, 2] > 0.3)
            ahead = np.where(rounded, _ROUND_ANTICIPATION, _ANTICIPATION)[None, :]
            strength = 1.0 + (dominance[near, parameter][None, :] - 1.0) * fade
            weight = strength * np.exp(-before / ahead - after / _CARRY_OVER)
            total = weight.sum(axis=1)
            values[first : first + block, parameter] = (weight @ targets[near, parameter]) / np.maximum(total, 1e-12)
    return MouthTrack(values.astype(np.float32), source)


def envelope_track(voice: np.ndarray, rate: int, seconds: float) -> MouthTrack:
    """The fallback without phonemes: the opening follows the loudness of ``voice`` (the new
    speech alone, mono, at ``rate``), width and rounding stay relaxed."""
    count = max(int(np.ceil(seconds / STEP_SECONDS)), 1)
    rms = _rms(voice, rate, count)
    loud = float(np.percentile(rms[rms > 0], _ENVELOPE_LOUD_PERCENTILE)) if np.any(rms > 0) else 0.0
    opening = np.clip(rms / loud, 0.0, 1.0) ** 0.7 if loud > 0 else np.zeros(count)
    # The lead, as for phonemes: the value at t is the sound's at t + LEAD_SECONDS.
    shift = int(round(LEAD_SECONDS / STEP_SECONDS))
    opening = np.concatenate([opening[shift:], np.zeros(min(shift, count))])[:count]
    values = np.zeros((count, 3), dtype=np.float32)
    values[:, 0] = opening
    return MouthTrack(values, "envelope")


def spread_phonemes(symbols: Sequence[str], clip: np.ndarray, rate: int) -> list[Phoneme]:
    """Times for an untimed phoneme string spoken in ``clip`` (mono, at ``rate``): a forced
    alignment by proportion. Each phoneme gets its class's typical duration, and the string,
    so measured, is laid along the clip's voiced time only (RMS above a tenth of its loud
    level): a phoneme that the proportion puts across a silence is split in two around it (the
    same symbol before and after), so silences in the sound get no phoneme; pauses in the
    string take no time."""
    if not symbols or len(clip) == 0:
        return []
    count = max(int(np.ceil(len(clip) / rate / STEP_SECONDS)), 1)
    rms = _rms(clip, rate, count)
    loud = float(np.percentile(rms, _ENVELOPE_LOUD_PERCENTILE))
    voiced = rms > _VOICED_SHARE * loud if loud > 0 else np.ones(count, bool)
    if not voiced.any():
        voiced[:] = True
    # Voiced runs of grid steps: (clock start, clock end, voiced time at their start).
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    runs, passed = [], 0.0
    for first, last in zip(edges[::2], edges[1::2], strict=True):
        runs.append((first * STEP_SECONDS, last * STEP_SECONDS, passed))
        passed += (last - first) * STEP_SECONDS
    durations = np.array([_TYPICAL[_kind(symbol)] for symbol in symbols])
    if durations.sum() <= 0:
        return []
    bounds = np.concatenate([[0.0], np.cumsum(durations)]) / durations.sum() * passed
    end_of_clip = len(clip) / rate
    timed: list[Phoneme] = []
    for symbol, start, end in zip(symbols, bounds[:-1], bounds[1:], strict=True):
        pieces = [
            (clock + max(start, before) - before, clock + min(end, before + stop - clock) - before)
            for clock, stop, before in runs
            if before < end and start < before + stop - clock
        ]
        if not pieces:  # a pause: no time, where the voiced time has got to
            clock = next(
                (clock + start - before for clock, stop, before in runs if start <= before + stop - clock), 0.0
            )
            pieces = [(clock, clock)]
        timed += [Phoneme(symbol, min(a, end_of_clip), min(b, end_of_clip)) for a, b in pieces]
    return timed


def _kind(symbol: str) -> str:
    letters = _letters(symbol)
    if not letters:
        return "pause"
    return "vowel" if letters[0] in _VOWELS else "consonant"


def _rms(samples: np.ndarray, rate: int, count: int) -> np.ndarray:
    """RMS over a :data:`_ENVELOPE_WINDOW` window centred on each of ``count`` grid steps."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    energy = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    centres = (np.arange(count) + 0.5) * STEP_SECONDS * rate
    half = _ENVELOPE_WINDOW * rate / 2
    low = np.clip((centres - half).astype(int), 0, len(samples))
    high = np.clip((centres + half).astype(int), 0, len(samples))
    return np.sqrt((energy[high] - energy[low]) / np.maximum(high - low, 1))
