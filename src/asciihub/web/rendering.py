"""Rendering pages: the Jinja2 environment, who is looking, safe JSON islands, errors.

Pages read the principal the API's auth gate put in the request scope (see
``web/_request.py``) and never import the API package: the app factory mounts ``web``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response

from asciihub import __version__
from asciihub.errors import AsciihubError, NotFound
from asciihub.services.principals import SHARE_HEADER, SHARE_QUERY, SHARE_RESPONSE_HEADERS
from asciihub.web._request import principal_for, services, share_grant

__all__ = ["SHARE_HEADER", "principal", "services", "share_grant"]

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
HTML_HEADERS = {"Cache-Control": "private, no-cache"}
SHARE_PAGE_HEADERS = SHARE_RESPONSE_HEADERS
_JSON_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
MACHINE_PATHS = ("/api/", "/healthz", "/metrics", "/openapi.json", "/ws/", "/oembed", "/objects/")


def json_island(value: Any) -> Markup:
    """``value`` as JSON safe inside ``<script type="application/json">`` (no ``</``)."""
    return Markup(orjson.dumps(value).decode().translate(_JSON_ESCAPES))


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)
templates.filters["island"] = json_island


principal = principal_for


def share_token(connection: HTTPConnection) -> str | None:
    """The share token sent with ``?share=`` or ``X-Share-Token``."""
    return connection.headers.get(SHARE_HEADER) or connection.query_params.get(SHARE_QUERY)


async def count_view(connection: HTTPConnection, artwork_id: str) -> None:
    """Count a page view the way the API counts a read: once per viewer per window."""
    who = principal_for(connection)
    client = connection.client
    viewer = f"u:{who.user_id}" if who.user_id else f"ip:{client.host if client else 'unknown'}"
    await services(connection).views.view(artwork_id, viewer)


@dataclass(frozen=True)
class Viewer:
    """The logged-in user as the header shows them."""

    id: str
    handle: str
    avatar_url: str | None
    theme: str


async def viewer(request: Request) -> Viewer | None:
    """The logged-in user (None when anonymous or the session is gone)."""
    who = principal(request)
    if who.is_anonymous:
        return None
    built = services(request)
    try:
        account = await built.auth.accounts.me(who)
        prefs = await built.auth.preferences.get(account.id)
    except AsciihubError:
        return None
    avatar = f"/api/users/{account.handle}/avatar.png" if account.avatar_updated_at else None
    return Viewer(account.id, account.handle, avatar, prefs.get("theme") or "system")


async def page(
    request: Request,
    name: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render template ``name`` with the header's user, the version and ``context``."""
    me = context.pop("me", None) or await viewer(request)
    context.setdefault("path", request.url.path)
    html = templates.get_template(name).render(version=__version__, me=me, **context)
    return HTMLResponse(html, status_code=status, headers={**HTML_HEADERS, **(headers or {})})


async def error_page(request: Request, exc: AsciihubError) -> HTMLResponse:
    """An error as a page with the site's header (status from the error)."""
    # No address in the page: a hidden artwork's 404 is byte-identical to a missing one's.
    return await page(request, "error.html", status=exc.status, error=exc, path="", next_path="/")


def is_machine_path(path: str) -> bool:
    """True for paths whose errors stay JSON (the API, sockets, health, metrics)."""
    return path.startswith(MACHINE_PATHS) or path in ("/healthz", "/metrics", "/openapi.json")


Handler = Callable[[Request, Exception], Awaitable[Response]]


def html_errors(fallback: Handler) -> Handler:
    """Wrap an exception handler so that errors on site pages answer HTML pages."""

    async def handle(request: Request, exc: Exception) -> Response:
        if is_machine_path(request.url.path) or request.method not in ("GET", "HEAD"):
            return await fallback(request, exc)
        if isinstance(exc, AsciihubError):
            error = exc
        elif isinstance(exc, HTTPException) and exc.status_code == 404:
            message = "there is no page at this address"
            error = NotFound(message, code="page_not_found")
        elif isinstance(exc, HTTPException):
            return await fallback(request, exc)
        else:
            log.exception("event=page_failed path=%s", request.url.path, exc_info=exc)
            message = "something broke on our side; it has been logged"
            error = AsciihubError(message)
        try:
            return await error_page(request, error)
        except Exception:  # the error page itself failed: the plain answer still goes out
            log.exception("event=error_page_failed path=%s", request.url.path)
            return await fallback(request, exc)

    return handle
