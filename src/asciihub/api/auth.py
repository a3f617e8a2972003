"""Who is asking: turning a request into a Principal, once, in front of every route.

:class:`AuthGate` runs before Starlette. It resolves the principal from
``Authorization: Bearer`` (an API token; a bad one answers 401) or the session cookie
(an unknown or expired one is simply anonymous), refuses forged cookie requests
(see :mod:`asciihub.api.csrf`) and foreign-origin WebSocket handshakes, and counts
the request against its rate-limit class. Routes then call :func:`principal_for`.
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from asciihub.api.csrf import csrf_refused, needs_check, origin_allowed, site_origins
from asciihub.api.metrics_guard import METRICS_PATH, MetricsGuard
from asciihub.api.responses import error_response
from asciihub.bootstrap import Services
from asciihub.errors import AsciihubError, Unauthenticated
from asciihub.services.principals import ANONYMOUS, SHARE_HEADER, SHARE_QUERY, Principal, ShareGrant
from asciihub.services.principals import PRINCIPAL_SCOPE_KEY as SCOPE_KEY
from asciihub.settings import Settings

COOKIE = "asciihub_session"
SECURE_COOKIE = "__Host-asciihub_session"
_UNLIMITED = ("/static/", "/healthz", "/metrics")
_EXPENSIVE = re.compile(r"^/api/(generate|convert)$|^/api/artworks/[^/]+/exports$")


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def is_secure(scope: Scope, settings: Settings) -> bool:
    """True when the session cookie must be Secure (and ``__Host-`` prefixed)."""
    mode = settings.session_cookie_secure
    if mode != "auto":
        return mode == "always"
    return settings.public_url.startswith("https://") or scope.get("scheme") in ("https", "wss")


def cookie_name(scope: Scope, settings: Settings) -> str:
    """The session cookie's name for this request."""
    return SECURE_COOKIE if is_secure(scope, settings) else COOKIE


