"""Log records that say which request and which task they belong to, as text or JSON lines.

The request id is made (or taken from the client's ``x-request-id``) by the API for each
request and kept in a context variable while the request runs; a task stores the id of the
request that created it, and its worker puts both back in context while it runs the task, so
one id leads from the create request to every line its task logged, in whichever process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(name)s %(message)s"

_request_id: ContextVar[str | None] = ContextVar("reelsmith_request_id", default=None)
_task_id: ContextVar[str | None] = ContextVar("reelsmith_task_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served (or of the request that created the task being run)."""
    return _request_id.get()


def enter_request(request_id: str) -> Token[str | None]:
    """Log records made from now on in this context carry ``request_id``, until
    :func:`leave_request` (a plain pair rather than a context manager: it runs on every request)."""
    return _request_id.set(request_id)


def leave_request(token: Token[str | None]) -> None:
    _request_id.reset(token)


@contextmanager
def task_context(task_id: str, request_id: str | None) -> Iterator[None]:
    """Log records made inside carry the task's id and the id of the request that created it."""
    task_token = _task_id.set(task_id)
    request_token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(request_token)
        _task_id.reset(task_token)


class ContextFilter(logging.Filter):
    """Puts ``request_id`` and ``task_id`` (None outside a request or a task) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.task_id = _task_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, pid, message, and
    ``request_id``, ``task_id`` and ``exception`` where there are any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for name in ("request_id", "task_id"):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(log_format: LogFormat) -> None:
    """This process logs INFO and above to stderr, as text or as JSON lines, each record
    carrying its request and task ids. Replaces the root logger's handlers, so calling it again
    (a child process, a second command) never doubles lines."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
