"""Every request gets an id: the client's ``x-request-id`` when it sends a sane one (a proxy's),
else a new one. It is answered in ``x-request-id``, named in the message of an internal error,
carried by every log record made while the request is served, and stored on the tasks the
request creates, whose workers' log records carry it too (docs/metrics.md)."""

from __future__ import annotations

import random
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelsmith.telemetry.logs import enter_request, leave_request

HEADER = b"x-request-id"
# What a client's id may look like: short, and nothing that could forge a log line.
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def new_request_id() -> str:
    """A fresh id: 12 hex digits (unique enough to find lines by, not a secret: no system call)."""
    return f"{random.getrandbits(48):012x}"


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _from_client(scope["headers"]) or new_request_id()
        header = (HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = enter_request(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            leave_request(token)


def _from_client(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == HEADER:
            return value.decode("ascii") if _SANE.fullmatch(value) else None
    return None
