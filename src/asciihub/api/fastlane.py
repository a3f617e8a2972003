"""The hot read path: ``GET /api/artworks/{id}`` answered from the KV cache in raw ASGI.

A cache hit costs one KV read, a view check, a policy check and two ``send`` calls,
with no framework objects built. Only anonymous-safe answers are given here: a public
or unlisted artwork's body is the same for every caller. Everything else (a miss, a
private artwork, a bad id, another method, a query string such as ``?share=``, an
``Authorization`` or ``X-Share-Token`` header or a session cookie that must be checked)
falls through to
the full Starlette route, which authenticates, rate-limits and answers identically.

The lane keeps the envelope's promises itself, so a hit skips the envelope's per-request
work: its errors are the JSON error body every route answers (a KV outage here is a
503 with ``Retry-After``, an unexpected error a logged JSON 500), every answer carries
the security headers, and hits are counted under the full route's name. It finds the
services in the app's lifespan state, so nothing is wired into it after construction.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from asciihub.api.auth import COOKIE, client_ip
from asciihub.api.metrics import Metrics
from asciihub.api.middleware import SECURITY_HEADERS, with_security_headers
from asciihub.api.responses import error_response
from asciihub.bootstrap import Services
from asciihub.errors import AsciihubError
from asciihub.services.etags import none_match
from asciihub.services.ids import is_valid_id

log = logging.getLogger(__name__)

PREFIX = "/api/artworks/"
_CHECKED = (b"authorization", b"x-share-token")
_SESSION = COOKIE.encode()  # also a part of the ``__Host-`` cookie's name
ROUTE = "/api/artworks/{artwork_id}"
_BASE_HEADERS = [
    (b"content-type", b"application/json; charset=utf-8"),
    (b"cache-control", b"private, no-cache"),
    *SECURITY_HEADERS,
]


class FastLane:
    """Serves cached public and unlisted artworks; defers everything else to ``app``.

    ``app`` is the enveloped app; ``state`` the app's lifespan state (``services`` is
    there while the app runs).
    """

    def __init__(self, app: ASGIApp, *, state: Any, metrics: Metrics) -> None:
        self.app = app
        self.state = state
        self.metrics = metrics
        self._requests = metrics.requests.labels(ROUTE, "GET", "200")
        self._not_modified = metrics.requests.labels(ROUTE, "GET", "304")
        self._latency = metrics.latency.labels(ROUTE, "GET")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        built: Services | None = getattr(self.state, "services", None)
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and built is not None
            and scope["path"].startswith(PREFIX)
        ):
            started = time.perf_counter()
            try:
                served = await self._serve(built, scope, send)
            except Exception as exc:  # the adapter's top: every error answers in our shape
                if not isinstance(exc, AsciihubError):
                    log.exception("event=unhandled_error path=%s", scope["path"])
                    exc = AsciihubError("internal error; it has been logged", code="internal_error")
                await error_response(exc)(scope, receive, _secured(send))
                self.metrics.observe(ROUTE, "GET", exc.status, time.perf_counter() - started)
                return
            if served:
                self._latency.observe(time.perf_counter() - started)
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
        await built.views.view(artwork_id, f"ip:{client_ip(scope)}")
        headers = [*_BASE_HEADERS, (b"etag", hit.etag.encode())]
        if none_match(if_none_match, hit.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            self._not_modified.inc()
            return True
        headers.append((b"content-length", str(len(hit.body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": hit.body})
        self._requests.inc()
        return True


def _secured(send: Send) -> Send:
    """``send`` with the security headers added to the response start."""

    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = with_security_headers(list(message.get("headers", [])))
        await send(message)

    return wrapped
