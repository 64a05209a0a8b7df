"""What an operator watches: queues per engine, live workers and what they run, the last day's
failures, credits and task counts. Read from the task table and the workers' own rows, so every
API process answers the same whichever host ran what; the admin overview and the queue gauges
of ``/metrics`` both ask here.

Workers report in through :class:`WorkerPresence`: each keeps a row that it renews every few
seconds and deletes when it stops. A worker is live while its row is younger than
``LIVE_BEATS`` heartbeats; a killed worker's row is left to go stale and pruned later. What a
worker runs is not written twice: it is the task whose lease it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import case, delete, func, select, update

from reelsmith.store.db import Database, rows_changed
from reelsmith.store.ids import now_ms
from reelsmith.store.models import Task, Worker

DAY_MS = 86_400_000
# A worker is live while its last heartbeat is at most this many heartbeats old.
LIVE_BEATS = 3
# Rows of workers gone this long are deleted by the live ones.
PRUNE_AFTER_MS = 3_600_000
# failures_last_day lists at most this many (reason, product) pairs, the most frequent first.
FAILURE_REASONS_SHOWN = 50


@dataclass(frozen=True)
class QueueStat:
    """One engine's queue: tasks waiting, tasks being run, and how long the oldest has waited."""

    engine: str
    queued: int
    running: int
    oldest_queued_seconds: float | None


@dataclass(frozen=True)
class WorkerSeen:
    """A live worker and the task it holds (None when idle)."""

    id: str
    host: str
    pid: int
    engines: list[str]
    running_task: str | None
    last_seen_seconds: float


@dataclass(frozen=True)
class FailureCount:
    """How many tasks of ``product`` failed for ``reason``."""

    reason: str
    count: int
    product: str


@dataclass(frozen=True)
class CreditTotals:
    charged_last_day: int
    refunded_last_day: int
    charged_total: int
    refunded_total: int


@dataclass(frozen=True)
class TaskCounts:
    created: int
    completed: int
    failed: int


@dataclass(frozen=True)
class Overview:
    queues: list[QueueStat]
    workers: list[WorkerSeen]
    failures_last_day: list[FailureCount]
    credits: CreditTotals
    tasks_last_day: TaskCounts


