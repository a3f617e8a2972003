"""The hot read path: ``GET /api/artworks/{id}`` answered from the KV cache in raw ASGI.

A cache hit costs one KV read, a policy check and two ``send`` calls, with no
framework objects built. Only anonymous-safe answers are given here: a public or
unlisted artwork's body is the same for every caller. Everything else (a miss, a
private artwork, a bad id, another method, a query string such as ``?share=``, an
``Authorization`` or ``X-Share-Token`` header that must be checked) falls through to
the full Starlette route, which authenticates, rate-limits and answers identically.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from asciihub.api.metrics import Metrics
from asciihub.api.middleware import SECURITY_HEADERS
from asciihub.bootstrap import Services
from asciihub.services.ids import is_valid_id

PREFIX = "/api/artworks/"
ROUTE = "/api/artworks/{artwork_id}"
_CHECKED = (b"authorization", b"x-share-token")
_BASE_HEADERS = [
    (b"content-type", b"application/json; charset=utf-8"),
    (b"cache-control", b"private, no-cache"),
    *SECURITY_HEADERS,
]


class FastLane:
    """Serves cached public and unlisted artworks; defers everything else to ``app``."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.services: Services | None = None
        self._requests = metrics.requests.labels(ROUTE, "GET", "200")
        self._not_modified = metrics.requests.labels(ROUTE, "GET", "304")
        self._latency = metrics.latency.labels(ROUTE, "GET")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and self.services is not None
            and scope["path"].startswith(PREFIX)
            and await self._serve(scope, send)
        ):
            return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send) -> bool:
        started = time.perf_counter()
        artwork_id = scope["path"][len(PREFIX) :]
        if not is_valid_id(artwork_id) or scope["query_string"]:
            return False
        if_none_match = None
        for name, value in scope["headers"]:
            if name in _CHECKED:
                return False
            if name == b"if-none-match":
                if_none_match = value
        built = self.services
        assert built is not None
        hit = await built.artworks.cached(artwork_id)
        if hit is None or hit.visibility == "private":
            return False
        built.views.count(artwork_id)
        etag = hit.etag.encode()
        headers = [*_BASE_HEADERS, (b"etag", etag)]
        if if_none_match is not None and etag in if_none_match:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            self._not_modified.inc()
            self._latency.observe(time.perf_counter() - started)
            return True
        headers.append((b"content-length", str(len(hit.body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": hit.body})
        self._requests.inc()
        self._latency.observe(time.perf_counter() - started)
        return True
