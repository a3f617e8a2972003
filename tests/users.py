"""Signing up users in tests: a session cookie on an httpx client, or a Bearer token."""

from __future__ import annotations

import secrets
from typing import Any

PASSWORD = "correct horse battery staple"
ORIGIN = "http://testserver"


def new_handle(prefix: str = "user") -> str:
    """A fresh, valid handle."""
    return f"{prefix}-{secrets.token_hex(4)}"


async def signup(
    client: Any, handle: str | None = None, password: str = PASSWORD
) -> dict[str, Any]:
    """Sign ``client`` up as a new user; its cookie jar then holds the session.

    The client also sends ``Origin: http://testserver`` from now on, as a browser on
    the site would, so cookie-authenticated writes pass the CSRF check.
    """
    client.headers["Origin"] = str(client.base_url).rstrip("/") if client.base_url else ORIGIN
    response = await client.post(
        "/api/auth/signup", json={"handle": handle or new_handle(), "password": password}
    )
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


async def login(client: Any, handle: str, password: str = PASSWORD) -> Any:
    """Log ``client`` in; the response."""
    client.headers["Origin"] = str(client.base_url).rstrip("/")
    return await client.post("/api/auth/login", json={"handle": handle, "password": password})


async def token(
    client: Any, scopes: tuple[str, ...] = ("read", "write"), name: str = "test"
) -> str:
    """A new API token of the user ``client`` is logged in as."""
    response = await client.post("/api/tokens", json={"name": name, "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    secret: str = response.json()["token"]
    return secret


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {secret}"}


def sync_signup(http: Any, handle: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
    """:func:`signup` for a synchronous ``httpx.Client`` (end-to-end tests)."""
    http.headers["Origin"] = str(http.base_url).rstrip("/")
    response = http.post(
        "/api/auth/signup", json={"handle": handle or new_handle(), "password": password}
    )
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()["user"]
    return user
