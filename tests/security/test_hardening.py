"""Issue 9's hostile-client defects, in-process: each test fails without its fix."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from asciihub.api.app import create_app
from tests.security.test_rate_limits import Clock
from tests.stack import make_settings
from tests.users import PASSWORD, bearer, login, new_handle, signup, token


@asynccontextmanager
async def _client(data_dir: Path, settings: Any = None, **overrides: Any) -> AsyncIterator[Any]:
    app = create_app(settings or make_settings(data_dir, **overrides))
    async with app.starlette.router.lifespan_context(app.starlette):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


def _error(response: Any, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["message"]
    if code is not None:
        assert body["code"] == code, body


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


# --- 1: malformed Origin or Host -------------------------------------------------------
BAD_ORIGINS = ["http://127.0.0.1:99999", "http://[", "http://127.0.0.1:abc"]


async def test_malformed_origin_or_host_is_a_counted_json_403(data_dir: Path) -> None:
    async with _client(data_dir, rate_limit_write=4) as http:
        for origin in BAD_ORIGINS:
            response = await http.post("/api/auth/login", json={}, headers={"Origin": origin})
            _error(response, 403, "csrf_failed")
            assert response.headers["x-content-type-options"] == "nosniff"
        response = await http.post(
            "/api/auth/login", json={}, headers={"Host": "[", "Sec-Fetch-Site": "cross-site"}
        )
        _error(response, 403, "csrf_failed")
        # Counted like any request: the fifth write of this IP is over the limit.
        throttled = await http.post("/api/auth/login", json={}, headers={"Origin": BAD_ORIGINS[0]})
        _error(throttled, 429, "rate_limited")


# --- 3: failed logins counted first, atomically, on both KV backends --------------------
async def test_concurrent_wrong_passwords_are_throttled(deployment_settings: Any) -> None:
    settings = dataclasses.replace(
        deployment_settings,
        rate_limit_login_per_handle=10,
        argon2_memory_kib=8192,
        argon2_time_cost=1,
    )
    async with _client(Path(settings.data_dir), settings) as http:
        user = await signup(http)
        http.cookies.clear()
        results = await asyncio.gather(
            *(login(http, user["handle"], f"wrong guess {i}") for i in range(40))
        )
        statuses = [r.status_code for r in results]
        assert statuses.count(401) == 10, statuses
        assert statuses.count(429) == 30, statuses


# --- 5: the expensive class per user, and a cap on tokens -------------------------------
async def test_expensive_limit_counts_per_user_not_per_token(data_dir: Path) -> None:
    async with _client(data_dir, rate_limit_expensive=2) as http:
        await signup(http)
        secrets = [await token(http, name=f"t{i}") for i in range(3)]
        http.cookies.clear()
        first, second, third = [
            await http.post("/api/generate", json={"prompt": "a cat"}, headers=bearer(secret))
            for secret in secrets
        ]
        assert first.status_code == 202, first.text
        assert second.status_code == 202, second.text
        _error(third, 429, "rate_limited")


async def test_tokens_per_user_are_capped_even_in_a_burst(data_dir: Path) -> None:
    async with _client(data_dir, max_tokens_per_user=3) as http:
        await signup(http)
        burst = await asyncio.gather(
            *(http.post("/api/tokens", json={"name": f"b{i}"}) for i in range(12))
        )
        assert {r.status_code for r in burst} <= {201, 409}
        live = (await http.get("/api/tokens")).json()["items"]
        assert 1 <= len(live) <= 3
        while len(live) < 3:
            assert (await http.post("/api/tokens", json={"name": "more"})).status_code == 201
            live = (await http.get("/api/tokens")).json()["items"]
        _error(
            await http.post("/api/tokens", json={"name": "one too many"}), 409, "too_many_tokens"
        )
        assert (await http.delete(f"/api/tokens/{live[0]['id']}")).status_code == 204
        assert (await http.post("/api/tokens", json={"name": "again"})).status_code == 201


# --- 6: odd numbers --------------------------------------------------------------------
ODD_NUMBERS = ["²", "9" * 5000, "٣", "1e3", "-1"]


@pytest.mark.parametrize(
    "odd", ODD_NUMBERS, ids=["superscript", "5000-digits", "arabic", "exp", "neg"]
)
async def test_odd_numbers_are_400_everywhere(data_dir: Path, odd: str) -> None:
    async with _client(data_dir) as http:
        await signup(http)
        for path, params in (
            ("/api/gallery", {"limit": odd}),
            ("/api/analytics/usage", {"days": odd}),
            ("/api/analytics/popular", {"days": odd}),
            ("/api/analytics/popular", {"limit": odd}),
        ):
            response = await http.get(path, params=params)
            assert response.status_code == 400, (path, params, response.text)
        for field in ("frames", "width", "height"):
            response = await http.post("/api/generate", json={"prompt": "a cat", field: odd})
            _error(response, 400)


# --- 7: crafted cursors ----------------------------------------------------------------
def _cursor(payload: list[Any]) -> str:
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CRAFTED = {
    "views-2^63": [1, "popular", "2026-01-01T00:00:00+00:00", "A" * 22, 2**63],
    "views-negative-huge": [1, "popular", "2026-01-01T00:00:00+00:00", "A" * 22, -(2**70)],
    "date-year-1": [1, "new", "0001-01-01T00:00:00+23:59", "A" * 22, 0],
    "date-year-9999": [1, "new", "9999-12-31T23:59:59-23:59", "A" * 22, 0],
    "views-bool": [1, "popular", "2026-01-01T00:00:00+00:00", "A" * 22, True],
}


@pytest.mark.parametrize("name", list(CRAFTED))
async def test_crafted_cursors_are_400_on_every_listing(data_dir: Path, name: str) -> None:
    payload = CRAFTED[name]
    cursor = _cursor(payload)
    sort = payload[1]
    async with _client(data_dir) as http:
        user = await signup(http)
        for path in (
            "/api/gallery",
            f"/api/users/{user['handle']}/artworks",
            "/",
            f"/u/{user['handle']}",
        ):
            response = await http.get(path, params={"cursor": cursor, "sort": sort})
            assert response.status_code == 400, (path, response.status_code, response.text[:200])


# --- 8: avatars need a session ---------------------------------------------------------
async def test_avatar_changes_need_a_session_not_a_token(data_dir: Path) -> None:
    async with _client(data_dir) as http:
        await signup(http)
        secret = await token(http, ("read", "write"))
        png = {"Content-Type": "image/png"}
        async with httpx.AsyncClient(
            transport=http._transport, base_url="http://testserver"
        ) as tokened:
            put = await tokened.put(
                "/api/me/avatar", content=_png(), headers={**png, **bearer(secret)}
            )
            _error(put, 403, "session_required")
            delete = await tokened.delete("/api/me/avatar", headers=bearer(secret))
            _error(delete, 403, "session_required")
        assert (await http.put("/api/me/avatar", content=_png(), headers=png)).status_code == 200
        assert (await http.delete("/api/me/avatar")).status_code == 204


# --- 11: job text checked before accepting ---------------------------------------------
@pytest.mark.parametrize(
    "fields",
    [
        {"prompt": "line one\nline two"},
        {"prompt": "red \x1b[31m text"},
        {"prompt": "a cat", "title": "bell\x07"},
        {"prompt": "a cat", "title": "two\r\nlines"},
        {"prompt": "override \u202e olleh"},
    ],
    ids=["multiline", "escape", "bell-title", "crlf-title", "bidi"],
)
async def test_generate_refuses_bad_text_before_accepting(data_dir: Path, fields: Any) -> None:
    async with _client(data_dir) as http:
        await signup(http)
        _error(await http.post("/api/generate", json=fields), 400)
        assert (await http.post("/api/generate", json={"prompt": "a cat"})).status_code == 202


@pytest.mark.parametrize("title", ["a\nb", "tab\there", "nul\x00"])
async def test_convert_refuses_bad_text_before_accepting(data_dir: Path, title: str) -> None:
    async with _client(data_dir) as http:
        await signup(http)
        files = {"file": ("cat.png", _png(), "image/png")}
        refused = await http.post("/api/convert", files=files, data={"title": title})
        _error(refused, 400)
        fine = await http.post("/api/convert", files=files, data={"title": "a cat"})
        assert fine.status_code == 202, fine.text


# --- 14: a client that waits Retry-After gets through -----------------------------------
async def test_waiting_retry_after_gets_through(data_dir: Path) -> None:
    async with _client(data_dir, rate_limit_read=5, rate_limit_window=60) as http:
        clock = Clock(6_000.0 + 42)
        http.app.starlette.state.services.auth.limiter.clock = clock
        for _ in range(3):
            for _ in range(5):
                assert (await http.get("/api/gallery")).status_code == 200
            refused = await http.get("/api/gallery")
            _error(refused, 429)
            for _ in range(10):  # impatient retries must not lengthen the wait
                _error(await http.get("/api/gallery"), 429)
            clock.now += int(refused.headers["retry-after"])
            assert (await http.get("/api/gallery")).status_code == 200, clock.now
            clock.now += 120  # a fresh start for the next round, at another phase
            clock.now += 17


async def test_retry_after_is_enough_at_every_phase(tmp_path: Path) -> None:
    from asciihub.errors import RateLimited
    from asciihub.services.ratelimit import Limit, RateLimiter
    from asciihub.storage.kv import open_kv_store

    kv = await open_kv_store(f"sqlite://{tmp_path / 'kv.sqlite3'}")
    clock = Clock(60_000.0)
    limiter = RateLimiter(kv, clock=clock)
    limit = Limit("phase", 7, 60)
    try:
        for step in range(40):
            subject = f"s{step}"
            clock.now += 3.7
            while True:
                try:
                    await limiter.hit(limit, subject)
                except RateLimited as refused:
                    wait = refused.retry_after
                    break
                clock.now += step % 5
            clock.now += wait
            await limiter.hit(limit, subject)  # must not raise
    finally:
        await kv.close()


# --- 15: unknown tokens are limited per IP ---------------------------------------------
async def test_invalid_bearer_tokens_are_limited_per_ip(data_dir: Path) -> None:
    async with _client(data_dir, rate_limit_invalid_token=5) as http:
        for i in range(5):
            wrong = bearer(f"ah_{'x' * 42}{i}")
            _error(await http.get("/api/me", headers=wrong), 401, "invalid_token")
        _error(await http.get("/api/me", headers=bearer("ah_guess")), 429, "rate_limited")
        assert (await http.get("/api/gallery")).status_code == 200  # other requests go on


# --- 18: /metrics is guarded -----------------------------------------------------------
async def test_metrics_need_the_scrape_token_or_an_allowed_address(data_dir: Path) -> None:
    async with _client(data_dir, metrics_token="scrape-secret", metrics_allow="") as http:
        _error(await http.get("/metrics"), 403, "metrics_forbidden")
        _error(await http.get("/metrics", headers=bearer("wrong")), 403, "metrics_forbidden")
        scraped = await http.get("/metrics", headers=bearer("scrape-secret"))
        assert scraped.status_code == 200
        assert "asciihub_http_requests_total" in scraped.text
    async with _client(data_dir, metrics_allow="10.0.0.0/8") as http:  # the client is 127.0.0.1
        _error(await http.get("/metrics"), 403, "metrics_forbidden")
    async with _client(data_dir) as http:  # the default: loopback only
        assert (await http.get("/metrics")).status_code == 200


def test_a_malformed_allow_list_is_one_clear_error(data_dir: Path) -> None:
    from asciihub.errors import ConfigError

    with pytest.raises(ConfigError, match="metrics_allow.*not-an-ip"):
        create_app(make_settings(data_dir, metrics_allow="127.0.0.1,not-an-ip"))


async def test_right_password_after_the_limit_still_waits(data_dir: Path) -> None:
    async with _client(data_dir, rate_limit_login_per_handle=2) as http:
        user = await signup(http)
        for _ in range(2):
            assert (await login(http, user["handle"], "wrong guess here")).status_code == 401
        _error(await login(http, user["handle"], PASSWORD), 429)
        other = new_handle()
        assert (await login(http, other, "wrong guess here")).status_code == 401
