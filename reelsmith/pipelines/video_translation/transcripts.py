"""Recognition done once for the tasks of one request.

A request for ``es,fr`` makes two tasks with copies of the same video; the first to get there
recognises the speech and leaves the transcript in a folder of the worker's machine, keyed by a
hash of the audio, the recogniser and the language asked, and the second reads it. A lock makes
the second wait rather than recognise again. Entries are removed after :data:`KEEP_SECONDS`.
Workers on different machines (scale-out) each recognise once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reelsmith.models.interfaces import Transcript, TranscriptLine, Word

KEEP_SECONDS = 3600.0
# The layout of the stored transcript; in the key, so an entry of another layout (left by a
# worker of an older version) is never read.
_LAYOUT = "lines-v2"


def transcript_key(audio: np.ndarray, recognizer: str, language: str | None) -> str:
    """Names the transcript of ``audio`` by the recogniser's signature and the asked language
    (None: detected)."""
    digest = hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes())
    digest.update(f"|{recognizer}|{language or 'detect'}|{_LAYOUT}".encode())
    return digest.hexdigest()


def shared_transcript(folder: Path, key: str, recognise: Callable[[], Transcript]) -> tuple[Transcript, bool]:
    """The transcript for ``key``, and whether another task had already made it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    with (folder / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            return _load(path), True
        transcript = recognise()
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(_dump(transcript)))
        os.replace(partial, path)
    _forget_old(folder)
    return transcript, False


def _dump(transcript: Transcript) -> dict[str, object]:
    return {
        "language": transcript.language,
        "lines": [[line.start, line.end, [[w.text, w.start, w.end] for w in line.words]] for line in transcript.lines],
    }


def _load(path: Path) -> Transcript:
    data = json.loads(path.read_text())
    lines = (
        TranscriptLine(start, end, tuple(Word(text, a, b) for text, a, b in words))
        for start, end, words in data["lines"]
    )
    return Transcript(data["language"], tuple(lines))


def _forget_old(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for entry in folder.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
        except OSError:
            continue
