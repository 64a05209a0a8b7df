"""The ceiling for bench/api.py: a bare Starlette endpoint, served by uvicorn exactly like
reelsmith, answering a body of the same shape as a poll answer without any work behind it."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BODY = {
    "code": 1000,
    "msg": "OK",
    "data": {"_id": "0" * 24, "video_status": 1, "progress": 0, "video": "", "prompt": "p" * 40},
}


async def info(_: Request) -> JSONResponse:
    return JSONResponse(BODY)


app = Starlette(routes=[Route("/info", info), Route("/healthz", info)])
