"""Who is asking: the principal every service call acts for."""

from __future__ import annotations

from dataclasses import dataclass, field

from asciihub.errors import Forbidden, Unauthenticated

LOCAL_USER_ID = "local"
PRINCIPAL_SCOPE_KEY = "asciihub.principal"
"""Where the HTTP adapters keep a request's resolved principal in its ASGI scope."""
SHARE_HEADER = "x-share-token"
"""The request header (or ``?share=`` query parameter) carrying a share link's token."""
SHARE_QUERY = "share"
SHARE_RESPONSE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
"""Headers of every answer to a request made with a share link (never cached or leaked)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated user (``user_id``) or anonymous (``user_id`` None).

    ``token_id`` is set when an API token authenticated the request, ``session_id``
    (the digest of the session secret) when a login session did.
    """

    user_id: str | None = None
    scopes: frozenset[str] = field(default_factory=lambda: frozenset({"read", "write"}))
    token_id: str | None = None
    session_id: str | None = None

    @property
    def is_anonymous(self) -> bool:
        """True when nobody is logged in."""
        return self.user_id is None

    def can_write(self) -> bool:
        """True when the principal may change things."""
        return self.user_id is not None and "write" in self.scopes


ANONYMOUS = Principal(user_id=None, scopes=frozenset())
LOCAL = Principal(user_id=LOCAL_USER_ID)


@dataclass(frozen=True)
class ShareGrant:
    """What a valid share link lets its holder do with one artwork."""

    share_id: str
    artwork_id: str
    permission: str

    def allows(self, artwork_id: str, permission: str = "view") -> bool:
        """True when this link covers ``artwork_id`` with at least ``permission``."""
        if self.artwork_id != artwork_id:
            return False
        return permission == "view" or self.permission == "edit"


def writer_id(principal: Principal, doing: str) -> str:
    """The user id of a principal allowed to write; 401 or 403 naming ``doing`` if not."""
    if principal.user_id is None:
        message = f"log in or send an API token to {doing}"
        raise Unauthenticated(message)
    if not principal.can_write():
        message = "this token may only read; it needs the write scope"
        raise Forbidden(message, code="insufficient_scope")
    return principal.user_id
