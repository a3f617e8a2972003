"""Sessions and cookies (goals S3, S10): flags, fixation, expiry with an injected clock."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from asciihub.api.app import create_app
from asciihub.services.ids import new_secret
from asciihub.services.tokens import TOKEN_PREFIX
from tests.stack import make_settings
from tests.users import PASSWORD, bearer, login, signup, token


@pytest.mark.parametrize(
    ("base_url", "mode", "name", "secure"),
    [
        ("http://testserver", "auto", "asciihub_session", False),
        ("https://testserver", "auto", "__Host-asciihub_session", True),
        ("http://testserver", "always", "__Host-asciihub_session", True),
        ("https://testserver", "never", "asciihub_session", False),
    ],
)
async def test_cookie_flags(
    data_dir: Path, base_url: str, mode: str, name: str, secure: bool
) -> None:
    app = create_app(make_settings(data_dir, session_cookie_secure=mode))
    async with app.starlette.router.lifespan_context(app.starlette):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            http.headers["Origin"] = base_url
            response = await http.post(
                "/api/auth/signup", json={"handle": "cookie-user", "password": PASSWORD}
            )
            assert response.status_code == 201
            cookie = response.headers["set-cookie"]
            parts = [part.strip().lower() for part in cookie.split(";")]
            assert cookie.startswith(f"{name}=")
            assert "httponly" in parts and "samesite=lax" in parts and "path=/" in parts
            assert ("secure" in parts) is secure
            assert not any(part.startswith("domain") for part in parts)
            value = cookie.split(";")[0].split("=", 1)[1]
            assert len(value) == 43
            me = await http.get("/api/me", headers={"Cookie": f"{name}={value}"})
            assert me.status_code == 200
            other = "asciihub_session" if secure else "__Host-asciihub_session"
            assert (
                await http.get("/api/me", headers={"Cookie": f"{other}={value}"})
            ).status_code == 401


async def test_login_rotates_the_session_id(client: Any) -> None:
    user = await signup(client)
    first = client.cookies["asciihub_session"]
    assert (await login(client, user["handle"])).status_code == 200
    second = client.cookies["asciihub_session"]
    assert second != first
    client.cookies.clear()
    assert (
        await client.get("/api/me", headers={"Cookie": f"asciihub_session={first}"})
    ).status_code == 401
    # A value planted before login (fixation) is never adopted.
    planted = new_secret()
    client.cookies.set("asciihub_session", planted, domain="testserver.local")
    assert (await login(client, user["handle"])).status_code == 200
    assert client.cookies["asciihub_session"] != planted
    client.cookies.clear()
    assert (
        await client.get("/api/me", headers={"Cookie": f"asciihub_session={planted}"})
    ).status_code == 401


async def test_idle_and_absolute_expiry(client: Any) -> None:
    sessions = client.app.starlette.state.services.auth.sessions
    now = [1_000_000.0]
    sessions.clock = lambda: now[0]
    user = await signup(client)
    assert (await client.get("/api/me")).status_code == 200
    for _ in range(40):  # used every 23 h: renewed each time, until the 30-day cap
        now[0] += 23 * 3600
        status = (await client.get("/api/me")).status_code
        if now[0] - 1_000_000.0 < sessions.max_age:
            assert status == 200, now[0]
        else:
            assert status == 401
            break
    else:
        pytest.fail("the absolute cap never ended the session")
    await login(client, user["handle"])
    now[0] += sessions.ttl + 1  # idle longer than the TTL
    assert (await client.get("/api/me")).status_code == 401


async def test_no_secret_is_stored_or_logged(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    services = client.app.starlette.state.services
    user = await signup(client)
    session = client.cookies["asciihub_session"]
    api_token = await token(client)
    art = (await client.post("/api/artworks", json={"frames": [{"text": "x"}]})).json()
    share = (
        await client.post(f"/api/artworks/{art['id']}/shares", json={"permission": "edit"})
    ).json()
    await client.get(f"/api/shares/{share['token']}")
    await client.get("/api/me", headers=bearer(api_token))
    await login(client, user["handle"], "wrong password, logged")
    secrets = [session, api_token, share["token"], PASSWORD, "wrong password, logged"]

    import sqlalchemy as sa

    dump: list[str] = []
    async with services.db.read() as conn:
        tables = (
            "users",
            "ascii_metadata",
            "api_tokens",
            "share_links",
            "user_preferences",
            "user_security",
        )
        for table in tables:
            dump += [
                repr(row) for row in (await conn.execute(sa.text(f"SELECT * FROM {table}"))).all()
            ]
    cursor = None
    while True:
        page = await services.kv.list("", cursor=cursor)
        for key in page.keys:
            dump.append(key.name)
            dump.append(repr(await services.kv.get_with_metadata(key.name)))
        if page.list_complete:
            break
        cursor = page.cursor
    dump += [r.getMessage() for r in caplog.records if r.name.startswith(("asciihub", "uvicorn"))]
    text = "\n".join(dump)
    for secret in secrets:
        assert secret not in text, "a secret is stored or logged in clear"


def test_secrets_have_256_bits_and_never_repeat() -> None:
    made = [TOKEN_PREFIX + new_secret() for _ in range(10_000)]
    assert len(set(made)) == len(made)
    assert all(len(value) - len(TOKEN_PREFIX) >= 43 for value in made)
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert all(set(value[len(TOKEN_PREFIX) :]) <= alphabet for value in made)
