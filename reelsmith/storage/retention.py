"""The retention sweep: files older than the retention period are deleted."""

from __future__ import annotations

import logging
import threading

from reelsmith.runtime import Runtime
from reelsmith.store.ids import now_ms

log = logging.getLogger("reelsmith.retention")


def sweep_expired(runtime: Runtime) -> int:
    """Delete every stored file past retention; returns how many were deleted."""
    removed = runtime.storage.sweep(now_ms() - runtime.settings.retention_ms)
    if removed:
        log.info("retention sweep deleted %d files", removed)
    return removed


class RetentionSweeper:
    """Runs :func:`sweep_expired` every ``retention_sweep_seconds`` in a background thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def start(self, stop: threading.Event) -> None:
        threading.Thread(target=self._run, args=(stop,), name="retention", daemon=True).start()

    def _run(self, stop: threading.Event) -> None:
        while True:
            try:
                sweep_expired(self.runtime)
            except Exception:
                log.exception("retention sweep failed")
            if stop.wait(self.runtime.settings.retention_sweep_seconds):
                return
