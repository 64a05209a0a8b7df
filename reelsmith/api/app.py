"""The ASGI application: routers, error handling, body limits, and (for ``serve``) the
embedded workers and the retention sweep."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelsmith import __version__
from reelsmith.api import metrics
from reelsmith.api.catch_all import CatchAll
from reelsmith.api.cors import with_cors
from reelsmith.api.envelope import install_error_handlers
from reelsmith.api.request_ids import RequestIds
from reelsmith.api.request_metrics import RequestMetrics, RouteTemplates
from reelsmith.api.route_notes import NoteRoute
from reelsmith.api.routes import accounts, admin, extensions, info, task_list, webhooks
from reelsmith.console import routes as console
from reelsmith.products import PRODUCTS
from reelsmith.runtime import Runtime
from reelsmith.storage.signing import FILES_PREFIX

UPLOAD_PATH = "/api/reelsmith/v1/upload"


class JsonBodies:
    """Every request body but an upload is JSON of at most ``limit`` bytes. It is read in full
    before the app sees it: a larger one is refused with code 1003, whether its size was
    declared or it came chunked. It is declared JSON whatever Content-Type the client sent
    (Akool's clients send application/json, but `curl -d` sends a form type)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == UPLOAD_PATH or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send, self._too_large)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(send, self._too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _holds_unstorable_text(body):
            await self._refuse(
                send, "the request body is not valid JSON: a string holds a NUL or an unpaired surrogate"
            )
            return
        replayed = False
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
        scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @property
    def _too_large(self) -> str:
        return f"the request body is larger than {self.limit // 1024} KB"

    @staticmethod
    async def _refuse(send: Send, msg: str) -> None:
        body = json.dumps({"code": 1003, "msg": msg}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


UNSTORABLE_TEXT = "the request body is not valid JSON: a string holds a NUL or an unpaired surrogate"
# JSON escapes of a NUL character or a surrogate: only bodies holding one are looked at closely.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _holds_unstorable_text(body: bytes) -> bool:
    """Whether the JSON ``body`` has a string (or key) with a NUL character or an unpaired
    surrogate: Python's JSON reader accepts both, but they can be neither stored (PostgreSQL)
    nor written back as UTF-8."""
    if not _SUSPECT_ESCAPE.search(body):
        return False
    try:
        pending = [json.loads(body)]
    except (ValueError, RecursionError):
        return False  # not JSON at all: FastAPI's reader says so
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value
        elif isinstance(value, str):
            if "\x00" in value:
                return True
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class FastPaths:
    """Answers the hottest read-only GETs (polling) before FastAPI's routing and middleware,
    which cost more per request than the poll itself; everything else goes to FastAPI."""

    def __init__(self, app: ASGIApp, routes: dict[str, ASGIApp]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            route = self.routes.get(scope["path"])
            if route is not None:
                await route(scope, receive, send)
                return
        await self.app(scope, receive, send)


def product_routes() -> list[ModuleType]:
    """Each product's route module, ``reelsmith.api.routes.<product name>``."""
    return [importlib.import_module(f"reelsmith.api.routes.{name}") for name in PRODUCTS]


def create_app(runtime: Runtime) -> ASGIApp:
    """The API alone. What runs beside it (workers, the webhook sender, the retention sweep,
    the dispatch reaper) is started by the command that serves it (``serve``, ``api``)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.prepare()
        yield

    app = FastAPI(
        title="reelsmith",
        version=__version__,
        description="A self-hosted video AI server that speaks Akool's open API. "
        "Every answer is HTTP 200 with `{code, msg, data}`; `code` 1000 is success.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    # The routes every product shares, then each product's own (api/routes/<product>.py).
    for module in (accounts, info, extensions, webhooks, task_list, admin, *product_routes()):
        app.include_router(module.router)
    # The web console (reelsmith/console): static files, served in every mode.
    app.include_router(console.router)
    app.mount(console.CONSOLE_PATH, console.console_files(), name="console")
    # The operator's: the admin overview and /metrics (docs/metrics.md).
    app.include_router(admin.operations_router)
    app.include_router(metrics.router)
    app.add_middleware(NoteRoute)  # the innermost: it tells RequestMetrics the route matched
    app.add_middleware(JsonBodies, limit=runtime.settings.request_max_bytes)
    fast_paths: dict[str, ASGIApp] = {info.INFO_PATH: info.InfoEndpoint(runtime)}
    fast = FastPaths(app, fast_paths)
    served = CatchAll(with_cors(fast, FILES_PREFIX, runtime.settings.cors_origins))
    return RequestMetrics(RequestIds(served), RouteTemplates(app.routes, exact=fast_paths))
