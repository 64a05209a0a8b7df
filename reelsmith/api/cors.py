"""Cross-origin reads from browsers.

Signed file links are readable from any origin: the signature is the permission, and Akool's
image-to-video demo downloads results with ``fetch(video_url)`` from its own page. The API
itself answers other origins only where the operator lists them (``REELSMITH_CORS_ORIGINS``):
a page that holds a team's key is the operator's to allow.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_FILE_METHODS = b"GET, HEAD, OPTIONS"
# What a player or a download script reads from a (partial) file answer.
_EXPOSED = b"Content-Length, Content-Range, Accept-Ranges, Content-Type, ETag, Last-Modified"
_API_HEADERS = ["x-api-key", "authorization", "content-type"]


class SignedFileCors:
    """Every answer under ``prefix`` (GET, HEAD, a Range request, a redirect to a bucket, an
    expired link) carries ``Access-Control-Allow-Origin: *``; preflights are answered here."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await self._preflight(scope, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if not k.startswith(b"access-control-")]
                headers += [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", _EXPOSED)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    async def _preflight(scope: Scope, send: Send) -> None:
        requested = dict(scope["headers"]).get(b"access-control-request-headers", b"range")
        headers = [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", _FILE_METHODS),
            (b"access-control-allow-headers", requested),
            (b"access-control-max-age", b"86400"),
            (b"allow", _FILE_METHODS),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def with_cors(app: ASGIApp, files_prefix: str, api_origins: list[str]) -> ASGIApp:
    """``app`` answering browsers: signed files for every origin, the API for ``api_origins``."""
    if api_origins:
        app = CORSMiddleware(
            app, allow_origins=api_origins, allow_methods=["GET", "POST"], allow_headers=_API_HEADERS, max_age=86400
        )
    return SignedFileCors(app, files_prefix)
