"""CSRF defence: a strict Origin check on unsafe requests a browser could forge.

A request needs the check when its method is unsafe (POST, PUT, PATCH, DELETE), it
carries no ``Authorization`` header (Bearer requests are exempt: no browser attaches
one on its own), and it either carries the session cookie or goes to ``/api/auth/``
(login CSRF). It passes when its ``Origin`` is the site's own origin, ``public_url``'s
origin or one of ``csrf_trusted_origins``; without an ``Origin`` header it passes only
with ``Sec-Fetch-Site: same-origin``. Anything else, a malformed ``Origin`` or ``Host``
included, is refused with 403 ``csrf_failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from asciihub.errors import Forbidden
from asciihub.settings import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url``; None when it is not a valid http(s) origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises on a port out of range or not a number
        hostname = parts.hostname
    except ValueError:  # "http://[", "http://host:99999", "http://host:abc"
        return None
    if parts.scheme not in ("http", "https") or not hostname:
        return None
    host = hostname.lower()
    if port is None or str(port) == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def site_origins(scheme: str, host: str | None, settings: Settings) -> set[str]:
    """The origins allowed to send cookie-authenticated unsafe requests."""
    allowed: set[str] = set()
    http_scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    if host:
        own = _origin(f"{http_scheme}://{host}")
        if own:
            allowed.add(own)
    if settings.public_url:
        public = _origin(settings.public_url)
        if public:
            allowed.add(public)
    for extra in settings.csrf_trusted_origins.split(","):
        trusted = _origin(extra) if extra.strip() else None
        if trusted:
            allowed.add(trusted)
    return allowed


def origin_allowed(headers: Mapping[str, str], allowed: set[str]) -> bool:
    """True when ``Origin`` is allowed, or absent with ``Sec-Fetch-Site: same-origin``."""
    origin = headers.get("origin")
    if origin is not None:
        parsed = _origin(origin)
        return parsed is not None and parsed in allowed
    return headers.get("sec-fetch-site") == "same-origin"


def needs_check(method: str, path: str, headers: Mapping[str, str], has_cookie: bool) -> bool:
    """True when this request could have been forged by another site."""
    if method not in UNSAFE_METHODS or "authorization" in headers:
        return False
    return has_cookie or path.startswith("/api/auth/")


def csrf_refused() -> Forbidden:
    """The error for a request that failed the check."""
    message = (
        "cross-site request refused: cookie-authenticated changes must come from this "
        "site (Origin header), or use an API token"
    )
    return Forbidden(message, code="csrf_failed")
