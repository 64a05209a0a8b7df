"""Who is calling: ``Authorization: Bearer <token>`` first, else ``x-api-key``; and, for the
requests that are rate-limited, whether the team is within its rate (1005) and, for those that
store files, whether the disk has room (1015)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from reelsmith.errors import ApiError, Code
from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller
from reelsmith.services.disk_room import short_of_room
from reelsmith.services.rate_limits import Limited


# The dependencies are ``async`` so that FastAPI runs them on the event loop instead of a
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


def require_room(runtime: Runtime) -> None:
    """Refuse (1015) while the disk that files go to is nearly full."""
    room = short_of_room(runtime.settings)
    if room is not None:
        raise ApiError(Code.CREATE_FAILED, f"the server's storage is nearly full ({room.describe()}); try again later")


def _counted(kind: Limited, stores_files: bool) -> Callable[..., Awaitable[Caller]]:
    async def caller_within_rate(request: Request, caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        runtime: Runtime = request.app.state.runtime
        runtime.rate_limits.check(caller.team_id, kind)
        if stores_files:
            require_room(runtime)
        return caller

    return caller_within_rate


CallerDep = Annotated[Caller, Depends(current_caller)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
# The caller of a rate-limited request, counted against its team's rate.
CreatorDep = Annotated[Caller, Depends(_counted(Limited.CREATE, stores_files=True))]
UploaderDep = Annotated[Caller, Depends(_counted(Limited.UPLOAD, stores_files=True))]
PollerDep = Annotated[Caller, Depends(_counted(Limited.POLL, stores_files=False))]
# A quote fetches the inputs to its scratch folder, so it needs room like a create.
QuoterDep = Annotated[Caller, Depends(_counted(Limited.QUOTE, stores_files=True))]
RedelivererDep = Annotated[Caller, Depends(_counted(Limited.REDELIVER, stores_files=False))]
