"""Video Translation create, the language list and the voice list (API.md section 4)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from reelsmith.api.auth import CallerDep, CreatorDep, RuntimeDep
from reelsmith.api.badges import SVG_TYPE, language_badge, voice_avatar
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import PUBLIC_ASSET_HEADERS, base_url_of, presenter_for, with_base_url
from reelsmith.api.schemas import TranslationRequest
from reelsmith.languages import LANGUAGES
from reelsmith.pipelines.base import EngineUnavailable
from reelsmith.runtime import Runtime
from reelsmith.services.translation import TranslationOrder, create_translation

router = APIRouter(tags=["Video Translation"])


@router.post("/api/open/v3/content/video/createbytranslate", summary="Translate a video into one or more languages")
async def create(body: TranslationRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep) -> JSONResponse:
    fields = body.model_dump(exclude={"merge_interval", "face_enhance"})
    tasks = await create_translation(runtime, caller, TranslationOrder(**fields), base_url_of(runtime, request))
    present = presenter_for(runtime, request, caller)
    results = [{"code": 1000, "msg": "OK", "data": present.translation_created(task)} for task in tasks]
    return ok(results[0]["data"], all_results=results)


@router.get("/api/open/v3/language/list", summary="Target languages the installed engines produce")
def language_list(request: Request, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    base_url = base_url_of(runtime, request)
    return ok({"lang_list": [with_base_url(entry, base_url) for entry in runtime.registry.catalog("languages")]})


@router.get("/api/open/v4/voice/videoTranslation", summary="Voices of the installed speech engines")
def voice_list(
    request: Request,
    caller: CallerDep,
    runtime: RuntimeDep,
    language_code: Annotated[str, Query(description="Filter by language code")] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 100,
) -> JSONResponse:
    base_url = base_url_of(runtime, request)
    voices = [
        with_base_url(voice, base_url)
        for voice in runtime.registry.catalog("voices")
        if not language_code or voice["language_code"] == language_code
    ]
    start = (page - 1) * size
    return ok({"page": page, "size": size, "count": len(voices), "result": voices[start : start + size]})


def _voice(runtime: Runtime, voice_id: str) -> dict[str, Any] | None:
    return next((voice for voice in runtime.registry.catalog("voices") if voice["voice_id"] == voice_id), None)


@router.get(
    "/api/reelsmith/v1/voices/{voice_id}/preview.mp3",
    summary="A voice saying a sample sentence in its language (MP3)",
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
    return FileResponse(path, media_type="audio/mpeg", headers=PUBLIC_ASSET_HEADERS)


@router.get(
    "/api/reelsmith/v1/voices/{voice_id}/thumbnail.svg",
    summary="A voice's avatar (the voice list's thumbnailUrl)",
    tags=["reelsmith extensions"],
)
def voice_thumbnail(voice_id: str, runtime: RuntimeDep) -> Response:
    voice = _voice(runtime, voice_id)
    if voice is None:
        return JSONResponse({"code": 404, "msg": f"no voice {voice_id!r}"}, status_code=404)
    svg = voice_avatar(voice_id, voice["language_code"], voice["name"], voice["gender"])
    return Response(svg, media_type=SVG_TYPE, headers=PUBLIC_ASSET_HEADERS)


@router.get(
    "/api/reelsmith/v1/languages/{code}/badge.svg",
    summary="A language's badge (the language list's url and flag_url)",
    tags=["reelsmith extensions"],
)
def language_badge_svg(code: str) -> Response:
    if code not in LANGUAGES:
        return JSONResponse({"code": 404, "msg": f"no language {code!r}"}, status_code=404)
    return Response(language_badge(code), media_type=SVG_TYPE, headers=PUBLIC_ASSET_HEADERS)
