"""Video Translation create, the language list and the voice list (API.md section 4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from reelsmith.api.auth import CallerDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import base_url_of, presenter_for
from reelsmith.api.schemas import TranslationRequest
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
    caller: CallerDep,
    runtime: RuntimeDep,
    language_code: Annotated[str, Query(description="Filter by language code")] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 100,
) -> JSONResponse:
    voices = [v for v in runtime.registry.catalog("voices") if not language_code or v["language_code"] == language_code]
    start = (page - 1) * size
    return ok({"page": page, "size": size, "count": len(voices), "result": voices[start : start + size]})
