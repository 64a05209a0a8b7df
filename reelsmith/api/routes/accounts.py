"""getToken and quota/info (API.md section 2)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from reelsmith.api.auth import CallerDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.schemas import TokenRequest

router = APIRouter(tags=["Authentication"])


@router.post("/api/open/v3/getToken", summary="Exchange clientId + clientSecret for a token")
async def get_token(body: TokenRequest, runtime: RuntimeDep) -> JSONResponse:
    """The token is at the top level, not inside ``data`` (as Akool answers)."""
    token = await asyncio.to_thread(runtime.accounts.issue_token, body.clientId, body.clientSecret)
    return ok(token=token)


@router.get("/api/open/v3/faceswap/quota/info", summary="Credit balance")
def quota_info(caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    return ok({"credit": runtime.accounts.balance(caller.account_id)})