def _session_secret(headers: dict[str, str], name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is no session
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def set_session_cookie(response: Response, connection: HTTPConnection, secret: str) -> None:
    """Attach the session cookie: HttpOnly, SameSite=Lax, Secure under HTTPS."""
    settings: Settings = connection.app.state.settings
    secure = is_secure(connection.scope, settings)
    response.set_cookie(
        cookie_name(connection.scope, settings),
        secret,
        max_age=settings.session_max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, connection: HTTPConnection) -> None:
    """Tell the browser to drop the session cookie."""
    settings: Settings = connection.app.state.settings
    secure = is_secure(connection.scope, settings)
    response.delete_cookie(
        cookie_name(connection.scope, settings),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def client_ip(connection: HTTPConnection | Scope) -> str:
    """The client address: the TCP peer, or what a proxy in ``forwarded_allow_ips`` said."""
    scope = connection.scope if isinstance(connection, HTTPConnection) else connection
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def principal_for(connection: HTTPConnection) -> Principal:
    """The principal a request or WebSocket acts for (resolved once by the gate)."""
    principal = connection.scope.get(SCOPE_KEY)
    if isinstance(principal, Principal):
        return principal
    services: Services = connection.app.state.services
    return await _authenticate(services, connection.scope, _headers(connection.scope))


async def share_grant(connection: HTTPConnection) -> ShareGrant | None:
    """The share link sent with ``?share=TOKEN`` or ``X-Share-Token``, if it is valid."""
    token = connection.headers.get(SHARE_HEADER) or connection.query_params.get(SHARE_QUERY)
    if not token:
        return None
    services: Services = connection.app.state.services
    return await services.auth.shares.grant(token)


def _invalid_token() -> Unauthenticated:
    message = "the API token is unknown or revoked; send Authorization: Bearer TOKEN"
    return Unauthenticated(message, code="invalid_token")


async def _authenticate(services: Services, scope: Scope, headers: dict[str, str]) -> Principal:
    authorization = headers.get("authorization")
    if authorization is not None:
        kind, _, value = authorization.strip().partition(" ")
        if kind.lower() != "bearer" or not value.strip():
            raise _invalid_token()
        principal = await services.auth.tokens.authenticate(value.strip())
        if principal is None:
            raise _invalid_token()
        return principal
    secret = _session_secret(headers, cookie_name(scope, services.settings))
    if secret:
        session = await services.auth.sessions.resolve(secret)
        if session is not None:
            return Principal(user_id=session.user_id, session_id=session.session_id)
    return ANONYMOUS


def _is_token_client(headers: dict[str, str], principal: Principal) -> bool:
    """A handshake with a valid Bearer token and no ``Origin``: not a browser.

    Browsers always send ``Origin`` on a WebSocket handshake and cannot set an
    ``Authorization`` header on one, so such a client needs no origin check; a
    handshake that carries an ``Origin`` is checked whatever else it carries.
    """
    return (
        "origin" not in headers
        and principal.token_id is not None
        and headers.get("authorization", "").lower().startswith("bearer ")
    )


class AuthGate:
    """Resolves the principal, counts rate limits, enforces CSRF and WebSocket origins.

    Every request is counted before the CSRF check, so refused forgeries (a malformed
    ``Origin`` or ``Host`` included) are throttled like any other request. Unknown
    Bearer tokens are counted per client IP (``rate_limit_invalid_token``); ``/metrics``
    answers only the scrape token or an address in ``metrics_allow``.
    """

    def __init__(self, app: ASGIApp, settings: Settings | None = None) -> None:
        self.app = app
        self.services: Services | None = None
        self.metrics = MetricsGuard(settings) if settings is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = self.services
        if scope["type"] not in ("http", "websocket") or services is None:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if scope["type"] == "http" and scope["path"] == METRICS_PATH:
            self.metrics = self.metrics or MetricsGuard(services.settings)
            try:
                self.metrics.check(client_ip(scope), headers)
            except AsciihubError as exc:
                await error_response(exc)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._principal(services, scope, headers)
            if scope["type"] == "websocket":
                allowed = site_origins(scope["scheme"], headers.get("host"), services.settings)
                if not _is_token_client(headers, principal) and not origin_allowed(
                    headers, allowed
                ):
                    await send({"type": "websocket.close", "code": 1008})
                    return
            else:
                await self._count(services, scope, principal)
                self._check_csrf(services, scope, headers)
        except AsciihubError as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            response = error_response(exc)
            if exc.code == "invalid_token":
                response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            await response(scope, receive, send)
            return
        scope[SCOPE_KEY] = principal
        await self.app(scope, receive, send)

    @staticmethod
    async def _principal(services: Services, scope: Scope, headers: dict[str, str]) -> Principal:
        """The principal; an unknown token is counted per IP (429 once over the limit)."""
        try:
            return await _authenticate(services, scope, headers)
        except Unauthenticated as exc:
            if exc.code == "invalid_token":
                auth = services.auth
                await auth.limiter.hit(auth.invalid_token, f"ip:{client_ip(scope)}")
            raise

    @staticmethod
    def _check_csrf(services: Services, scope: Scope, headers: dict[str, str]) -> None:
        has_cookie = _session_secret(headers, cookie_name(scope, services.settings)) is not None
        if not needs_check(scope["method"], scope["path"], headers, has_cookie):
            return
        allowed = site_origins(scope["scheme"], headers.get("host"), services.settings)
        if not origin_allowed(headers, allowed):
            raise csrf_refused()

    @staticmethod
    async def _count(services: Services, scope: Scope, principal: Principal) -> None:
        path: str = scope["path"]
        if path.startswith(_UNLIMITED):
            return
        auth = services.auth
        expensive = _EXPENSIVE.match(path) is not None
        if expensive:
            limit = auth.expensive
        elif scope["method"] in ("GET", "HEAD", "OPTIONS"):
            limit = auth.read
        else:
            limit = auth.write
        if principal.token_id is not None and not expensive:
            subject = f"t:{principal.token_id}"
        elif principal.user_id is not None:
            # The expensive class is per user: minting more tokens buys no more work.
            subject = f"u:{principal.user_id}"
        else:
            subject = f"ip:{client_ip(scope)}"
        await auth.limiter.hit(limit, subject)
        if path.startswith("/api/"):
            services.background.analytics.count_api_call(principal)
