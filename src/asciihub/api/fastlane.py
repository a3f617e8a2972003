"""The hot read path: ``GET /api/artworks/{id}`` answered from the KV cache in raw ASGI.

A cache hit costs one KV read, a view check, a policy check and two ``send`` calls,
with no framework objects built. Only anonymous-safe answers are given here: a public
or unlisted artwork's body is the same for every caller. Everything else (a miss, a
private artwork, a bad id, another method, a query string such as ``?share=``, an
``Authorization`` or ``X-Share-Token`` header or a session cookie that must be checked)
falls through to
the full Starlette route, which authenticates, rate-limits and answers identically.

The lane sits inside the envelope (body limit, security headers, metrics per route)
and renders its own errors as the JSON error body, as every route does: a KV outage
here is a 503 with ``Retry-After``. It finds the services in the app's lifespan state,
so nothing is wired into it after construction.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from asciihub.api.auth import COOKIE, client_ip
from asciihub.api.responses import error_response
from asciihub.bootstrap import Services
from asciihub.errors import AsciihubError
from asciihub.services.etags import none_match
from asciihub.services.ids import is_valid_id

log = logging.getLogger(__name__)

PREFIX = "/api/artworks/"
_CHECKED = (b"authorization", b"x-share-token")
_SESSION = COOKIE.encode()  # also a part of the ``__Host-`` cookie's name
_BASE_HEADERS = [
    (b"content-type", b"application/json; charset=utf-8"),
    (b"cache-control", b"private, no-cache"),
]


class FastLane:
    """Serves cached public and unlisted artworks; defers everything else to ``app``.

    ``state`` is the app's lifespan state (``services`` is there while the app runs);
    ``route`` is the full route's object, named in the scope so metrics group a hit
    with the route it stands for.
    """

    def __init__(self, app: ASGIApp, *, state: Any, route: Any) -> None:
        self.app = app
        self.state = state
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        built: Services | None = getattr(self.state, "services", None)
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and built is not None
            and scope["path"].startswith(PREFIX)
        ):
            try:
                served = await self._serve(built, scope, send)
            except Exception as exc:  # the adapter's top: every error answers in our shape
                if not isinstance(exc, AsciihubError):
                    log.exception("event=unhandled_error path=%s", scope["path"])
                    exc = AsciihubError("internal error; it has been logged", code="internal_error")
                scope["route"] = self.route
                await error_response(exc)(scope, receive, send)
                return
            if served:
                return
        await self.app(scope, receive, send)

    async def _serve(self, built: Services, scope: Scope, send: Send) -> bool:
        artwork_id = scope["path"][len(PREFIX) :]
        if not is_valid_id(artwork_id) or scope["query_string"]:
            return False
        if_none_match = None
        for name, value in scope["headers"]:
            if name in _CHECKED or (name == b"cookie" and _SESSION in value):
                return False  # a principal to resolve: the route counts its view by account
            if name == b"if-none-match":
                if_none_match = value
        hit = await built.artworks.cached(artwork_id)
        if hit is None or hit.visibility == "private":
            return False
        scope["route"] = self.route
        await built.views.view(artwork_id, f"ip:{client_ip(scope)}")
        headers = [*_BASE_HEADERS, (b"etag", hit.etag.encode())]
        if none_match(if_none_match, hit.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        headers.append((b"content-length", str(len(hit.body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": hit.body})
        return True
