"""One pure-ASGI envelope around the app: body limit, security headers, metrics.

A single layer (not Starlette's BaseHTTPMiddleware) keeps the per-request cost low.
An oversized body, or the unread rest of any body refused early (401, 403, 413,
429 ...), is read and thrown away (at most ``http_discard_max_bytes``, for at most
``http_discard_seconds``) before the error is sent: a client that writes its whole
body before reading, as Python's urllib does with ``Connection: close``, would
otherwise meet a TCP reset instead of the JSON error.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from asciihub.api.metrics import Metrics
from asciihub.api.responses import error_response
from asciihub.errors import TooLarge
from asciihub.services.numbers import whole_number

_CSP = (
    # media-src blob: lets /new preview a chosen video (object URLs are same-origin only)
    b"default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; "
    b"script-src 'self'; "
    b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", _CSP + b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
EMBED_PREFIX = "/embed/"
"""The one route other sites may frame (the ``/oembed`` iframe): any ancestor, no DENY."""
EMBED_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", _CSP + b"frame-ancestors *"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]


def with_security_headers(
    headers: list[tuple[bytes, bytes]], path: str = ""
) -> list[tuple[bytes, bytes]]:
    """``headers`` plus the security headers, keeping a route's own Referrer-Policy."""
    extra = EMBED_HEADERS if path.startswith(EMBED_PREFIX) else SECURITY_HEADERS
    if any(name == b"referrer-policy" for name, _ in headers):
        return headers + [item for item in extra if item[0] != b"referrer-policy"]
    return headers + extra


def _declared(value: bytes) -> int:
    """A Content-Length's value; a malformed one counts as over every limit."""
    number = whole_number(value)
    return number if number is not None else 2**63


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False


def too_large(limit: int) -> TooLarge:
    """The error for a body over ``limit`` bytes."""
    message = f"the request body is larger than the limit of {limit} bytes"
    return TooLarge(message, code="body_too_large")


@dataclass(frozen=True)
class Discard:
    """How much of an oversized body is read and dropped before the 413 goes out."""

    max_bytes: int = 32 * 1024 * 1024
    seconds: float = 5.0


async def discard_body(receive: Receive, discard: Discard, already: int = 0) -> None:
    """Read and drop the rest of a request body, within ``discard``'s bounds."""
    seen = already
    try:
        async with asyncio.timeout(discard.seconds):
            while seen <= discard.max_bytes:
                message = await receive()
                if message["type"] != "http.request":
                    return
                seen += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
    except TimeoutError:
        return


class Envelope:
    """Refuses oversized bodies, adds security headers, records metrics per route."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        metrics: Metrics,
        path_limits: dict[str, int] | None = None,
        discard: Discard | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.path_limits = path_limits or {}
        self.discard = discard or Discard()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        limit = self.path_limits.get(scope["path"], self.max_body_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and _declared(value) > limit:
                await discard_body(receive, self.discard)
                await error_response(too_large(limit))(scope, receive, self._headers(send))
                self._record(scope, 413, started)
                return
        status = 500
        seen = 0
        pending = _has_body(scope)

        async def limited_receive() -> Message:
            nonlocal seen, pending
            message = await receive()
            if message["type"] != "http.request":
                pending = False
                return message
            seen += len(message.get("body", b""))
            pending = bool(message.get("more_body", False))
            if seen > limit:
                if pending:
                    pending = False
                    await discard_body(receive, self.discard, seen)
                raise too_large(limit)
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status, pending
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_security_headers(
                    list(message.get("headers", [])), scope.get("path", "")
                )
                if pending and status >= 400:  # an early refusal: let the client finish
                    pending = False
                    await discard_body(receive, self.discard, seen)
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
