"""Serves the console's static files at ``/console/`` (and sends ``/console`` there)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

CONSOLE_PATH = "/console"
STATIC_DIR = Path(__file__).resolve().parent / "static"

# Scripts and styles only from the console itself; media from anywhere, because result links
# may be redirected to a bucket (scale-out) or point at the configured public URL.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src * data: blob:; media-src * blob:; connect-src *; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    # An upgraded server must never run an old script against a new API: always revalidate.
    "cache-control": "no-cache",
}


class ConsoleFiles(StaticFiles):
    """The console's files, with the headers above on every answer."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def console_files() -> ConsoleFiles:
    """The ASGI app to mount at :data:`CONSOLE_PATH`."""
    return ConsoleFiles(directory=STATIC_DIR, html=True)


router = APIRouter(include_in_schema=False)


@router.get(CONSOLE_PATH)
async def console_root() -> RedirectResponse:
    # The pages' relative links (styles, modules) resolve against the folder, so the address
    # must end with a slash.
    return RedirectResponse(CONSOLE_PATH + "/", status_code=308)
