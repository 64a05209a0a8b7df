"""A team's own tasks, newest first, a page at a time: what the web console lists (Akool has
no such endpoint; ours is ``GET /api/reelsmith/v1/tasks``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from reelsmith.services.accounts import Caller
from reelsmith.store.db import Database
from reelsmith.store.models import Task, TaskRecord

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class TaskPage:
    """One page of a team's tasks, and how many it has in all."""

    tasks: list[TaskRecord]
    total: int
    page: int
    size: int


def list_tasks(db: Database, caller: Caller, page: int = 1, size: int = 20) -> TaskPage:
    """The caller's team's tasks (deleted ones left out), newest first: page ``page`` (from 1)
    of ``size`` tasks (1 to :data:`MAX_PAGE_SIZE`)."""
    if page < 1:
        raise ValueError("page must be at least 1")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"size must be between 1 and {MAX_PAGE_SIZE}")
    mine = (Task.account_id == caller.account_id, Task.deleted.is_(False))
    rows = db.read_all(
        select(Task.__table__)
        .where(*mine)
        # Ties in the millisecond are broken by the id, so that pages never overlap or skip.
        .order_by(Task.create_time.desc(), Task.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    counted = db.read_first(select(func.count()).select_from(Task).where(*mine))
    total = int(counted[0]) if counted is not None else 0
    return TaskPage([TaskRecord.from_row(row) for row in rows], total, page, size)
