"""Our own endpoints (API.md section 7): uploads, signed file downloads, quotes, health."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import text
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from reelsmith.api.auth import CallerDep, QuoterDep, RuntimeDep, UploaderDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import base_url_of
from reelsmith.errors import ApiError, Code
from reelsmith.inputs.fetch import sniff
from reelsmith.products.catalog import installed_model_view
from reelsmith.products.character_swap import CharacterSwapRequest
from reelsmith.products.image2video import Image2VideoBatchRequest, Image2VideoRequest
from reelsmith.products.video_translation import TranslationRequest
from reelsmith.services.disk_room import short_of_room
from reelsmith.storage.signing import FILES_PREFIX

log = logging.getLogger("reelsmith.api")

router = APIRouter(tags=["reelsmith extensions"])

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "mp4": "video/mp4",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "webm": "video/webm",
    "srt": "application/x-subrip",
    "ass": "text/x-ssa",
}


UPLOAD_KINDS = ("video", "image", "audio", "caption")


def _sniff_upload(path: Path) -> tuple[str | None, str]:
    """The kind of an uploaded file and its suffix, from its first bytes."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    for kind in UPLOAD_KINDS:
        found = sniff(head, kind)  # type: ignore[arg-type]
        if found is not None:
            return kind, found[0].lstrip(".")
    return None, ""


@router.post(
    "/api/reelsmith/v1/upload",
    summary="Upload a file; the answer's URL can be used as any input URL",
    description="Send the file as the raw body (any Content-Type) or as multipart field `file`. "
    "Images, MP4 videos, audio and SRT/ASS captions are accepted.",
)
async def upload(request: Request, caller: UploaderDep, runtime: RuntimeDep) -> JSONResponse:
    limit = runtime.settings.upload_max_bytes
    fd, name = tempfile.mkstemp(prefix="upload-", dir=runtime.settings.work_dir)
    scratch = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            if request.headers.get("content-type", "").startswith("multipart/form-data"):
                await _copy_multipart(request, out, limit)
            else:
                await _copy_stream(request, out, limit)
        if scratch.stat().st_size == 0:
            raise ApiError(Code.PARAMETER, "file is empty")
        kind, suffix = await asyncio.to_thread(_sniff_upload, scratch)
        if kind is None:
            raise ApiError(Code.PARAMETER, "file must be a PNG/JPEG image, an MP4 video, audio, or SRT/ASS captions")
        size = scratch.stat().st_size
        stored = await asyncio.to_thread(runtime.storage.put_file, scratch, suffix, True)
    finally:
        scratch.unlink(missing_ok=True)
    return ok(
        {
            "url": runtime.signer.url(base_url_of(runtime, request), stored),
            "kind": kind,
            "size": size,
            "expires": stored.created_ms + runtime.signer.retention_ms,
        }
    )


async def _copy_stream(request: Request, out: object, limit: int) -> None:
    written = 0
    async for chunk in request.stream():
        written += len(chunk)
        if written > limit:
            raise ApiError(Code.TOO_LARGE, f"file is larger than {limit // (1024 * 1024)} MB")
        out.write(chunk)  # type: ignore[attr-defined]


MULTIPART_OVERHEAD = 64 * 1024


async def _copy_multipart(request: Request, out: object, limit: int) -> None:
    # The form parser spools the whole file before we see it, so its size is checked first,
    # from the declared length.
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise ApiError(
            Code.PARAMETER, "multipart uploads must declare Content-Length (or send the file as the raw body)"
        )
    if int(declared) > limit + MULTIPART_OVERHEAD:
        raise ApiError(Code.TOO_LARGE, f"file is larger than {limit // (1024 * 1024)} MB")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except (HTTPException, MultiPartException) as exc:  # a malformed body: no boundary, cut short...
        detail = exc.detail if isinstance(exc, HTTPException) else exc.message
        raise ApiError(Code.PARAMETER, f"the multipart body could not be read: {detail}") from exc
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ApiError(Code.PARAMETER, "file is required (multipart field 'file')")
    written = 0
    while chunk := await upload.read(1024 * 1024):
        written += len(chunk)
        if written > limit:
            raise ApiError(Code.TOO_LARGE, f"file is larger than {limit // (1024 * 1024)} MB")
        out.write(chunk)  # type: ignore[attr-defined]


