"""The dispatch reaper (scale-out mode): publishes again the tasks a broker message no longer
stands for.

Two cases: a task whose worker died (its lease ran out while it was running: a killed process,
a lost host), and a queued task nobody took for ``redispatch_after_seconds`` (a publish that
failed, a broker that restarted without its queues). Each is marked with the time it was
published again in the same UPDATE that selects it, so several reapers (every API and worker
process runs one) publish each task once; a duplicate message is harmless anyway, since the
claim decides who runs a task.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import and_, or_, update

from reelsmith.broker.publisher import Publisher
from reelsmith.runtime import Runtime
from reelsmith.store.db import Database
from reelsmith.store.ids import now_ms
from reelsmith.store.models import Task, TaskRecord

log = logging.getLogger("reelsmith.dispatch")

# A queued task is at least this old before the reaper publishes it (its creator publishes first).
NEW_TASK_GRACE_MS = 2000


@dataclass
class DispatchReaper:
    db: Database
    publisher: Publisher
    redispatch_after_ms: int

    def sweep(self) -> int:
        """Publish again every task that needs it; returns how many were published."""
        now = now_ms()
        lost_worker = and_(
            Task.status == 2,
            Task.lease_expires < now,
            or_(Task.dispatched_at.is_(None), Task.dispatched_at < Task.lease_expires),
        )
        never_taken = and_(
            Task.status == 1,
            Task.create_time < now - NEW_TASK_GRACE_MS,
            or_(Task.dispatched_at.is_(None), Task.dispatched_at < now - self.redispatch_after_ms),
        )
        with self.db.write() as session:
            rows = session.execute(
                update(Task)
                .where(Task.deleted.is_(False), or_(lost_worker, never_taken))
                .values(dispatched_at=now)
                .returning(*Task.__table__.columns)
            ).all()
        tasks = [TaskRecord.from_row(row) for row in rows]
        if tasks:
            log.info("publishing %d tasks again: %s", len(tasks), ", ".join(t.id for t in tasks))
            self.publisher.publish(tasks)
        return len(tasks)

    def run(self, stop: threading.Event, interval: float) -> None:
        """Sweep every ``interval`` seconds until ``stop`` is set."""
        while not stop.wait(interval):
            try:
                self.sweep()
            except Exception:
                log.exception("dispatch reaper sweep failed")

    def start(self, stop: threading.Event, interval: float) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop, interval), name="dispatch-reaper", daemon=True)
        thread.start()
        return thread


def start_reaper(runtime: Runtime, stop: threading.Event) -> threading.Thread:
    """The dispatch reaper in a background thread of this process, sweeping every half lease."""
    settings = runtime.settings
    reaper = DispatchReaper(runtime.db, runtime.publisher, int(settings.redispatch_after_seconds * 1000))
    return reaper.start(stop, max(0.5, settings.lease_seconds / 2))
