"""The tables: accounts (teams) and tasks. The task table is the truth about every task."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from reelsmith.store.ids import new_object_id, now_ms


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A team: credentials, plan, credit balance."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(24), unique=True, default=new_object_id)
    name: Mapped[str] = mapped_column(String(200), default="")
    client_id: Mapped[str] = mapped_column(String(16), unique=True)
    # SHA-256 of the key, for look-up; the key itself is never stored in clear.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key encrypted with the server secret: webhook payloads are encrypted with the raw key
    # (API.md section 6), so it must be recoverable by the server and by nobody else.
    key_encrypted: Mapped[str] = mapped_column(Text)
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    plan: Mapped[str] = mapped_column(String(16), default="free")
    credit: Mapped[int] = mapped_column(BigInteger, default=0)
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    create_time: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class Task(Base):
    """One asynchronous job of any product. Product fields live in ``params`` and ``result``."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_object_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    product: Mapped[str] = mapped_column(String(32))
    engine: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=1)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fail_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    credits_charged: Mapped[int] = mapped_column(Integer, default=0)
    refunded: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_url: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[str | None] = mapped_column(String(24), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    create_time: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    update_time: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    # Leases: a worker owns a task until lease_expires; a dead worker's task is taken again.
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the task was last published to the broker (scale-out); the dispatch reaper publishes
    # again what a broker may have lost.
    dispatched_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        Index("ix_tasks_claim", "status", "engine", "create_time"),
        # A team's tasks, newest first (GET /api/reelsmith/v1/tasks): a page is read off the
        # index instead of sorting all of a busy team's tasks.
        Index("ix_tasks_account_created", "account_id", "create_time"),
    )


class Delivery(Base):
    """One webhook delivery in the outbox: written in the same transaction as the task's status
    change, then sent (and retried) by the webhook sender."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(24), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    url: Mapped[str] = mapped_column(Text)
    event: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending -> delivered | dead
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the next attempt is due; while an attempt is in flight, when its claim runs out.
    next_attempt_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    __table_args__ = (Index("ix_deliveries_due", "state", "next_attempt_at"),)


class Worker(Base):
    """A live worker: each writes its own row every few seconds (``last_seen``) and deletes it
    when it stops; a killed one's row is left to go stale. What it runs is in the task table
    (``Task.lease_owner`` is this id)."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    engines: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    last_seen: Mapped[int] = mapped_column(BigInteger, default=now_ms, index=True)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task as read: a plain, immutable copy of one row, cheap to build on the poll path."""

    id: str
    account_id: int
    product: str
    engine: str
    status: int
    progress: int
    params: Mapping[str, object]
    result: dict[str, Any]
    fail_reason: str | None
    error_code: int | None
    credits_charged: int
    refunded: bool
    webhook_url: str
    batch_id: str | None
    deleted: bool
    create_time: int
    update_time: int
    lease_owner: str | None
    lease_expires: int | None
    attempts: int
    dispatched_at: int | None

    @classmethod
    def from_row(cls, row: Any) -> TaskRecord:
        """From a Core row of the tasks table or an ORM ``Task``."""
        mapping = row._mapping if hasattr(row, "_mapping") else {f: getattr(row, f) for f in _TASK_FIELDS}
        return cls(**mapping)

    @classmethod
    def from_raw(cls, values: tuple[Any, ...]) -> TaskRecord:
        """From a DB-API tuple in table column order (which is this class's field order),
        converting what drivers leave raw: JSON text (SQLite) and 0/1 booleans."""
        fields = list(values)
        for index in _JSON_FIELDS:
            if isinstance(fields[index], str | bytes):
                fields[index] = json.loads(fields[index])
        for index in _BOOL_FIELDS:
            fields[index] = bool(fields[index])
        return cls(*fields)


_TASK_FIELDS = tuple(TaskRecord.__dataclass_fields__)
_JSON_FIELDS = (_TASK_FIELDS.index("params"), _TASK_FIELDS.index("result"))
_BOOL_FIELDS = (_TASK_FIELDS.index("refunded"), _TASK_FIELDS.index("deleted"))
assert _TASK_FIELDS == tuple(column.name for column in Task.__table__.columns), "TaskRecord must mirror the table"


# What the task table keeps in ``params`` beside the product's own fields (reelsmith/products).
def task_inputs(params: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """The task's input files by name, as stored (``StoredFile.to_json``)."""
    value = params.get("inputs")
    return dict(value) if isinstance(value, dict) else {}


def task_base_url(params: Mapping[str, object]) -> str:
    """Where the task's creator reached us: its webhooks link results from there."""
    value = params.get("base_url")
    return value if isinstance(value, str) else ""


def task_request_id(params: Mapping[str, object]) -> str | None:
    """The id of the HTTP request that created the task: its worker's log lines carry it."""
    value = params.get("request_id")
    return value if isinstance(value, str) else None
