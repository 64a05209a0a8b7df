"""Who is calling: ``Authorization: Bearer <token>`` first, else ``x-api-key``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def current_caller(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="Your API key")] = None,
    authorization: Annotated[str | None, Header(description="Bearer <token from getToken>")] = None,
) -> Caller:
    return runtime_of(request).accounts.authenticate(x_api_key, authorization)


CallerDep = Annotated[Caller, Depends(current_caller)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
