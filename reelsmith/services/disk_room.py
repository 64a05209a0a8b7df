"""Free disk space where this host writes: the file store (when it is a local folder) and the
scratch folder that fetches and pipelines write into. Creates and uploads are refused while it
is below ``REELSMITH_STORAGE_MIN_FREE_MB``, and readiness says so, rather than letting a task
be charged and then fail half-written."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from reelsmith.media.probe import format_size
from reelsmith.settings import Settings


@dataclass(frozen=True)
class DiskRoom:
    """One folder's free space against the minimum."""

    folder: Path
    free_bytes: int
    minimum_bytes: int

    @property
    def enough(self) -> bool:
        return self.free_bytes >= self.minimum_bytes

    def describe(self) -> str:
        """What a client may read (no paths): "12 KB free, below the 200 MB minimum"."""
        relation = "at least" if self.enough else "below"
        return f"{format_size(self.free_bytes)} free, {relation} the {format_size(self.minimum_bytes)} minimum"


def disk_rooms(settings: Settings) -> list[DiskRoom]:
    """Each folder this host writes media into (the same disk is measured once)."""
    folders = [settings.work_dir] if settings.s3_bucket else [settings.files_dir, settings.work_dir]
    minimum = settings.storage_min_free_mb * 1024 * 1024
    rooms: dict[int, DiskRoom] = {}
    for folder in folders:
        existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
        usage = shutil.disk_usage(existing)
        rooms.setdefault(existing.stat().st_dev, DiskRoom(folder, usage.free, minimum))
    return list(rooms.values())


def short_of_room(settings: Settings) -> DiskRoom | None:
    """The first folder short of room, or None when every one has enough."""
    return next((room for room in disk_rooms(settings) if not room.enough), None)
