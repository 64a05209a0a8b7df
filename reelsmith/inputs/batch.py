"""A request's input media: fetched safely, checked, and kept in storage for the worker.

If the request fails part-way (a bad second URL, no credits) the files already stored are
removed again, so a refused request leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from reelsmith.errors import ApiError, Code
from reelsmith.inputs.checks import check_image, check_video
from reelsmith.inputs.fetch import fetch_input
from reelsmith.media.probe import MediaInfo, probe
from reelsmith.settings import Settings
from reelsmith.storage.base import Storage, StoredFile
from reelsmith.storage.signing import UrlSigner


@dataclass(frozen=True)
class InputSources:
    """What fetching inputs needs: the limits and allowed networks, the store that keeps them,
    and the signer that recognises our own file URLs (read from storage, not over the network)."""

    settings: Settings
    storage: Storage
    signer: UrlSigner

    def batch(self) -> InputBatch:
        """A new batch for one request's inputs (use it as ``async with``)."""
        return InputBatch(self)


class InputBatch:
    """One request's inputs, kept together: if the request fails part-way, ``async with``
    removes what was already stored."""

    def __init__(self, sources: InputSources) -> None:
        self.sources = sources
        self.stored: dict[str, StoredFile] = {}
        # The local copy of each kept file, for checks and duplicates without reading storage back.
        self._local: dict[str, Path] = {}
        self._scratch = Path(tempfile.mkdtemp(prefix="inputs-", dir=sources.settings.work_dir))

    async def __aenter__(self) -> InputBatch:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)
        if exc is not None:
            self.discard()

    def discard(self) -> None:
        for stored in self.stored.values():
            self.sources.storage.delete(stored.key)
        self.stored.clear()

    async def _fetch(self, url: str, field: str, kind: Literal["image", "video", "audio", "caption"]) -> Path:
        settings = self.sources.settings
        fetched = await fetch_input(
            url,
            field=field,
            kind=kind,
            settings=settings,
            dest_dir=self._scratch,
            storage=self.sources.storage,
            signer=self.sources.signer,
        )
        return fetched.path

    async def _keep(self, name: str, path: Path) -> Path:
        """Store ``path`` for the worker; the returned local copy lasts as long as the batch."""
        stored = await asyncio.to_thread(self.sources.storage.put_file, path)
        self.stored[name] = stored
        self._local[stored.key] = path
        return path

    async def image(self, name: str, url: str, field: str, *, max_pixels: int | None = None) -> Path:
        """A PNG or JPEG that decodes, of at most ``max_pixels`` where the product limits them
        (checked on the header, before decoding)."""
        path = await self._fetch(url, field, "image")
        await asyncio.to_thread(check_image, path, field=field, max_pixels=max_pixels)
        return await self._keep(name, path)

    async def video(
        self, name: str, url: str, field: str, *, max_seconds: float | None, max_fps: float | None, require_audio: bool
    ) -> tuple[Path, MediaInfo]:
        """An MP4 whose streams pass the product's limits (codes 1203, 1204, 1209, 1210)."""
        path = await self._fetch(url, field, "video")
        info = await asyncio.to_thread(
            check_video, path, field=field, max_seconds=max_seconds, max_fps=max_fps, require_audio=require_audio
        )
        return await self._keep(name, path), info

    async def audio(self, name: str, url: str, field: str) -> tuple[Path, MediaInfo]:
        path = await self._fetch(url, field, "audio")
        try:
            info = await asyncio.to_thread(probe, path)
        except Exception as exc:
            raise ApiError(Code.PARAMETER, f"{field} could not be read as audio") from exc
        if not info.has_audio:
            raise ApiError(Code.PARAMETER, f"{field} has no audio stream")
        return await self._keep(name, path), info

    async def caption(self, name: str, url: str, field: str) -> Path:
        path = await self._fetch(url, field, "caption")
        return await self._keep(name, path)

    async def duplicate(self, files: dict[str, StoredFile]) -> dict[str, StoredFile]:
        """Fresh copies of already-kept inputs, for a second task of the same request."""
        copies = {}
        for name, stored in files.items():
            copy = await asyncio.to_thread(self.sources.storage.put_file, self._local[stored.key])
            self.stored[f"{name}-{copy.key}"] = copy
            copies[name] = copy
        return copies

    async def copy_of(self, name: str, stored: StoredFile) -> Path:
        """A private copy of a file already in storage (a previous task's output)."""
        local = self._scratch / f"{name}{Path(stored.key).suffix}"
        try:
            await asyncio.to_thread(self.sources.storage.copy_to, stored.key, local)
        except KeyError:
            raise ApiError(Code.PARAMETER, "the previous video has expired and was deleted") from None
        return await self._keep(name, local)
