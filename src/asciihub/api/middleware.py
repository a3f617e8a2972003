"""One pure-ASGI envelope around the app: body limit, security headers, metrics.

A single layer (not Starlette's BaseHTTPMiddleware) keeps the per-request cost low.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from asciihub.api.metrics import Metrics
from asciihub.api.responses import error_response
from asciihub.errors import TooLarge

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        b"form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` plus the security headers, keeping a route's own Referrer-Policy."""
    if any(name == b"referrer-policy" for name, _ in headers):
        return headers + [item for item in SECURITY_HEADERS if item[0] != b"referrer-policy"]
    return headers + SECURITY_HEADERS


def too_large(limit: int) -> TooLarge:
    """The error for a body over ``limit`` bytes."""
    message = f"the request body is larger than the limit of {limit} bytes"
    return TooLarge(message, code="body_too_large")


class Envelope:
    """Refuses oversized bodies, adds security headers, records metrics per route."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        metrics: Metrics,
        path_limits: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.path_limits = path_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        limit = self.path_limits.get(scope["path"], self.max_body_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await error_response(too_large(limit))(scope, receive, self._headers(send))
                self._record(scope, 413, started)
                return
        status = 500
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large(limit)
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_security_headers(list(message.get("headers", [])))
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        finally:
            self._record(scope, status, started)

    @staticmethod
    def _headers(send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", [])))
            await send(message)

        return wrapped

    def _record(self, scope: Scope, status: int, started: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        self.metrics.observe(template, scope["method"], status, time.perf_counter() - started)
