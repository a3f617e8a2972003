"""API tokens and share links over HTTP, on every backend combination."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.api.test_artworks_api import create
from tests.users import bearer, token

NOT_FOUND = {"error": {"code": "artwork_not_found", "message": "no artwork with this id"}}


@pytest.fixture
async def anon(client: Any) -> Any:
    """A client without cookies or Origin header (a script)."""
    transport = httpx.ASGITransport(app=client.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_token_lifecycle(client: Any, anon: Any) -> None:
    created = await client.post("/api/tokens", json={"name": "ci", "scopes": ["read", "write"]})
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("ah_") and len(body["token"]) == 46
    listed = (await client.get("/api/tokens")).json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert "token" not in listed[0] and listed[0]["last_used_at"] is None
    # Bearer requests need no Origin header (no CSRF check) and may write.
    art = await anon.post(
        "/api/artworks", json={"frames": [{"text": "t"}]}, headers=bearer(body["token"])
    )
    assert art.status_code == 201 and art.json()["user_id"] == client.user["id"]
    assert (await client.get("/api/tokens")).json()["items"][0]["last_used_at"] is not None
    assert (await client.delete(f"/api/tokens/{body['id']}")).status_code == 204
    revoked = await anon.get(f"/api/artworks/{art.json()['id']}", headers=bearer(body["token"]))
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "invalid_token"
    assert revoked.headers["www-authenticate"].startswith("Bearer")
    assert (await client.delete(f"/api/tokens/{body['id']}")).status_code == 404
    assert (await client.get("/api/tokens")).json()["items"] == []


async def test_read_tokens_cannot_write(client: Any, anon: Any) -> None:
    headers = bearer(await token(client, ("read",)))
    private = await create(client, visibility="private")
    assert (await anon.get(f"/api/artworks/{private['id']}", headers=headers)).status_code == 200
    write = await anon.post("/api/artworks", json={"frames": [{"text": "t"}]}, headers=headers)
    assert write.status_code == 403 and write.json()["error"]["code"] == "insufficient_scope"
    patch = await anon.patch(f"/api/artworks/{private['id']}", json={"title": "x"}, headers=headers)
    assert patch.status_code == 403


async def test_bad_token_requests(client: Any) -> None:
    for payload, code in (
        ({"scopes": ["admin"]}, "invalid_scopes"),
        ({"scopes": []}, "invalid_scopes"),
        ({"name": ""}, "invalid_name"),
        ({"name": "x", "user_id": "someone"}, "unknown_field"),
    ):
        response = await client.post("/api/tokens", json=payload)
        assert response.status_code == 400 and response.json()["error"]["code"] == code


async def test_garbage_authorization_is_refused(client: Any, anon: Any) -> None:
    for value in ("Bearer nope", "Basic dXNlcjpwYXNz", "Bearer ", "ah_" + "A" * 43):
        response = await anon.get("/api/gallery", headers={"Authorization": value})
        assert response.status_code == 401, value


async def test_view_and_edit_links(client: Any, anon: Any) -> None:
    art = await create(client, visibility="private", title="secret")
    url = f"/api/artworks/{art['id']}"
    view = (
        await client.post(f"{url}/shares", json={"permission": "view", "expires_in": 3600})
    ).json()
    edit = (await client.post(f"{url}/shares", json={"permission": "edit"})).json()
    assert view["url"].endswith(f"/s/{view['token']}")
    opened = await anon.get(f"/api/shares/{view['token']}")
    assert opened.status_code == 200 and opened.json()["permission"] == "view"
    assert opened.json()["frames"] and opened.json()["id"] == art["id"]
    assert opened.headers["referrer-policy"] == "no-referrer"
    assert opened.headers["cache-control"] == "no-store"
    assert (await anon.get(url)).status_code == 404
    assert (await anon.get(url, params={"share": view["token"]})).status_code == 200
    assert (await anon.get(url, headers={"X-Share-Token": view["token"]})).status_code == 200
    assert (await anon.get(f"/a/{art['id']}", params={"share": view["token"]})).status_code == 200
    thumb = await anon.get(f"/a/{art['id']}/thumbnail.png", params={"share": view["token"]})
    assert thumb.status_code == 200
    page = await anon.get(f"/s/{view['token']}")
    assert page.status_code == 200 and "secret" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"

    read_only = await anon.patch(url, json={"title": "x"}, headers={"X-Share-Token": view["token"]})
    assert read_only.status_code == 403 and read_only.json()["error"]["code"] == "share_read_only"
    edited = await anon.patch(
        url, json={"title": "edited", "frames": [{"text": "e"}]}, params={"share": edit["token"]}
    )
    assert edited.status_code == 200 and edited.json()["title"] == "edited"
    for field in ({"visibility": "public"}, {"tags": ["x"]}, {"prompt": "p"}):
        refused = await anon.patch(
            url, json={"title": "t", **field}, params={"share": edit["token"]}
        )
        assert refused.status_code == 403, field
        assert refused.json()["error"]["code"] == "share_field_forbidden"
    assert (await anon.delete(url, params={"share": edit["token"]})).status_code == 401
    shares = (await client.get(f"{url}/shares")).json()["items"]
    assert {item["id"] for item in shares} == {view["id"], edit["id"]}
    assert all("token" not in item for item in shares)


async def test_revoked_and_expired_links_answer_like_nothing(client: Any, anon: Any) -> None:
    services = client.app.starlette.state.services
    art = await create(client, visibility="private")
    url = f"/api/artworks/{art['id']}"
    link = (
        await client.post(f"{url}/shares", json={"permission": "view", "expires_in": 60})
    ).json()
    never = await anon.get("/api/artworks/AAAAAAAAAAAAAAAAAAAAAA")
    assert (await anon.get(f"/api/shares/{link['token']}")).status_code == 200
    shares = services.auth.shares
    real_clock = shares.clock
    shares.clock = lambda: real_clock() + timedelta(seconds=61)
    try:
        expired = await anon.get(url, params={"share": link["token"]})
        assert expired.status_code == 404 and expired.content == never.content
        assert (await anon.get(f"/api/shares/{link['token']}")).json() == NOT_FOUND
        assert (await client.get(f"{url}/shares")).json()["items"] == []
    finally:
        shares.clock = real_clock
    second = (await client.post(f"{url}/shares", json={"permission": "edit"})).json()
    assert (await client.delete(f"{url}/shares/{second['id']}")).status_code == 204
    revoked = await anon.get(f"/api/shares/{second['token']}")
    assert revoked.status_code == 404 and revoked.json() == NOT_FOUND
    patch = await anon.patch(url, json={"title": "x"}, params={"share": second["token"]})
    assert patch.status_code == 401
    assert (await client.delete(f"{url}/shares/{second['id']}")).status_code == 404


async def test_bad_share_requests(client: Any) -> None:
    art = await create(client)
    for payload, code in (
        ({"permission": "own"}, "invalid_permission"),
        ({"expires_in": 10}, "invalid_expiry"),
        ({"expires_in": 10**9}, "invalid_expiry"),
        ({"expires_in": "1h"}, "invalid_expiry"),
        ({"permission": "view", "visibility": "public"}, "unknown_field"),
    ):
        response = await client.post(f"/api/artworks/{art['id']}/shares", json=payload)
        assert response.status_code == 400 and response.json()["error"]["code"] == code


async def test_patch_through_a_share_link_is_never_cached_nor_referred(
    client: Any, anon: Any
) -> None:
    art = await create(client, visibility="private", title="secret")
    url = f"/api/artworks/{art['id']}"
    edit = (await client.post(f"{url}/shares", json={"permission": "edit"})).json()
    view = (await client.post(f"{url}/shares", json={"permission": "view"})).json()
    edited = await anon.patch(url, json={"title": "e"}, headers={"X-Share-Token": edit["token"]})
    refused = await anon.patch(url, json={"title": "x"}, headers={"X-Share-Token": view["token"]})
    assert (edited.status_code, refused.status_code) == (200, 403)
    for answer in (edited, refused):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
    own = await client.patch(url, json={"title": "mine"})
    assert own.headers.get("cache-control") != "no-store"
