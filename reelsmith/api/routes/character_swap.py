"""Character Swap create (API.md section 3); its results come from routes/info.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelsmith.api.auth import CreatorDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import base_url_of, presenter_for
from reelsmith.api.schemas import CharacterSwapRequest
from reelsmith.services.character_swap import CharacterSwapOrder, create_character_swap

router = APIRouter(tags=["Character Swap"])


@router.post("/api/open/v4/characterSwap/create", summary="Create a Character Swap video")
async def create(body: CharacterSwapRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep) -> JSONResponse:
    task = await create_character_swap(
        runtime, caller, CharacterSwapOrder(**body.model_dump()), base_url_of(runtime, request)
    )
    return ok(presenter_for(runtime, request, caller).character_swap_created(task))
