"""A task's life on the worker side: claim under a lease, heartbeat, progress, finish or fail.

Every transition is a conditional UPDATE on (id, lease_owner), so a worker that lost its lease
(it stalled, another worker took the task) can no longer change the task.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from reelsmith.errors import is_disk_full
from reelsmith.services.credits import refund_task
from reelsmith.services.webhooks import enqueue_delivery
from reelsmith.storage.signing import UrlSigner
from reelsmith.store.db import Database, on_commit, rows_changed
from reelsmith.store.ids import now_ms
from reelsmith.store.models import Task
from reelsmith.telemetry import metrics


class TaskLifecycle:
    def __init__(
        self,
        db: Database,
        lease_ms: int,
        max_attempts: int,
        signer: UrlSigner,
        public_url: str | None = None,
        webhook_on_processing: bool = False,
    ) -> None:
        self.db = db
        self.lease_ms = lease_ms
        self.max_attempts = max_attempts
        self.signer = signer
        self.public_url = public_url
        self.webhook_on_processing = webhook_on_processing

    def _status_changed(self, session: Session, task_id: str, status: int) -> None:
        """Outbox rows go in the same transaction as the change they announce."""
        task = session.get(Task, task_id, populate_existing=True)
        assert task is not None
        enqueue_delivery(session, task, status, self.signer, self.public_url)

    def _claimable(self, now: int) -> Any:
        return (
            Task.deleted.is_(False),
            or_(Task.status == 1, (Task.status == 2) & (Task.lease_expires < now)),
        )

    def next_claimable(self, engines: list[str]) -> str | None:
        """The oldest task that one of ``engines`` could run now (queued, or its lease expired)."""
        with self.db.read() as session:
            return session.scalars(
                select(Task.id)
                .where(*self._claimable(now_ms()), Task.engine.in_(engines))
                .order_by(Task.create_time)
                .limit(1)
            ).first()

    def is_claimable(self, task_id: str) -> bool:
        """Whether a worker could claim ``task_id`` now."""
        with self.db.read() as session:
            found = session.scalars(select(Task.id).where(Task.id == task_id, *self._claimable(now_ms()))).first()
            return found is not None

    def claim(self, task_id: str, owner: str) -> Task | None:
        """Take the task for ``owner`` if it is queued or its lease expired; None otherwise.
        A task taken more than ``max_attempts`` times fails for good, with a refund."""
        now = now_ms()
        with self.db.write() as session:
            done = session.execute(
                update(Task)
                .where(Task.id == task_id, *self._claimable(now))
                .values(
                    status=2,
                    lease_owner=owner,
                    lease_expires=now + self.lease_ms,
                    attempts=Task.attempts + 1,
                    update_time=now,
                )
            )
            if rows_changed(done) != 1:
                return None
            task = session.get(Task, task_id)
            assert task is not None
            if task.attempts > self.max_attempts:
                self._fail(
                    session,
                    task,
                    f"the task was abandoned by {self.max_attempts} workers in a row; the credits were refunded",
                    None,
                )
                return None
            if self.webhook_on_processing and task.attempts == 1:
                self._status_changed(session, task_id, 2)
            return task

    def heartbeat(self, task_id: str, owner: str) -> bool:
        """Extend the lease; False when the task is no longer ours (lost lease, deleted)."""
        now = now_ms()
        with self.db.write() as session:
            done = session.execute(
                update(Task)
                .where(Task.id == task_id, Task.lease_owner == owner, Task.status == 2, Task.deleted.is_(False))
                .values(lease_expires=now + self.lease_ms)
            )
            return rows_changed(done) == 1

    def set_progress(self, task_id: str, owner: str, progress: int) -> bool:
        with self.db.write() as session:
            done = session.execute(
                update(Task)
                .where(Task.id == task_id, Task.lease_owner == owner, Task.status == 2)
                .values(progress=max(0, min(progress, 99)), update_time=now_ms())
            )
            return rows_changed(done) == 1

    def complete(self, task_id: str, owner: str, result: dict[str, Any]) -> bool:
        with self.db.write() as session:
            done = session.execute(
                update(Task)
                .where(Task.id == task_id, Task.lease_owner == owner, Task.status == 2)
                .values(status=3, progress=100, result=result, lease_expires=None, update_time=now_ms())
            )
            if rows_changed(done) != 1:
                return False
            self._status_changed(session, task_id, 3)
            task = session.get(Task, task_id)
            assert task is not None
            product, engine, seconds = task.product, task.engine, (task.update_time - task.create_time) / 1000
            on_commit(session, lambda: metrics.task_completed(product, engine, seconds))
            return True

    def fail(self, task_id: str, owner: str, reason: str, error_code: int | None = None) -> bool:
        """Status 4 with ``reason``, and the credits back."""
        with self.db.write() as session:
            task = session.scalars(
                select(Task).where(Task.id == task_id, Task.lease_owner == owner, Task.status == 2)
            ).first()
            if task is None:
                return False
            self._fail(session, task, reason, error_code)
            return True

    def _fail(self, session: Session, task: Task, reason: str, error_code: int | None) -> None:
        session.execute(
            update(Task)
            .where(Task.id == task.id)
            .values(
                status=4,
                fail_reason=client_reason(reason),
                error_code=error_code,
                lease_expires=None,
                update_time=now_ms(),
            )
        )
        refund_task(session, task)
        self._status_changed(session, task.id, 4)
        product, engine = task.product, task.engine
        on_commit(session, lambda: metrics.task_failed(product, engine))


OUT_OF_SPACE = "the server ran out of storage space while making the result; try again later"
# An absolute path (not a URL's): kept to its last part, the file's name.
_PATH = re.compile(r"(?<![\w:/.])/(?:[^\s'\":/]+/)+([^\s'\":/]*)")
_DISK_FULL_WORDS = ("No space left on device", "Disk quota exceeded")


def _says_disk_full(text: str) -> bool:
    return any(words in text for words in _DISK_FULL_WORDS)


def client_reason(reason: str) -> str:
    """A failure reason as the task's team may read it: a full disk said plainly, and no
    folder of this server named (a tool's message quoting a file keeps only its name)."""
    if _says_disk_full(reason):
        return OUT_OF_SPACE
    return _PATH.sub(lambda match: match.group(1) or "a folder", reason)


def internal_reason(exc: BaseException, engine: str) -> str:
    """The reason for a failure nobody foresaw: the cause where the team can act on it, else
    only its kind (the details, command lines and paths included, go to the log)."""
    # A tool (ffmpeg) that ran out of space says so in its message rather than by an errno.
    if is_disk_full(exc) or _says_disk_full(str(exc)):
        return OUT_OF_SPACE
    return f"internal error in the {engine} engine ({exc.__class__.__name__}); the server's log has the details"
