"""Video Translation create, the language list and the voice list (API.md section 4), and the
voices' previews and the languages' badges they link to."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from reelsmith.api.auth import CallerDep, CreatorDep, RuntimeDep
from reelsmith.api.badges import SVG_TYPE, language_badge, voice_avatar
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import PUBLIC_ASSET_HEADERS, base_url_of, presenter_for
from reelsmith.languages import LANGUAGES
from reelsmith.pipelines.base import PipelineError
from reelsmith.products import video_translation as product
from reelsmith.products.catalog import language_view, voice_view
from reelsmith.products.video_translation import TranslationRequest
from reelsmith.services.video_translation import TranslationService

router = APIRouter(tags=["Video Translation"])


@router.post("/api/open/v3/content/video/createbytranslate", summary="Translate a video into one or more languages")
async def create(body: TranslationRequest, request: Request, caller: CreatorDep, runtime: RuntimeDep) -> JSONResponse:
    tasks = await runtime.service(TranslationService).create(caller, body, base_url_of(runtime, request))
    present = presenter_for(runtime, request, caller)
    results = [
        {"code": 1000, "msg": "OK", "data": product.created_view(task, present.owner, present.link)} for task in tasks
    ]
    return ok(results[0]["data"], all_results=results)


@router.get("/api/open/v3/language/list", summary="Target languages the installed engines produce")
def language_list(request: Request, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    base_url = base_url_of(runtime, request)
    return ok({"lang_list": [language_view(entry, base_url) for entry in runtime.registry.catalog().languages]})


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
        voice_view(voice, base_url)
        for voice in runtime.registry.catalog().voices
        if not language_code or voice.language == language_code
    ]
    start = (page - 1) * size
    return ok({"page": page, "size": size, "count": len(voices), "result": voices[start : start + size]})


@router.get(
    "/api/reelsmith/v1/voices/{voice_id}/preview.mp3",
    summary="A voice saying a sample sentence in its language (MP3)",
    tags=["reelsmith extensions"],
)
async def voice_preview(voice_id: str, runtime: RuntimeDep) -> Response:
    previews = runtime.registry.voice_previews(product.PRODUCT.engine)
    try:
        if previews is None:
            raise KeyError(voice_id)
        folder = runtime.settings.data_dir / "previews" / "voices"
        path = await asyncio.to_thread(previews.render_voice_preview, voice_id, folder)
    except KeyError:
        return JSONResponse({"code": 404, "msg": f"no voice {voice_id!r}"}, status_code=404)
    except PipelineError as exc:
        return JSONResponse({"code": 1015, "msg": exc.reason}, status_code=503)
    return FileResponse(path, media_type="audio/mpeg", headers=PUBLIC_ASSET_HEADERS)


@router.get(
    "/api/reelsmith/v1/voices/{voice_id}/thumbnail.svg",
    summary="A voice's avatar (the voice list's thumbnailUrl)",
    tags=["reelsmith extensions"],
)
def voice_thumbnail(voice_id: str, runtime: RuntimeDep) -> Response:
    voice = next((v for v in runtime.registry.catalog().voices if v.voice_id == voice_id), None)
    if voice is None:
        return JSONResponse({"code": 404, "msg": f"no voice {voice_id!r}"}, status_code=404)
    svg = voice_avatar(voice.voice_id, voice.language, voice.name, voice.gender)
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
