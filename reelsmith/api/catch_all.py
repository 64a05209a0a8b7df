"""The last line: an error nobody handled becomes HTTP 200 with code 1015 and a request id,
never a 500 with a traceback, and the connection stays usable.

FastAPI's own error middleware answers an unhandled exception and then raises it again for the
server to log; uvicorn then closes the keep-alive connection, which resets the client's next
request. Here the exception is logged once, with the request id the answer names, and
swallowed. A full disk says so: it is the one internal cause a client can act on (later).
"""

from __future__ import annotations

import json
import logging
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelsmith.errors import is_disk_full
from reelsmith.telemetry.logs import current_request_id

log = logging.getLogger("reelsmith.api")

STORAGE_FULL = "the server's storage is full; try again later"


def request_id_of(exc: BaseException) -> str:
    """The id that the answer and the log line about ``exc`` share (made on first ask)."""
    for note in getattr(exc, "__notes__", ()):
        if note.startswith("request "):
            return str(note).removeprefix("request ")
    # The id of the request being served (api/request_ids.py), which its log lines carry too.
    request_id = current_request_id() or uuid.uuid4().hex[:12]
    exc.add_note(f"request {request_id}")
    return request_id


def failure_message(exc: BaseException, request_id: str) -> str:
    """What a client reads about an unhandled error: the cause where it can act on it, else a
    request id to give the operator."""
    if is_disk_full(exc):
        return STORAGE_FULL
    return f"internal error (request {request_id}); the server's log has the details"


class CatchAll:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            request_id = request_id_of(exc)
            log.exception("request %s: %s %s failed", request_id, scope.get("method"), scope.get("path"))
            if started:  # the answer (FastAPI's handler's) is out already
                return
            body = json.dumps({"code": 1015, "msg": failure_message(exc, request_id)}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
