"""Socket-level limits for ``asciihub serve``: header and body deadlines, header size.

uvicorn closes idle kept-alive connections (``timeout_keep_alive``) and h11 caps an
incomplete event, but nothing bounds how long a client may take to send its headers
or its body, and httptools has no header size limit. The protocol classes here add
those on top of uvicorn's own (h11 and httptools alike), per connection:

- from the connection (or, after a response, from the next request's first byte) the
  request line and headers must arrive within ``http_header_timeout`` seconds and fit
  in ``http_max_header_bytes``; otherwise the client gets 408 or 431 and the socket
  is closed;
- once the headers are in, the whole body must arrive within ``http_body_timeout``
  seconds, or the socket is closed (the app sees a disconnect);
- between requests, uvicorn's keep-alive timeout (``http_idle_timeout``) applies.

:func:`uvicorn_config` builds the uvicorn ``Config`` both serve paths use, so
``--workers`` gets the same limits (the config, with its limits, is handed to each
worker process).
"""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from asciihub.errors import ConfigError
from asciihub.services.networks import parse_address_list
from asciihub.settings import Settings


@dataclass(frozen=True)
class HttpLimits:
    """The per-connection limits (filled from Settings)."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_header_bytes: int = 65536


def http_limits(settings: Settings) -> HttpLimits:
    """The limits ``settings`` ask for."""
    return HttpLimits(
        header_timeout=settings.http_header_timeout,
        body_timeout=settings.http_body_timeout,
        max_header_bytes=settings.http_max_header_bytes,
    )


_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def _refusal(status: int, code: str, message: str) -> bytes:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json; charset=utf-8\r\n"
        b"connection: close\r\ncontent-length: %d\r\n\r\n" % (status, _REASONS[status], len(body))
    )
    return head + body


class _Deadlines:
    """Mixed into a uvicorn HTTP protocol: watches each request's head and body."""

    # Provided by the uvicorn protocol this is mixed into.
    transport: asyncio.Transport
    cycle: Any
    loop: asyncio.AbstractEventLoop
    config: Any

    def _guard_init(self) -> None:
        self._limits: HttpLimits = getattr(self.config, "http_limits", None) or HttpLimits()
        self._phase = "head"  # head -> body -> app -> idle -> head ...
        self._head_bytes = 0
        self._seen_cycle: Any = None
        self._timer: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, phase: str) -> None:
        self._disarm()
        self._phase = phase
        self._timer = self.loop.call_later(seconds, self._expired, phase)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, status: int, code: str, message: str) -> None:
        self._disarm()
        self._phase = "closed"
        if not self.transport.is_closing():
            self.transport.write(_refusal(status, code, message))
            self.transport.close()

    def _expired(self, phase: str) -> None:
        self._timer = None
        if self.transport.is_closing() or phase != self._phase:
            return
        if phase == "head" and self._head_bytes:
            seconds = self._limits.header_timeout
            message = f"the request headers took longer than {seconds:g} s (http_header_timeout)"
            self._refuse(408, "header_timeout", message)
            return
        # A silent connection, or a body too slow: nothing useful can be said any more.
        self._phase = "closed"
        self.transport.close()

    def _sync(self) -> None:
        """Move to the phase the parser reached after the bytes just fed to it."""
        if self.transport.is_closing():
            self._disarm()
            return
        current: object = self.transport.get_protocol()
        if current is not self:  # upgraded to a WebSocket
            self._disarm()
            self._phase = "upgraded"
            return
        cycle = self.cycle
        if cycle is not None and cycle is not self._seen_cycle:
            self._seen_cycle = cycle
            self._head_bytes = 0
            if cycle.more_body:
                self._arm(self._limits.body_timeout, "body")
            else:
                self._disarm()
                self._phase = "app"
        elif self._phase == "body" and cycle is not None and not cycle.more_body:
            self._disarm()
            self._phase = "app"
        elif self._phase == "head" and self._head_bytes > self._limits.max_header_bytes:
            limit = self._limits.max_header_bytes
            message = f"the request line and headers exceed {limit} bytes (http_max_header_bytes)"
            self._refuse(431, "headers_too_large", message)

    def _guard_data(self, data: bytes) -> None:
        if self._phase == "idle":
            self._arm(self._limits.header_timeout, "head")
        if self._phase == "head":
            self._head_bytes += len(data)


def _guarded(base: Any, name: str) -> type[asyncio.Protocol]:
    """``base`` (a uvicorn HTTP protocol class) with header and body deadlines."""

    class Guarded(_Deadlines, base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._guard_init()

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self._arm(self._limits.header_timeout, "head")

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            self._guard_data(data)
            super().data_received(data)
            self._sync()

        def on_response_complete(self) -> None:
            self._disarm()
            self._phase = "idle"
            super().on_response_complete()
            self._sync()  # a pipelined request may have started already

    Guarded.__name__ = Guarded.__qualname__ = name
    return Guarded


GuardedH11Protocol = _guarded(H11Protocol, "GuardedH11Protocol")


def _httptools_protocol() -> type[asyncio.Protocol] | None:
    if importlib.util.find_spec("httptools") is None:
        return None
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    return _guarded(HttpToolsProtocol, "GuardedHttpToolsProtocol")


GuardedHttpToolsProtocol = _httptools_protocol()


def protocol_class(http: str = "auto") -> type[asyncio.Protocol]:
    """The guarded protocol for ``http`` (``auto``: httptools when installed, else h11)."""
    if http in ("auto", "httptools") and GuardedHttpToolsProtocol is not None:
        return GuardedHttpToolsProtocol
    if http == "httptools":
        message = "setting http_parser: httptools is not installed; pip install httptools"
        raise ConfigError(message)
    return GuardedH11Protocol


def websocket_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's WebSocket knobs from Settings (message cap, pings, no compression)."""
    return {
        "ws_max_size": settings.room_max_message_bytes + 65536,  # ours answers first
        "ws_ping_interval": settings.room_ping_interval,
        "ws_ping_timeout": settings.room_ping_timeout,
        "ws_per_message_deflate": False,
        "ws": "websockets-sansio",  # the lightest per socket; pings and size cap honoured
    }


def uvicorn_config(settings: Settings, app: Any, **options: Any) -> uvicorn.Config:
    """The uvicorn Config of ``asciihub serve``: limits, trusted proxies, no server header."""
    proxies = settings.forwarded_allow_ips.strip()
    parse_address_list(proxies, "forwarded_allow_ips")  # one clear line when malformed
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol_class(settings.http_parser),
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=max(1, round(settings.http_idle_timeout)),
        # h11's own cap sits above ours (one socket read more), so the JSON 431 wins.
        h11_max_incomplete_event_size=settings.http_max_header_bytes + 256 * 1024,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or "",
        server_header=False,
        **websocket_options(settings),
        **options,
    )
    config.http_limits = http_limits(settings)  # type: ignore[attr-defined]
    return config