class Operations:
    """The operator's numbers. ``engines`` lists the engines to show even with empty queues."""

    def __init__(self, db: Database, heartbeat_seconds: float, engines: Callable[[], list[str]]) -> None:
        self.db = db
        self.heartbeat_ms = int(heartbeat_seconds * 1000)
        self.engines = engines

    def overview(self) -> Overview:
        """Everything the operator's page shows, read now."""
        return Overview(
            queues=self.queues(),
            workers=self.workers(),
            failures_last_day=self.failures_last_day(),
            credits=self.credits(),
            tasks_last_day=self.tasks_last_day(),
        )

    def queues(self) -> list[QueueStat]:
        """Each engine's queue (the known engines, and any other that has tasks waiting or
        running), by engine name. A running task whose lease ran out counts as running until a
        worker takes it again."""
        now = now_ms()
        with self.db.read() as session:
            rows = session.execute(
                select(Task.engine, Task.status, func.count(), func.min(Task.create_time))
                .where(Task.status.in_((1, 2)), Task.deleted.is_(False))
                .group_by(Task.engine, Task.status)
            ).all()
        counts: dict[str, dict[int, int]] = {engine: {} for engine in self.engines()}
        oldest: dict[str, int] = {}
        for engine, status, count, first_created in rows:
            counts.setdefault(engine, {})[status] = int(count)
            if status == 1:
                oldest[engine] = int(first_created)
        return [
            QueueStat(
                engine=engine,
                queued=by_status.get(1, 0),
                running=by_status.get(2, 0),
                oldest_queued_seconds=(max(0, now - oldest[engine]) / 1000) if engine in oldest else None,
            )
            for engine, by_status in sorted(counts.items())
        ]

    def workers(self) -> list[WorkerSeen]:
        """The live workers, by host and pid, each with the task it holds."""
        now = now_ms()
        with self.db.read() as session:
            rows = session.scalars(
                select(Worker)
                .where(Worker.last_seen >= now - LIVE_BEATS * self.heartbeat_ms)
                .order_by(Worker.host, Worker.pid)
            ).all()
            running: dict[str, str] = {}
            if rows:
                held = session.execute(
                    select(Task.lease_owner, Task.id).where(
                        Task.status == 2, Task.deleted.is_(False), Task.lease_owner.in_([row.id for row in rows])
                    )
                ).all()
                running = {str(owner): task_id for owner, task_id in held}
        return [
            WorkerSeen(
                id=row.id,
                host=row.host,
                pid=row.pid,
                engines=list(row.engines),
                running_task=running.get(row.id),
                last_seen_seconds=max(0, now - row.last_seen) / 1000,
            )
            for row in rows
        ]

    def live_workers_by_engine(self) -> dict[str, int]:
        """How many live workers run each engine (the known engines at 0 when none does)."""
        counts = {engine: 0 for engine in self.engines()}
        for worker in self.workers():
            for engine in worker.engines:
                counts[engine] = counts.get(engine, 0) + 1
        return counts

    def failures_last_day(self) -> list[FailureCount]:
        """The reasons tasks failed for in the last 24 hours, as their teams read them, the most
        frequent first."""
        since = now_ms() - DAY_MS
        count = func.count().label("count")
        with self.db.read() as session:
            rows = session.execute(
                select(Task.fail_reason, Task.product, count)
                .where(Task.status == 4, Task.update_time >= since)
                .group_by(Task.fail_reason, Task.product)
                .order_by(count.desc(), Task.product, Task.fail_reason)
                .limit(FAILURE_REASONS_SHOWN)
            ).all()
        return [FailureCount(reason=reason or "", count=int(n), product=product) for reason, product, n in rows]

    def credits(self) -> CreditTotals:
        """Credits charged (at creation) and refunded, in the last 24 hours and in all. A refund
        is dated by its task's last change (its failure, or its deletion while queued)."""
        since = now_ms() - DAY_MS
        refunded = case((Task.refunded.is_(True), Task.credits_charged), else_=0)
        with self.db.read() as session:
            charged_total, refunded_total, charged_day, refunded_day = session.execute(
                select(
                    func.coalesce(func.sum(Task.credits_charged), 0),
                    func.coalesce(func.sum(refunded), 0),
                    func.coalesce(func.sum(case((Task.create_time >= since, Task.credits_charged), else_=0)), 0),
                    func.coalesce(func.sum(case((Task.update_time >= since, refunded), else_=0)), 0),
                )
            ).one()
        return CreditTotals(
            charged_last_day=int(charged_day),
            refunded_last_day=int(refunded_day),
            charged_total=int(charged_total),
            refunded_total=int(refunded_total),
        )

    def tasks_last_day(self) -> TaskCounts:
        """Tasks created, completed and failed in the last 24 hours (deleted ones included)."""
        since = now_ms() - DAY_MS
        recent_end = Task.update_time >= since
        with self.db.read() as session:
            created, completed, failed = session.execute(
                select(
                    func.coalesce(func.sum(case((Task.create_time >= since, 1), else_=0)), 0),
                    func.coalesce(func.sum(case(((Task.status == 3) & recent_end, 1), else_=0)), 0),
                    func.coalesce(func.sum(case(((Task.status == 4) & recent_end, 1), else_=0)), 0),
                )
            ).one()
        return TaskCounts(created=int(created), completed=int(completed), failed=int(failed))


@dataclass
class WorkerPresence:
    """A worker's own row in the workers table (``id`` is the owner name it claims tasks as)."""

    db: Database
    id: str
    host: str
    pid: int
    engines: list[str]

    def beat(self) -> None:
        """Say this worker is alive now (its row is made on the first beat); prune the rows of
        workers long gone."""
        now = now_ms()
        with self.db.write() as session:
            done = session.execute(update(Worker).where(Worker.id == self.id).values(last_seen=now))
            if rows_changed(done) == 0:
                session.add(
                    Worker(
                        id=self.id,
                        host=self.host,
                        pid=self.pid,
                        engines=list(self.engines),
                        started_at=now,
                        last_seen=now,
                    )
                )
            session.execute(delete(Worker).where(Worker.last_seen < now - PRUNE_AFTER_MS))

    def leave(self) -> None:
        """This worker stops: its row goes."""
        with self.db.write() as session:
            session.execute(delete(Worker).where(Worker.id == self.id))
