"""Counts every HTTP request by method, route template and status code, and times it, for
``/metrics``. The route is the template a request matched (``/files/{key:path}``), never its
path: task ids and file keys in paths must not become label values. FastAPI's routes are named
by the router (``route_notes.py``); the paths answered ahead of it (the poll) and mounted apps
by :class:`RouteTemplates`."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence

from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelsmith.api.route_notes import NOTE_KEY, RouteNote
from reelsmith.telemetry import metrics

# The route label of a request that matched no route (a 404): one series, whatever the path.
UNMATCHED = "unmatched"


class RouteTemplates:
    """The templates of what the router does not name: ``exact`` paths answered ahead of it,
    and the apps mounted among ``routes``."""

    def __init__(self, routes: Sequence[BaseRoute], exact: Iterable[str] = ()) -> None:
        self._exact = frozenset(exact)
        self._mounts: list[tuple[re.Pattern[str], str]] = [
            (route.path_regex, route.path + "/{path:path}") for route in routes if isinstance(route, Mount)
        ]

    def template(self, path: str) -> str:
        if path in self._exact:
            return path
        for pattern, template in self._mounts:
            if pattern.match(path):
                return template
        return UNMATCHED


class RequestMetrics:
    def __init__(self, app: ASGIApp, routes: RouteTemplates) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        note = RouteNote()
        scope = {**scope, NOTE_KEY: note}

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            route = note.template or self.routes.template(scope["path"])
            metrics.request_served(scope["method"], route, status, time.perf_counter() - started)
