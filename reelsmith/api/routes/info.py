"""``infobymodelid``: a task's status and result, for every product. It is the endpoint
clients poll, so besides its FastAPI declaration (which /docs shows) it has a lean ASGI
handler that :class:`reelsmith.api.app.FastPaths` runs ahead of FastAPI's routing and
middleware. Both answer through :func:`info_answer`, so they cannot drift apart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from reelsmith.api.auth import CallerDep, RuntimeDep
from reelsmith.api.envelope import fail, ok
from reelsmith.api.presenters import presenter_for
from reelsmith.errors import ApiError, Code
from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller

INFO_PATH = "/api/open/v3/content/video/infobymodelid"

router = APIRouter(tags=["Video Translation"])


def info_answer(runtime: Runtime, request: Request, caller: Caller, video_model_id: str | None) -> JSONResponse:
    if not video_model_id:
        raise ApiError(Code.PARAMETER, "video_model_id is required")
    task = runtime.tasks.get(caller, video_model_id)
    return ok(presenter_for(runtime, request, caller).info(task))


@router.get(INFO_PATH, summary="A task's status and result (Character Swap, Video Translation, Image to Video)")
async def info_by_model_id(
    request: Request,
    caller: CallerDep,
    runtime: RuntimeDep,
    video_model_id: Annotated[str, Query(description="The _id from a create answer")],
) -> JSONResponse:
    return info_answer(runtime, request, caller, video_model_id)


class InfoEndpoint:
    """The same answer as :func:`info_by_model_id`, as a bare ASGI app."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            caller = self.runtime.accounts.authenticate(
                request.headers.get("x-api-key"), request.headers.get("authorization")
            )
            response = info_answer(self.runtime, request, caller, request.query_params.get("video_model_id"))
        except ApiError as exc:
            response = fail(exc.code, exc.msg)
        await response(scope, receive, send)
