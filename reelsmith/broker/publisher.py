"""How a new task reaches a worker.

Embedded mode needs no message: workers claim straight from the task table. In scale-out mode
the API publishes each task to its engine's broker queue after the task is committed. A
failed publish is not an error for the client (the task is safely in the table); the dispatch
reaper publishes it again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import update

from reelsmith.settings import Settings
from reelsmith.store.db import Database
from reelsmith.store.models import Task, TaskRecord

log = logging.getLogger("reelsmith.dispatch")


class Publisher(Protocol):
    def publish(self, tasks: Sequence[TaskRecord]) -> None:
        """Tell workers about committed, queued tasks."""


class TablePublisher:
    """Embedded mode: workers poll the task table, so there is nothing to send."""

    def publish(self, tasks: Sequence[TaskRecord]) -> None:
        return None


class CeleryPublisher:
    """Scale-out mode: one Celery message per task on ``reelsmith.<engine>``."""

    def __init__(self, settings: Settings, db: Database) -> None:
        from reelsmith.broker.celery_app import make_celery

        self.app = make_celery(settings)
        self.settings = settings
        self.db = db

    def publish(self, tasks: Sequence[TaskRecord]) -> None:
        from reelsmith.broker.celery_app import RUN_TASK, queue_for

        for task in tasks:
            try:
                self.app.send_task(RUN_TASK, args=[task.id], queue=queue_for(self.settings, task.engine), retry=False)
            except Exception:
                log.exception("could not publish task %s; the reaper will publish it again", task.id)
                self._mark_unpublished(task.id)

    def _mark_unpublished(self, task_id: str) -> None:
        try:
            with self.db.write() as session:
                session.execute(update(Task).where(Task.id == task_id).values(dispatched_at=None))
        except Exception:
            log.exception("could not mark task %s unpublished", task_id)


def make_publisher(settings: Settings, db: Database) -> Publisher:
    return CeleryPublisher(settings, db) if settings.broker_url else TablePublisher()
