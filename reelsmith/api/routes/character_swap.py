"""Character Swap create, and infobymodelid, which serves every product's task."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from reelsmith.api.auth import CallerDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import presenter_for
from reelsmith.api.schemas import CharacterSwapRequest
from reelsmith.services.character_swap import CharacterSwapOrder, create_character_swap

router = APIRouter(tags=["Character Swap"])


@router.post("/api/open/v4/characterSwap/create", summary="Create a Character Swap video")
async def create(body: CharacterSwapRequest, request: Request, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    task = await create_character_swap(runtime, caller, CharacterSwapOrder(**body.model_dump()))
    return ok(presenter_for(request, caller).character_swap_created(task))


@router.get(
    "/api/open/v3/content/video/infobymodelid",
    summary="A task's status and result (Character Swap, Video Translation)",
    tags=["Video Translation"],
)
async def info_by_model_id(
    request: Request,
    caller: CallerDep,
    runtime: RuntimeDep,
    video_model_id: Annotated[str, Query(description="The _id from a create answer")],
) -> JSONResponse:
    task = runtime.tasks.get(caller, video_model_id)
    return ok(presenter_for(request, caller).info(task))