@router.api_route(
    FILES_PREFIX + "{key:path}",
    methods=["GET", "HEAD"],
    summary="Download a file by its signed URL (Range requests and any origin welcome)",
    include_in_schema=False,
)
def download(
    key: str,
    runtime: RuntimeDep,
    expires: Annotated[int, Query()] = 0,
    signature: Annotated[str, Query()] = "",
) -> Response:
    if not runtime.signer.verify(key, expires, signature):
        return JSONResponse({"code": 403, "msg": "this link is invalid or has expired"}, status_code=403)
    if not runtime.storage.exists(key):
        return JSONResponse({"code": 404, "msg": "this file has expired and was deleted"}, status_code=404)
    direct = runtime.storage.direct_url(key)
    if direct is not None:
        # In a bucket: the client downloads straight from it, with a short-lived presigned URL.
        return RedirectResponse(direct, status_code=307)
    suffix = key.rsplit(".", 1)[-1]
    return FileResponse(
        runtime.storage.local_path(key, runtime.settings.work_dir),
        media_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
    )


@router.get("/api/reelsmith/v1/models", summary="Every installed model, of every product, and the engine that runs it")
def models(caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    return ok({"result": [installed_model_view(model) for model in runtime.registry.catalog().models]})


# The creates a quote prices, each with the request model its own route validates the body with.
QUOTABLE: dict[str, type[CharacterSwapRequest | TranslationRequest | Image2VideoRequest]] = {
    "/api/open/v4/characterSwap/create": CharacterSwapRequest,
    "/api/open/v3/content/video/createbytranslate": TranslationRequest,
    "/api/open/v4/image2Video/createBySourcePrompt": Image2VideoRequest,
    "/api/open/v4/image2Video/createBySourcePrompt/batch": Image2VideoBatchRequest,
}


class QuoteRequest(BaseModel):
    endpoint: str = Field(description="The create's path (a full URL's path is taken too)")
    # Any JSON: the create's own model judges it below, so its refusals read as the create's.
    body: object = Field(default=None, description="The exact body the create would get")


@router.post(
    "/api/reelsmith/v1/quote",
    summary="What a create would charge, how long it would take here, and what its inputs hold",
    description="Nothing is charged, queued or stored. A body the create would refuse gets the create's own "
    "code and message; want of credits is a warning (`affordable: false`). See docs/quote.md.",
)
async def quote(body: QuoteRequest, caller: QuoterDep, runtime: RuntimeDep) -> JSONResponse:
    endpoint = urlsplit(body.endpoint.strip()).path.rstrip("/")
    create = QUOTABLE.get(endpoint)
    if create is None:
        raise ApiError(Code.PARAMETER, f"endpoint must be one of {', '.join(QUOTABLE)}")
    if not isinstance(body.body, dict):
        raise ApiError(Code.PARAMETER, "body must be a JSON object: the body the create would get")
    try:
        request = create.model_validate(body.body)
    except ValidationError as exc:
        # Raised as the create's route raises it, so the answer is the create's, word for word.
        raise RequestValidationError(exc.errors()) from exc
    return ok(dataclasses.asdict(await runtime.quotes.quote(caller, request)))


@router.get("/healthz", summary="The process is up")
def healthz() -> JSONResponse:
    return ok({"status": "ok"})


@router.get("/readyz", summary="The database and storage answer, and the disk has room")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    # Anyone may ask: the answers name causes, never paths or addresses (`reelsmith doctor` does).
    checks: dict[str, str] = {}
    try:
        with runtime.db.read() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("readiness: the database does not answer: %s", exc)
        checks["database"] = f"error: the database does not answer ({exc.__class__.__name__})"
    storage = runtime.storage.check()
    if storage != "ok":
        log.warning("readiness: storage: %s", storage)
    checks["storage"] = "ok" if storage == "ok" else "error: the file store is not reachable or not writable"
    room = short_of_room(runtime.settings)
    checks["disk"] = "ok" if room is None else f"error: {room.describe()}"
    ready = all(value == "ok" for value in checks.values())
    body = {"code": 1000 if ready else 1015, "msg": "OK" if ready else "not ready", "data": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
