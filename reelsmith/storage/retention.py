"""The retention sweep: files older than the retention period are deleted."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

from reelsmith.settings import Settings
from reelsmith.storage.base import Storage
from reelsmith.store.ids import now_ms

log = logging.getLogger("reelsmith.retention")


SCRATCH_MAX_AGE_MS = 86_400_000


def sweep_expired(storage: Storage, settings: Settings) -> int:
    """Delete every stored file past retention, and scratch files that workers killed mid-task
    left behind a day ago or more; returns how many stored files were deleted."""
    removed = storage.sweep(now_ms() - settings.retention_ms)
    _sweep_scratch(settings.work_dir, now_ms() - SCRATCH_MAX_AGE_MS)
    if removed:
        log.info("retention sweep deleted %d files", removed)
    return removed


class RetentionSweeper:
    """Runs :func:`sweep_expired` every ``retention_sweep_seconds`` in a background thread."""

    def __init__(self, storage: Storage, settings: Settings) -> None:
        self.storage = storage
        self.settings = settings

    def start(self, stop: threading.Event) -> None:
        threading.Thread(target=self._run, args=(stop,), name="retention", daemon=True).start()

    def _run(self, stop: threading.Event) -> None:
        while True:
            try:
                sweep_expired(self.storage, self.settings)
            except Exception:
                log.exception("retention sweep failed")
            if stop.wait(self.settings.retention_sweep_seconds):
                return


def _sweep_scratch(work_dir: Path, older_than_ms: int) -> None:
    if not work_dir.is_dir():
        return
    for entry in work_dir.iterdir():
        newest = max((p.stat().st_mtime for p in [entry, *entry.rglob("*")]), default=0)
        if newest * 1000 < older_than_ms:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
