"""A request's inputs fetched and checked exactly as a create does, but never stored: what a
quote (``POST /api/reelsmith/v1/quote``) looks at before anything is charged.

:class:`PreflightBatch` is an :class:`~reelsmith.inputs.batch.InputBatch` whose files stay in
its scratch folder, which goes when the batch closes; a product service's ``plan`` runs on it
unchanged, so a quote refuses what a create refuses, with the same codes and messages.
"""

from __future__ import annotations

from pathlib import Path

from reelsmith.inputs.batch import InputBatch, InputSources
from reelsmith.media.probe import MediaInfo
from reelsmith.storage.base import StoredFile
from reelsmith.store.ids import now_ms

# Keys of inputs that were never stored: no storage key can look like this (storage/base.py KEY).
_UNSTORED = "preflight:"


class PreflightBatch(InputBatch):
    """Fetches and checks like a create's batch; keeps each file only in its scratch folder.

    ``files`` maps each input's name (``image``, ``video``...) to its local file, for looking
    inside it while the batch is open; ``media`` each video's probe, as the checks read it."""

    def __init__(self, sources: InputSources) -> None:
        super().__init__(sources)
        self.files: dict[str, Path] = {}
        self.media: dict[str, MediaInfo] = {}

    async def video(
        self, name: str, url: str, field: str, *, max_seconds: float | None, max_fps: float | None, require_audio: bool
    ) -> tuple[Path, MediaInfo]:
        """As a create's batch; the probe is kept, so the quote need not probe again."""
        path, info = await super().video(
            name, url, field, max_seconds=max_seconds, max_fps=max_fps, require_audio=require_audio
        )
        self.media[name] = info
        return path, info

    async def _keep(self, name: str, path: Path) -> Path:
        # The one place a create's batch writes to storage: here the file stays where it was fetched.
        self.files[name] = path
        self.stored[name] = StoredFile(key=f"{_UNSTORED}{name}", created_ms=now_ms())
        return path

    async def duplicate(self, files: dict[str, StoredFile]) -> dict[str, StoredFile]:
        """A second task of the request reads the same files: nothing is copied."""
        return dict(files)

    def discard(self) -> None:
        """Nothing was stored, so nothing is deleted (the scratch folder goes with the batch)."""
        self.stored.clear()
