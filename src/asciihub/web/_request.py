"""What a page route reads from its request: the services, the principal, a share link.

The API's gate resolved the principal before any page runs (the app factory mounts
the pages behind it) and left it in the ASGI scope.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from asciihub.bootstrap import Services
from asciihub.services.principals import (
    ANONYMOUS,
    PRINCIPAL_SCOPE_KEY,
    SHARE_HEADER,
    SHARE_QUERY,
    Principal,
    ShareGrant,
)


def services(connection: HTTPConnection) -> Services:
    """The services of this app."""
    built: Services = connection.app.state.services
    return built


def principal_for(connection: HTTPConnection) -> Principal:
    """The principal the gate resolved for this request (anonymous without a gate)."""
    principal = connection.scope.get(PRINCIPAL_SCOPE_KEY)
    return principal if isinstance(principal, Principal) else ANONYMOUS


def has_share_token(connection: HTTPConnection) -> bool:
    """True when the request carries a share link's token."""
    return SHARE_HEADER in connection.headers or SHARE_QUERY in connection.query_params


async def share_grant(connection: HTTPConnection) -> ShareGrant | None:
    """The share link sent with ``?share=TOKEN`` or ``X-Share-Token``, if it is valid."""
    token = connection.headers.get(SHARE_HEADER) or connection.query_params.get(SHARE_QUERY)
    if not token:
        return None
    return await services(connection).auth.shares.grant(token)
