"""Accounts, sessions and preferences over HTTP, on every backend combination."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.api.test_artworks_api import create
from tests.users import PASSWORD, bearer, login, new_handle, token


@pytest.fixture
async def other(client: Any) -> Any:
    """A second client on the same app, with its own cookie jar."""
    transport = httpx.ASGITransport(app=client.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        http.app = client.app  # type: ignore[attr-defined]
        yield http


async def test_signup_login_logout_and_me(client: Any, other: Any) -> None:
    me = await client.get("/api/me")
    assert me.status_code == 200 and me.json()["user"]["handle"] == client.user["handle"]
    assert me.headers["cache-control"] == "no-store"
    assert (await other.get("/api/me")).status_code == 401
    logged = await login(other, client.user["handle"])
    assert logged.status_code == 200 and logged.json()["user"]["id"] == client.user["id"]
    assert (await other.get("/api/me")).status_code == 200
    assert (await other.post("/api/auth/logout")).status_code == 204
    assert (await other.get("/api/me")).status_code == 401
    assert (await client.get("/api/me")).status_code == 200, "logout ends only its own session"


async def test_login_failures_look_the_same(client: Any, other: Any) -> None:
    wrong = await login(other, client.user["handle"], "not the password at all")
    unknown = await login(other, "nobody-like-this", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


SIGNUP_RULES = [
    ("ab", PASSWORD, "invalid_handle"),
    ("has space", PASSWORD, "invalid_handle"),
    ("-dash", PASSWORD, "invalid_handle"),
    ("x" * 33, PASSWORD, "invalid_handle"),
    ("admin", PASSWORD, "handle_reserved"),
    ("Local", PASSWORD, "handle_reserved"),
    (None, "short", "password_too_short"),
    (None, "password123", "password_too_common"),
    (None, "qwertyuiop", "password_too_common"),
    (None, "aaaaaaaaaaaaaaa", "password_too_common"),
    (None, "x" * 257 + "yz", "password_too_long"),
]


async def test_signup_rules(other: Any) -> None:
    other.headers["Origin"] = "http://testserver"
    for handle, password, code in SIGNUP_RULES:
        response = await other.post(
            "/api/auth/signup", json={"handle": handle or new_handle(), "password": password}
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == code, (handle, password)
        assert "set-cookie" not in response.headers


async def test_signup_refuses_taken_handles_and_unknown_fields(client: Any, other: Any) -> None:
    other.headers["Origin"] = "http://testserver"
    taken = await other.post(
        "/api/auth/signup", json={"handle": client.user["handle"].upper(), "password": PASSWORD}
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "handle_taken"
    extra = await other.post(
        "/api/auth/signup", json={"handle": new_handle(), "password": PASSWORD, "is_admin": True}
    )
    assert extra.status_code == 400 and extra.json()["error"]["code"] == "unknown_field"


async def test_writes_need_credentials(client: Any, other: Any) -> None:
    anonymous = await other.post("/api/artworks", json={"frames": [{"text": "x"}]})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"


async def test_password_change_ends_every_other_session(client: Any, other: Any) -> None:
    await login(other, client.user["handle"])
    old_cookie = client.cookies["asciihub_session"]
    wrong = await client.post(
        "/api/me/password",
        json={"current_password": "nope nope nope", "new_password": "a new long passphrase"},
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
    changed = await client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "a new long passphrase"},
    )
    assert changed.status_code == 204
    assert client.cookies["asciihub_session"] != old_cookie
    assert (await client.get("/api/me")).status_code == 200
    assert (await other.get("/api/me")).status_code == 401
    assert (await login(other, client.user["handle"])).status_code == 401
    assert (await login(other, client.user["handle"], "a new long passphrase")).status_code == 200


async def test_tokens_cannot_change_passwords_or_manage_tokens(client: Any, other: Any) -> None:
    secret = await token(client)
    headers = bearer(secret)
    change = await other.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "another long passphrase"},
        headers=headers,
    )
    assert change.status_code == 403 and change.json()["error"]["code"] == "session_required"
    assert (await other.get("/api/tokens", headers=headers)).status_code == 403
    assert (await other.get("/api/me", headers=headers)).status_code == 200


async def test_account_deletion_removes_everything(client: Any, other: Any) -> None:
    services = client.app.starlette.state.services
    art = await create(client, visibility="public")
    share = (
        await client.post(f"/api/artworks/{art['id']}/shares", json={"permission": "view"})
    ).json()
    secret = await token(client)
    await login(other, client.user["handle"])
    refused = await client.request("DELETE", "/api/me", json={"password": "wrong wrong wrong"})
    assert refused.status_code == 403
    deleted = await client.request("DELETE", "/api/me", json={"password": PASSWORD})
    assert deleted.status_code == 204
    assert (await client.get("/api/me")).status_code == 401
    assert (await other.get("/api/me")).status_code == 401
    assert (await other.get("/api/me", headers=bearer(secret))).status_code == 401
    assert (await other.get(f"/api/artworks/{art['id']}")).status_code == 404
    assert (await other.get(f"/api/shares/{share['token']}")).status_code == 404
    assert await services.objects.get(art["r2_key"]) is None
    assert await services.auth.accounts.accounts.get(client.user["id"]) is None
    assert (await login(other, client.user["handle"])).status_code == 401


async def test_preferences(client: Any) -> None:
    assert (await client.get("/api/me/preferences")).json() == {
        "style": None,
        "width": None,
        "color_mode": None,
        "theme": None,
    }
    prefs = {"style": "shape", "width": 120, "color_mode": "ansi256", "theme": "dark"}
    saved = await client.put("/api/me/preferences", json=prefs)
    assert saved.status_code == 200 and saved.json() == prefs
    assert (await client.get("/api/me/preferences")).json() == prefs
    for bad in ({"width": 3}, {"theme": "neon"}, {"color_mode": "cmyk"}, {"font": "x"}):
        assert (await client.put("/api/me/preferences", json=bad)).status_code == 400, bad


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def test_avatar_is_reencoded_and_limited(client: Any, other: Any) -> None:
    uploaded = await client.put(
        "/api/me/avatar", content=_png(300, 200), headers={"content-type": "image/png"}
    )
    assert uploaded.status_code == 200, uploaded.text
    url = uploaded.json()["user"]["avatar_url"]
    avatar = await other.get(url)
    assert avatar.status_code == 200 and avatar.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(avatar.content)).size == (256, 256)
    services = client.app.starlette.state.services
    assert await services.objects.get(f"avatars/{client.user['id']}.png") is not None
    # A header declaring 5000x5000 pixels is refused before decoding.
    huge = await client.put(
        "/api/me/avatar", content=_png(5000, 5000), headers={"content-type": "image/png"}
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "avatar_too_many_pixels"
    junk = await client.put(
        "/api/me/avatar", content=b"GIF89a not really", headers={"content-type": "image/gif"}
    )
    assert junk.status_code == 415 and junk.json()["error"]["code"] == "invalid_image"
    text = await client.put("/api/me/avatar", content=b"x", headers={"content-type": "text/plain"})
    assert text.status_code == 415
    assert (await client.delete("/api/me/avatar")).status_code == 204
    assert (await other.get(url)).status_code == 404
