"""Video Translation create, the language list and the voice list (API.md section 4)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from reelsmith.api.auth import CallerDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import base_url_of, presenter_for
from reelsmith.api.schemas import TranslationRequest
from reelsmith.pipelines.base import EngineUnavailable
from reelsmith.services.translation import TranslationOrder, create_translation

router = APIRouter(tags=["Video Translation"])


@router.post("/api/open/v3/content/video/createbytranslate", summary="Translate a video into one or more languages")
async def create(body: TranslationRequest, request: Request, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    fields = body.model_dump(exclude={"merge_interval", "face_enhance"})
    tasks = await create_translation(runtime, caller, TranslationOrder(**fields), base_url_of(runtime, request))
    present = presenter_for(runtime, request, caller)
    results = [{"code": 1000, "msg": "OK", "data": present.translation_created(task)} for task in tasks]
    return ok(results[0]["data"], all_results=results)


@router.get("/api/open/v3/language/list", summary="Target languages the installed engines produce")
def language_list(caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    return ok({"lang_list": runtime.registry.catalog("languages")})


@router.get("/api/open/v4/voice/videoTranslation", summary="Voices of the installed speech engines")
def voice_list(
    request: Request,
    caller: CallerDep,
    runtime: RuntimeDep,
    language_code: Annotated[str, Query(description="Filter by language code")] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 100,
) -> JSONResponse:
    base_url = base_url_of(runtime, request).rstrip("/")
    voices = [
        {**voice, "preview": base_url + voice["preview"]}
        for voice in runtime.registry.catalog("voices")
        if not language_code or voice["language_code"] == language_code
    ]
    start = (page - 1) * size
    return ok({"page": page, "size": size, "count": len(voices), "result": voices[start : start + size]})


@router.get(
    "/api/reelsmith/v1/voices/{voice_id}/preview.wav",
    summary="A voice saying a sample sentence in its language",
    tags=["reelsmith extensions"],
)
async def voice_preview(voice_id: str, runtime: RuntimeDep) -> Response:
    try:
        pipeline = runtime.registry.load("video-translation")
        path = await asyncio.to_thread(
            pipeline.render_voice_preview,  # type: ignore[attr-defined]
            voice_id,
            runtime.settings.data_dir / "previews" / "voices",
        )
    except (EngineUnavailable, KeyError, AttributeError):
        return JSONResponse({"code": 404, "msg": f"no voice {voice_id!r}"}, status_code=404)
    return FileResponse(path, media_type="audio/wav")
