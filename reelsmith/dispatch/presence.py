"""A worker's heartbeat in the workers table, from a background thread, so that the operator
sees which workers are alive and what they run (``services/operations.py``)."""

from __future__ import annotations

import logging
import os
import socket
import threading

from reelsmith.runtime import Runtime
from reelsmith.services.operations import WorkerPresence

log = logging.getLogger("reelsmith.worker")


def report_presence(runtime: Runtime, owner: str, stop: threading.Event) -> threading.Thread:
    """Renew this worker's row every ``REELSMITH_WORKER_HEARTBEAT_SECONDS`` until ``stop`` is
    set, then delete it. ``owner`` is the name it claims tasks as."""
    presence = WorkerPresence(runtime.db, owner, socket.gethostname(), os.getpid(), runtime.registry.engines)
    interval = runtime.settings.worker_heartbeat_seconds

    def beat() -> None:
        while True:
            try:
                presence.beat()
            except Exception:  # the database may be down for a while; the tasks' leases cover it
                log.exception("worker %s could not report in", owner)
            if stop.wait(interval):
                break
        try:
            presence.leave()
        except Exception:
            log.exception("worker %s could not sign off", owner)

    thread = threading.Thread(target=beat, name="worker-presence", daemon=True)
    thread.start()
    return thread
