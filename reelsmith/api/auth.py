"""Who is calling: ``Authorization: Bearer <token>`` first, else ``x-api-key``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller


# Both dependencies are ``async`` so that FastAPI runs them on the event loop instead of a
# thread hop each; authentication is a cache hit or one primary-key read.
async def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def current_caller(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="Your API key")] = None,
    authorization: Annotated[str | None, Header(description="Bearer <token from getToken>")] = None,
) -> Caller:
    runtime: Runtime = request.app.state.runtime
    return runtime.accounts.authenticate(x_api_key, authorization)


CallerDep = Annotated[Caller, Depends(current_caller)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
