"""Image to Video: create, batch, results, effects, new audio, delete, models (API.md section 5)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from reelsmith.api.auth import CallerDep, CreatorDep, PollerDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import PUBLIC_ASSET_HEADERS, base_url_of, presenter_for, with_base_url
from reelsmith.api.schemas import IdsRequest, Image2VideoBatchRequest, Image2VideoRequest, UpdateVideoAudioRequest
from reelsmith.pipelines.base import EngineUnavailable
from reelsmith.services.image2video import AudioOrder, Image2VideoOrder, create_audio_update, create_image2video

router = APIRouter(tags=["Image to Video"])
PRODUCT = "image2video"
ENGINE = "image2video"


@router.post("/api/open/v4/image2Video/createBySourcePrompt", summary="Create a video from one image")
async def create(body: Image2VideoRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep) -> JSONResponse:
    [task] = await create_image2video(
        runtime, caller, Image2VideoOrder(**body.model_dump()), base_url=base_url_of(runtime, request)
    )
    return ok(presenter_for(runtime, request, caller).image2video_created(task))


@router.post("/api/open/v4/image2Video/createBySourcePrompt/batch", summary="Create several variations")
async def create_batch(
    body: Image2VideoBatchRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep
) -> JSONResponse:
    tasks = await create_image2video(
        runtime, caller, Image2VideoOrder(**body.model_dump()), batch=True, base_url=base_url_of(runtime, request)
    )
    present = presenter_for(runtime, request, caller)
    return ok({"successList": [present.image2video_created(t) for t in tasks], "errorList": []})


@router.post("/api/open/v4/image2Video/resultsByIds", summary="Status and results of several tasks")
def results_by_ids(body: IdsRequest, request: Request, caller: PollerDep, runtime: RuntimeDep) -> JSONResponse:
    present = presenter_for(runtime, request, caller)
    tasks = runtime.tasks.get_many(caller, body.ids, product=PRODUCT)
    return ok({"result": [present.image2video_result(t) for t in tasks]})


@router.get("/api/open/v4/image2Video/effects", summary="The installed effects")
def effects(request: Request, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    base_url = base_url_of(runtime, request)
    result = [with_base_url(effect, base_url) for effect in runtime.registry.catalog("effects")]
    return ok({"result": result, "count": len(result)})


@router.get(
    "/api/reelsmith/v1/effects/{code}/{name}",
    summary="An effect's thumbnail (thumbnail.jpg) or preview clip (preview.mp4), made from a sample picture",
    tags=["reelsmith extensions"],
)
async def effect_preview(code: str, name: str, runtime: RuntimeDep) -> Response:
    if name not in ("thumbnail.jpg", "preview.mp4"):
        return JSONResponse({"code": 404, "msg": "no such preview"}, status_code=404)
    try:
        pipeline = runtime.registry.load(ENGINE)
        clip, thumbnail = await asyncio.to_thread(
            pipeline.render_preview,
            code,
            runtime.settings.data_dir / "previews",  # type: ignore[attr-defined]
        )
    except (EngineUnavailable, KeyError, AttributeError):
        return JSONResponse({"code": 404, "msg": f"no effect {code!r}"}, status_code=404)
    if name == "preview.mp4":
        return FileResponse(clip, media_type="video/mp4", headers=PUBLIC_ASSET_HEADERS)
    return FileResponse(thumbnail, media_type="image/jpeg", headers=PUBLIC_ASSET_HEADERS)


@router.post("/api/open/v4/image2Video/updateVideoAudio", summary="Put new audio on a finished video")
async def update_video_audio(
    body: UpdateVideoAudioRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep
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
