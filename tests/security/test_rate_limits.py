"""Rate limits and brute force (goal S9), with an injected clock: nothing sleeps."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from asciihub.api.app import create_app
from asciihub.bootstrap import build_services
from asciihub.services.ratelimit import Limit, RateLimiter
from tests.stack import make_settings
from tests.users import PASSWORD, bearer, login, new_handle, signup, token


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _app(data_dir: Path, **overrides: Any) -> Any:
    return create_app(make_settings(data_dir, **overrides))


def _is_429(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["message"]


async def test_failed_logins_per_handle_then_per_ip(data_dir: Path) -> None:
    app = await _app(data_dir, rate_limit_login_per_handle=3, rate_limit_login_per_ip=5)
    async with app.starlette.router.lifespan_context(app.starlette):
        clock = Clock()
        app.starlette.state.services.auth.limiter.clock = clock
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            user = await signup(http)
            for _ in range(3):
                assert (await login(http, user["handle"], "wrong guess number")).status_code == 401
            _is_429(await login(http, user["handle"], "wrong guess number"))
            _is_429(await login(http, user["handle"]))  # even the right password waits
            for _ in range(2):  # the IP budget: 5 failures in all
                assert (await login(http, new_handle(), "wrong guess number")).status_code == 401
            _is_429(await login(http, new_handle(), "wrong guess number"))
            clock.now += 2 * 900  # two windows later the budgets are back
            assert (await login(http, user["handle"])).status_code == 200


async def test_request_classes_per_user_token_and_ip(data_dir: Path) -> None:
    app = await _app(data_dir, rate_limit_read=5, rate_limit_write=3, rate_limit_window=60)
    async with app.starlette.router.lifespan_context(app.starlette):
        clock = Clock()
        app.starlette.state.services.auth.limiter.clock = clock
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as alice,
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as bob,
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as anon,
        ):
            await signup(alice)  # one write of alice's IP class... signup is anonymous
            await signup(bob)
            secret = await token(alice)  # alice: write 1
            for _ in range(2):
                assert (
                    await alice.post("/api/artworks", json={"frames": [{"text": "a"}]})
                ).status_code == 201
            _is_429(await alice.post("/api/artworks", json={"frames": [{"text": "a"}]}))
            assert (
                await bob.post("/api/artworks", json={"frames": [{"text": "b"}]})
            ).status_code == 201
            with_token = await anon.post(
                "/api/artworks", json={"frames": [{"text": "t"}]}, headers=bearer(secret)
            )
            assert with_token.status_code == 201, "a token has its own budget"
            for _ in range(5):
                assert (await anon.get("/api/gallery")).status_code == 200
            _is_429(await anon.get("/api/gallery"))
            assert (await alice.get("/api/gallery")).status_code == 200
            clock.now += 120
            assert (await anon.get("/api/gallery")).status_code == 200
            assert (
                await alice.post("/api/artworks", json={"frames": [{"text": "a"}]})
            ).status_code == 201


async def test_sliding_window_smooths_the_edge(tmp_path: Path) -> None:
    from asciihub.errors import RateLimited
    from asciihub.storage.kv import open_kv_store

    kv = await open_kv_store(f"sqlite://{tmp_path / 'kv.sqlite3'}")
    clock = Clock(6_000.0)  # the start of a window
    limiter = RateLimiter(kv, clock=clock)
    limit = Limit("edge", 10, 60)
    try:
        clock.now += 50
        for _ in range(10):
            await limiter.hit(limit, "s")
        clock.now += 11  # just into the next window: a fixed window would allow 10 more
        with pytest.raises(RateLimited) as refused:
            await limiter.hit(limit, "s")
        assert refused.value.retry_after == 5
        clock.now += 54  # most of the old window has slid out
        await limiter.hit(limit, "s")
    finally:
        await kv.close()


async def test_argon2_runs_at_most_two_at_once(client: Any) -> None:
    services = client.app.starlette.state.services
    services.auth.limiter.enabled = False
    user = await signup(client)
    hashing = services.auth.hashing
    hashing.peak = 0
    results = await asyncio.gather(
        *(
            login(client, user["handle"], PASSWORD if i % 5 == 0 else "wrong guess here")
            for i in range(20)
        )
    )
    assert {r.status_code for r in results} <= {200, 401}
    assert hashing.peak <= 2


@pytest.mark.parametrize("deployment_settings", ["scaleout"], indirect=True)
async def test_limits_survive_a_restart_on_redis(deployment_settings: Any) -> None:
    limit = Limit("restart", 3, 60)
    clock = Clock()
    for round_ in range(2):
        built = await build_services(deployment_settings)
        try:
            limiter = RateLimiter(built.kv, clock=clock)
            if round_ == 0:
                for _ in range(3):
                    await limiter.hit(limit, "ip:10.0.0.1")
            else:
                from asciihub.errors import RateLimited

                with pytest.raises(RateLimited):
                    await limiter.hit(limit, "ip:10.0.0.1")
        finally:
            await built.close()
