"""Engine and sessions. SQLite runs in WAL mode; writes take the lock up front."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ClauseElement,
    Connection,
    CursorResult,
    Dialect,
    Engine,
    Executable,
    Result,
    Row,
    create_engine,
    event,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

log = logging.getLogger("reelsmith.store")


class Database:
    """One engine per process, a read session and a write session."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8)
            _configure_sqlite(self.engine)
            # BEGIN IMMEDIATE takes the write lock at the start, so two writers never both
            # read and then fail to upgrade their lock (SQLITE_BUSY without waiting).
            writer: Engine = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            writer = self.engine
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(writer, expire_on_commit=False)
        # Hot single-statement reads (auth, polls) run on one long-lived autocommit connection
        # per thread: no pool checkout and no BEGIN/ROLLBACK per request, and every statement
        # still sees the latest committed data.
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT", sqlite_begin=None)
        self._local = threading.local()
        self._plans: dict[ClauseElement, _RawPlan] = {}

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error."""
        with self._write() as session, session.begin():
            yield session

    def _read_connection(self) -> Connection:
        local = self._local
        connection: Connection | None = getattr(local, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            connection = local.connection = self._autocommit.connect()
            local.cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        return connection

    def read_first(self, statement: Executable, params: dict[str, Any] | None = None) -> Row[Any] | None:
        """The first row of a read-only statement, on this thread's autocommit connection."""
        try:
            return self._read_connection().execute(statement, params or {}).first()
        except DBAPIError:
            self._local.connection = None  # a dropped connection is replaced on the next read
            raise

    def read_raw(self, statement: ClauseElement, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of a hot read-only statement as a plain DB-API tuple.

        The statement is compiled once for this database and run on a cursor kept open on this
        thread's autocommit connection, skipping SQLAlchemy's per-execution work (about three
        quarters of a poll's database time). Values come back as the driver gives them, so
        the caller converts types (JSON text on SQLite, integers for booleans)."""
        plan = self._plans.get(statement)
        if plan is None:
            plan = self._plans[statement] = _RawPlan.compile(statement, self.engine.dialect)
        try:
            self._read_connection()
            cursor = self._local.cursor
            cursor.execute(plan.sql, plan.arguments(params))
            return cursor.fetchone()
        except self.engine.dialect.loaded_dbapi.Error:
            self._local.connection = None
            raise

    def read_all(self, statement: Executable, params: dict[str, Any] | None = None) -> list[Row[Any]]:
        try:
            return list(self._read_connection().execute(statement, params or {}))
        except DBAPIError:
            self._local.connection = None
            raise

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self.url)
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class _RawPlan:
    """A statement compiled for one dialect: its SQL and how to lay out its parameters."""

    sql: str
    defaults: dict[str, Any]
    positions: tuple[str, ...] | None

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect) -> _RawPlan:
        compiled = cast("SQLCompiler", statement.compile(dialect=dialect))
        positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        return cls(compiled.string, dict(compiled.params), positions)

    def arguments(self, params: dict[str, Any]) -> Any:
        values = {**self.defaults, **params}
        return [values[name] for name in self.positions] if self.positions is not None else values


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own is lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Reads come from the memory-mapped file instead of a read() per page.
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        begin = connection.get_execution_options().get("sqlite_begin", "BEGIN")
        if begin:
            connection.exec_driver_sql(begin)


_ON_COMMIT = "reelsmith.on_commit"


def on_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once ``session``'s transaction has committed, never if it rolls back:
    what counts the transaction's work (metrics) counts only work that happened."""
    session.info.setdefault(_ON_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for action in session.info.pop(_ON_COMMIT, ()):
        try:
            action()
        except Exception:  # counting must never undo or hide a commit that happened
            log.exception("an after-commit action failed")


@event.listens_for(Session, "after_rollback")
def _forget_on_commit(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (``Session.execute`` is typed loosely: it is a
    ``CursorResult`` for these)."""
    return cast("CursorResult[Any]", result).rowcount
