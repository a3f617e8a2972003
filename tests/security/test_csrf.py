"""CSRF and cross-site WebSockets (goal S4): forged cookie requests change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import Route

from asciihub.api.auth import AuthGate
from tests.api.test_artworks_api import FRAMES
from tests.users import bearer, signup, token

pytestmark = pytest.mark.parametrize("deployment_settings", ["embedded"], indirect=True)
EVIL = "https://evil.example"
FORGERIES = [
    ("foreign Origin", {"Origin": EVIL}, "json"),
    ("cross-site fetch", {"Sec-Fetch-Site": "cross-site"}, "json"),
    ("no Origin, no token", {}, "json"),
    ("text/plain from elsewhere", {"Origin": EVIL}, "text"),
    ("form from elsewhere", {"Origin": EVIL}, "form"),
    ("null Origin", {"Origin": "null"}, "json"),
    ("look-alike Origin", {"Origin": "http://testserver.evil.example"}, "json"),
]


async def _targets(client: Any) -> list[tuple[str, str, Any]]:
    """Every unsafe route with real ids filled in, and a body that would succeed."""
    art = (
        await client.post("/api/artworks", json={"frames": FRAMES, "visibility": "public"})
    ).json()
    share = (await client.post(f"/api/artworks/{art['id']}/shares", json={})).json()
    listed = (await client.get("/api/tokens")).json()["items"]
    values = {"artwork_id": art["id"], "share_id": share["id"], "token_id": listed[0]["id"]}
    bodies = {
        "/api/artworks": {"frames": FRAMES},
        "/api/artworks/{artwork_id}": {"title": "forged"},
        "/api/artworks/{artwork_id}/shares": {"permission": "edit"},
        "/api/tokens": {"name": "forged", "scopes": ["read", "write"]},
        "/api/me/preferences": {"theme": "dark"},
        "/api/me/password": {"current_password": "x", "new_password": "forged forged forged"},
        "/api/me": {"password": "x"},
        "/api/auth/login": {"handle": "x", "password": "y"},
        "/api/auth/signup": {"handle": "forged-user", "password": "forged forged forged"},
    }
    targets = []
    for route in client.app.starlette.routes:
        if not isinstance(route, Route):
            continue
        for method in sorted((route.methods or set()) - {"GET", "HEAD"}):
            path = route.path.format(
                **{k: v for k, v in values.items() if "{" + k + "}" in route.path}
            )
            targets.append((method, path, bodies.get(route.path)))
    return targets


async def _state(client: Any) -> tuple[Any, ...]:
    services = client.app.starlette.state.services
    tables = []
    async with services.db.read() as conn:
        import sqlalchemy as sa

        for name in (
            "users",
            "ascii_metadata",
            "api_tokens",
            "share_links",
            "user_preferences",
            "user_security",
        ):
            rows = (await conn.execute(sa.text(f"SELECT * FROM {name}"))).all()
            tables.append(sorted(map(repr, rows)))
    keys = []
    for prefix in ("session:", "user-sessions:"):
        page = await services.kv.list(prefix)
        keys.append(sorted(key.name for key in page.keys))
    return tuple(tables), tuple(keys)


async def test_forged_cookie_requests_are_refused_and_change_nothing(client: Any) -> None:
    # Forgeries are counted like any request; this test is about CSRF, not the limits.
    client.app.starlette.state.services.auth.limiter.enabled = False
    await signup(client)
    secret = await token(client)
    targets = await _targets(client)
    assert len(targets) >= 14
    before = await _state(client)
    del client.headers["Origin"]
    refused = 0
    for name, headers, kind in FORGERIES:
        for method, path, body in targets:
            if kind == "json":
                response = await client.request(method, path, json=body, headers=headers)
            elif kind == "text":
                response = await client.request(
                    method,
                    path,
                    content=b'{"a":1}',
                    headers={**headers, "Content-Type": "text/plain"},
                )
            else:
                response = await client.request(
                    method, path, data={"title": "forged"}, headers=headers
                )
            assert response.status_code == 403, (name, method, path, response.text)
            assert response.json()["error"]["code"] == "csrf_failed"
            refused += 1
    assert refused == len(FORGERIES) * len(targets)
    assert await _state(client) == before
    # The same routes with a Bearer token and a foreign Origin are not CSRF-checked.
    client.cookies.clear()
    for method, path, body in targets:
        response = await client.request(
            method, path, json=body, headers={"Origin": EVIL, **bearer(secret)}
        )
        assert not (
            response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
        ), path


async def test_same_origin_requests_pass(client: Any) -> None:
    await signup(client)
    del client.headers["Origin"]
    by_fetch_metadata = await client.post(
        "/api/artworks", json={"frames": FRAMES}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert by_fetch_metadata.status_code == 201
    by_origin = await client.post(
        "/api/artworks", json={"frames": FRAMES}, headers={"Origin": "http://testserver"}
    )
    assert by_origin.status_code == 201


async def test_safe_methods_change_no_state(client: Any) -> None:
    await signup(client)
    art = (await client.post("/api/artworks", json={"frames": FRAMES})).json()
    before = await _state(client)
    for path in (
        "/",
        "/api/gallery",
        f"/api/artworks/{art['id']}",
        f"/a/{art['id']}",
        "/api/me",
        "/api/tokens",
    ):
        assert (await client.get(path, headers={"Origin": EVIL})).status_code == 200
    assert await _state(client) == before


@pytest.mark.parametrize("origin", [EVIL, None])
async def test_websocket_handshake_from_a_foreign_origin_is_closed(
    client: Any, origin: str | None
) -> None:
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])

    gate = AuthGate(app)
    gate.services = client.app.starlette.state.services
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    headers = [(b"host", b"testserver")] + ([(b"origin", origin.encode())] if origin else [])
    scope = {
        "type": "websocket",
        "path": "/ws/jobs/x",
        "scheme": "ws",
        "headers": headers,
        "query_string": b"",
    }
    await gate(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}] and reached == []
    same = {**scope, "headers": [(b"host", b"testserver"), (b"origin", b"http://testserver")]}
    await gate(same, receive, send)
    assert reached == ["/ws/jobs/x"]
