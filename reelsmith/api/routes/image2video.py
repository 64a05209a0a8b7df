"""Image to Video: create, batch, results, effects, new audio, delete, models (API.md section 5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from reelsmith.api.auth import CallerDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import base_url_of, presenter_for
from reelsmith.api.schemas import IdsRequest, Image2VideoBatchRequest, Image2VideoRequest, UpdateVideoAudioRequest
from reelsmith.services.image2video import AudioOrder, Image2VideoOrder, create_audio_update, create_image2video

router = APIRouter(tags=["Image to Video"])
PRODUCT = "image2video"


@router.post("/api/open/v4/image2Video/createBySourcePrompt", summary="Create a video from one image")
async def create(body: Image2VideoRequest, request: Request, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    [task] = await create_image2video(
        runtime, caller, Image2VideoOrder(**body.model_dump()), base_url=base_url_of(runtime, request)
    )
    return ok(presenter_for(runtime, request, caller).image2video_created(task))


@router.post("/api/open/v4/image2Video/createBySourcePrompt/batch", summary="Create several variations")
async def create_batch(
    body: Image2VideoBatchRequest, request: Request, caller: CallerDep, runtime: RuntimeDep
) -> JSONResponse:
    tasks = await create_image2video(
        runtime, caller, Image2VideoOrder(**body.model_dump()), batch=True, base_url=base_url_of(runtime, request)
    )
    present = presenter_for(runtime, request, caller)
    return ok({"successList": [present.image2video_created(t) for t in tasks], "errorList": []})


@router.post("/api/open/v4/image2Video/resultsByIds", summary="Status and results of several tasks")
def results_by_ids(body: IdsRequest, request: Request, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    present = presenter_for(runtime, request, caller)
    tasks = runtime.tasks.get_many(caller, body.ids, product=PRODUCT)
    return ok({"result": [present.image2video_result(t) for t in tasks]})


@router.get("/api/open/v4/image2Video/effects", summary="The installed effects")
def effects(caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    result = runtime.registry.catalog("effects")
    return ok({"result": result, "count": len(result)})


@router.post("/api/open/v4/image2Video/updateVideoAudio", summary="Put new audio on a finished video")
async def update_video_audio(
    body: UpdateVideoAudioRequest, request: Request, caller: CallerDep, runtime: RuntimeDep
) -> JSONResponse:
    task = await create_audio_update(runtime, caller, AudioOrder(**body.model_dump()), base_url_of(runtime, request))
    return ok(presenter_for(runtime, request, caller).image2video_created(task))


@router.post("/api/open/v4/image2Video/delbyids", summary="Delete tasks and their files")
def delete_by_ids(body: IdsRequest, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    deleted, refused = runtime.tasks.delete(caller, body.ids, product=PRODUCT)
    return ok({"successIds": deleted, "noPermissionItems": refused})


@router.get("/api/open/v4/aigModel/list", summary="The installed video models")
def model_list(
    caller: CallerDep,
    runtime: RuntimeDep,
    types: Annotated[list[str] | None, Query(alias="types[]", description="1501 = image to video")] = None,
) -> JSONResponse:
    return ok(runtime.registry.catalog("models"))
