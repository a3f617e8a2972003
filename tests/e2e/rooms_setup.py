"""Users, artworks and share links over HTTP for the WebSocket tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.users import PASSWORD, new_handle

GRID = "\n".join("." * 16 for _ in range(6))


@dataclass
class Owner:
    """A signed-up user with a write token."""

    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Its Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


async def new_owner(base_url: str) -> Owner:
    """Sign up a user and make a read+write token."""
    async with httpx.AsyncClient(base_url=base_url, headers={"Origin": base_url}) as http:
        response = await http.post(
            "/api/auth/signup", json={"handle": new_handle(), "password": PASSWORD}
        )
        assert response.status_code == 201, response.text
        user = response.json()["user"]
        made = await http.post("/api/tokens", json={"name": "ws", "scopes": ["read", "write"]})
        assert made.status_code == 201, made.text
        return Owner(user["id"], made.json()["token"])


async def new_artwork(
    base_url: str, owner: Owner, *, visibility: str = "private", frames: int = 2
) -> dict[str, Any]:
    """An artwork of ``frames`` 16x6 frames of dots."""
    async with httpx.AsyncClient(base_url=base_url, headers=owner.headers) as http:
        response = await http.post(
            "/api/artworks",
            json={
                "title": "room",
                "visibility": visibility,
                "frames": [{"text": GRID, "duration_ms": 100} for _ in range(frames)],
            },
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


async def share(base_url: str, owner: Owner, artwork_id: str, permission: str) -> str:
    """A share link's token."""
    async with httpx.AsyncClient(base_url=base_url, headers=owner.headers) as http:
        response = await http.post(
            f"/api/artworks/{artwork_id}/shares",
            json={"permission": permission, "expires_in": 3600},
        )
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token


async def read_artwork(base_url: str, owner: Owner, artwork_id: str) -> dict[str, Any]:
    """GET the artwork with its frames."""
    async with httpx.AsyncClient(base_url=base_url, headers=owner.headers) as http:
        response = await http.get(f"/api/artworks/{artwork_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def patch_frames(base_url: str, owner: Owner, artwork_id: str, text: str) -> None:
    """Replace the document outside the room (a PATCH)."""
    async with httpx.AsyncClient(base_url=base_url, headers=owner.headers) as http:
        response = await http.patch(
            f"/api/artworks/{artwork_id}", json={"frames": [{"text": text}]}
        )
        assert response.status_code == 200, response.text
