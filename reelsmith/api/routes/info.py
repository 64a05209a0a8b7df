"""``infobymodelid``: a task's status and result, for every product. It is the endpoint
clients poll, so besides its FastAPI declaration (which /docs shows) it has a bare ASGI
handler that :class:`reelsmith.api.app.FastPaths` runs ahead of FastAPI's routing and
middleware. Both answer through :func:`info_body`, so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import unquote_plus

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from reelsmith.api.auth import PollerDep, RuntimeDep
from reelsmith.api.envelope import success_body
from reelsmith.api.presenters import Presenter
from reelsmith.errors import ApiError, Code
from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller
from reelsmith.services.rate_limits import Limited

INFO_PATH = "/api/open/v3/content/video/infobymodelid"

router = APIRouter(tags=["Video Translation"])


def info_body(
    runtime: Runtime, caller: Caller, video_model_id: str | None, base_url: Callable[[], str]
) -> dict[str, Any]:
    """The whole answer for one poll (the envelope included)."""
    if not video_model_id:
        raise ApiError(Code.PARAMETER, "video_model_id is required")
    task = runtime.tasks.get(caller, video_model_id)
    presenter = Presenter(runtime.signer, lambda: runtime.settings.public_url or base_url(), caller)
    return success_body(presenter.info(task))


@router.get(INFO_PATH, summary="A task's status and result (Character Swap, Video Translation, Image to Video)")
async def info_by_model_id(
    request: Request,
    caller: PollerDep,
    runtime: RuntimeDep,
    video_model_id: Annotated[str, Query(description="The _id from a create answer")],
) -> JSONResponse:
    return JSONResponse(info_body(runtime, caller, video_model_id, lambda: str(request.base_url)))


class InfoEndpoint:
    """The same answer as :func:`info_by_model_id`, as a bare ASGI app: headers and query are
    read straight from the scope, and the JSON is encoded by orjson (a third of the cost of the
    standard library's encoder) and sent as bytes."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(reversed(scope["headers"]))  # the first of repeated headers, as Starlette
        try:
            caller = self.runtime.accounts.authenticate(
                _text(headers.get(b"x-api-key")), _text(headers.get(b"authorization"))
            )
            self.runtime.rate_limits.check(caller.team_id, Limited.POLL)
            video_model_id = _video_model_id(scope["query_string"])
            body = info_body(self.runtime, caller, video_model_id, lambda: str(Request(scope).base_url))
        except ApiError as exc:
            body = {"code": int(exc.code), "msg": exc.msg}
        payload = orjson.dumps(body)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _video_model_id(query: bytes) -> str | None:
    """The last ``video_model_id`` in the query string, as Starlette reads it for the
    FastAPI route (parse_qsl costs more than the rest of this handler's parsing together)."""
    found: str | None = None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"video_model_id":
            text = value.decode("latin-1")
            found = unquote_plus(text) if "%" in text or "+" in text else text
    return found


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None
