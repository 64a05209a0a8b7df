"""Tells the middleware outside FastAPI which route template a request matched.

FastAPI's router writes the matched route into the scope it is given, and middleware on the way
in may hand it a copy (``JsonBodies`` does, for bodies), so an outer middleware cannot read it
there. The outer one puts a :class:`RouteNote` in the scope instead (copies share it), and this
middleware, the innermost, fills it in once the router has run."""

from __future__ import annotations

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

NOTE_KEY = "reelsmith.route_note"


class RouteNote:
    """The template of the route a request matched (``/files/{key:path}``), once known."""

    __slots__ = ("template",)

    def __init__(self) -> None:
        self.template: str | None = None


class NoteRoute:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            note = scope.get(NOTE_KEY)
            route = scope.get("route")
            if isinstance(note, RouteNote) and isinstance(route, Route):
                note.template = route.path
