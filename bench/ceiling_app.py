"""The ceiling for bench/api.py: a bare Starlette endpoint, served by uvicorn exactly like
reelsmith, answering the very body of a real poll (read once at start from the file named by
``CEILING_BODY_FILE``) with no work behind it: no authentication, no database, no presenter."""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

with open(os.environ["CEILING_BODY_FILE"]) as handle:
    BODY = json.load(handle)


async def info(_: Request) -> JSONResponse:
    return JSONResponse(BODY)


app = Starlette(routes=[Route("/info", info), Route("/healthz", info)])
