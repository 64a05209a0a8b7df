"""Which database and broker the tests run on.

By default the embedded mode: SQLite in each test's data folder, no broker. With
``REELSMITH_TEST_SCALEOUT=1`` the same tests run in the scale-out mode instead: PostgreSQL and
Celery on Redis, the servers the development and CI machines run on loopback
(``REELSMITH_TEST_POSTGRES_URL`` and ``REELSMITH_TEST_REDIS_URL`` point elsewhere). Each test
session gets its own database and its own queue namespace, so runs on one machine never meet.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("REELSMITH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REELSMITH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SCALEOUT = os.environ.get("REELSMITH_TEST_SCALEOUT") == "1"

# The backend of this test session when SCALEOUT (set by conftest's session fixture).
ACTIVE: ScaleoutBackend | None = None


def settings_overrides() -> dict[str, str]:
    """What puts a test's settings on this session's backend (nothing in embedded mode)."""
    return ACTIVE.settings() if ACTIVE else {}


def environment() -> dict[str, str]:
    """The same for a reelsmith command started as a process."""
    return ACTIVE.environment() if ACTIVE else {}


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc.__class__.__name__})"
    return None


def redis_problem() -> str | None:
    """Why Redis cannot be used, or None when it can."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as exc:
        return f"Redis is not reachable at {REDIS_URL} ({exc.__class__.__name__})"
    return None


@dataclass
class ScaleoutBackend:
    """A fresh PostgreSQL database and a fresh queue namespace on Redis."""

    database_url: str
    broker_url: str
    namespace: str

    @classmethod
    def create(cls) -> ScaleoutBackend:
        name = f"reelsmith_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        return cls(url, REDIS_URL, name)

    def settings(self) -> dict[str, str]:
        """The settings (as keyword overrides) that put a test on this backend."""
        return {"database_url": self.database_url, "broker_url": self.broker_url, "broker_namespace": self.namespace}

    def environment(self) -> dict[str, str]:
        """The same, as a command's environment."""
        return {f"REELSMITH_{name.upper()}": value for name, value in self.settings().items()}

    def empty(self) -> None:
        """Remove every row and every queued message, between tests."""
        engine = create_engine(self.database_url)
        with engine.begin() as connection:
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            ).scalars()
            names = ", ".join(f'"{table}"' for table in tables)
            if names:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        self._purge_queues()

    def _purge_queues(self) -> None:
        client = redis.Redis.from_url(self.broker_url)
        keys = [*client.scan_iter(f"{self.namespace}*"), *client.scan_iter(f"_kombu.binding.{self.namespace}*")]
        if keys:
            client.delete(*keys)

    def drop(self) -> None:
        self._purge_queues()
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.namespace}" WITH (FORCE)'))
        admin.dispose()
