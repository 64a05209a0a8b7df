"""Image to Video: create, batch, results, effects, new audio, delete, models (API.md section 5)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from reelsmith.api.auth import CallerDep, CreatorDep, PollerDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import PUBLIC_ASSET_HEADERS, base_url_of, presenter_for
from reelsmith.api.schemas import IdsRequest
from reelsmith.products import image2video as product
from reelsmith.products.catalog import effect_view, model_view
from reelsmith.products.image2video import Image2VideoBatchRequest, Image2VideoRequest, UpdateVideoAudioRequest
from reelsmith.services.image2video import Image2VideoService

router = APIRouter(tags=["Image to Video"])


@router.post("/api/open/v4/image2Video/createBySourcePrompt", summary="Create a video from one image")
async def create(body: Image2VideoRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep) -> JSONResponse:
    [task] = await runtime.service(Image2VideoService).create(caller, body, base_url=base_url_of(runtime, request))
    return ok(product.created_view(task, presenter_for(runtime, request, caller).owner))


@router.post("/api/open/v4/image2Video/createBySourcePrompt/batch", summary="Create several variations")
async def create_batch(
    body: Image2VideoBatchRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep
) -> JSONResponse:
    tasks = await runtime.service(Image2VideoService).create(caller, body, base_url=base_url_of(runtime, request))
    owner = presenter_for(runtime, request, caller).owner
    return ok({"successList": [product.created_view(t, owner) for t in tasks], "errorList": []})


@router.post("/api/open/v4/image2Video/resultsByIds", summary="Status and results of several tasks")
def results_by_ids(body: IdsRequest, request: Request, caller: PollerDep, runtime: RuntimeDep) -> JSONResponse:
    present = presenter_for(runtime, request, caller)
    tasks = runtime.tasks.get_many(caller, body.ids, product=product.NAME)
    return ok({"result": [product.result_view(t, present.owner, present.link) for t in tasks]})


@router.get("/api/open/v4/image2Video/effects", summary="The installed effects")
def effects(request: Request, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    base_url = base_url_of(runtime, request)
    result = [effect_view(effect, base_url) for effect in runtime.registry.catalog().effects]
    return ok({"result": result, "count": len(result)})


@router.get(
    "/api/reelsmith/v1/effects/{code}/{name}",
    summary="An effect's thumbnail (thumbnail.jpg) or preview clip (preview.mp4), made from a sample picture",
    tags=["reelsmith extensions"],
)
async def effect_preview(code: str, name: str, runtime: RuntimeDep) -> Response:
    previews = runtime.registry.effect_previews(product.PRODUCT.engine)
    if name not in ("thumbnail.jpg", "preview.mp4") or previews is None:
        return JSONResponse({"code": 404, "msg": "no such preview"}, status_code=404)
    try:
        clip, thumbnail = await asyncio.to_thread(previews.render_preview, code, runtime.settings.data_dir / "previews")
    except KeyError:
        return JSONResponse({"code": 404, "msg": f"no effect {code!r}"}, status_code=404)
    if name == "preview.mp4":
        return FileResponse(clip, media_type="video/mp4", headers=PUBLIC_ASSET_HEADERS)
    return FileResponse(thumbnail, media_type="image/jpeg", headers=PUBLIC_ASSET_HEADERS)


@router.post("/api/open/v4/image2Video/updateVideoAudio", summary="Put new audio on a finished video")
async def update_video_audio(
    body: UpdateVideoAudioRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep
) -> JSONResponse:
    task = await runtime.service(Image2VideoService).update_audio(caller, body, base_url_of(runtime, request))
    return ok(product.created_view(task, presenter_for(runtime, request, caller).owner))


@router.post("/api/open/v4/image2Video/delbyids", summary="Delete tasks and their files")
def delete_by_ids(body: IdsRequest, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    deleted, refused = runtime.tasks.delete(caller, body.ids, product=product.NAME)
    return ok({"successIds": deleted, "noPermissionItems": refused})


@router.get("/api/open/v4/aigModel/list", summary="The installed video models")
def model_list(
    caller: CallerDep,
    runtime: RuntimeDep,
    types: Annotated[list[str] | None, Query(alias="types[]", description="1501 = image to video")] = None,
) -> JSONResponse:
    return ok([model_view(model) for model in runtime.registry.catalog().models_of(product.NAME)])
