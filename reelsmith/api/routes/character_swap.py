"""Character Swap create (API.md section 3); its results come from routes/info.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelsmith.api.auth import CreatorDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import base_url_of, presenter_for
from reelsmith.products import character_swap as product
from reelsmith.products.character_swap import CharacterSwapRequest
from reelsmith.services.character_swap import CharacterSwapService

router = APIRouter(tags=["Character Swap"])


@router.post("/api/open/v4/characterSwap/create", summary="Create a Character Swap video")
async def create(body: CharacterSwapRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep) -> JSONResponse:
    task = await runtime.service(CharacterSwapService).create(caller, body, base_url_of(runtime, request))
    return ok(product.created_view(task, presenter_for(runtime, request, caller).owner))
