"""Goal S9 at size: a 1,000-attempt login burst from 50 clients at once."""

from __future__ import annotations

import asyncio
import resource
from pathlib import Path

import httpx
import pytest

from asciihub.api.app import create_app
from tests.stack import make_settings
from tests.users import PASSWORD, new_handle

pytestmark = pytest.mark.slow

CLIENTS = 50
ATTEMPTS = 1000


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _burst(http: httpx.AsyncClient, handles: list[str]) -> list[int]:
    statuses: list[int] = []

    async def one_client(index: int) -> None:
        for attempt in range(ATTEMPTS // CLIENTS):
            handle = handles[(index + attempt) % len(handles)]
            password = PASSWORD if attempt % 10 == 0 else f"wrong {index} {attempt}"
            response = await http.post(
                "/api/auth/login", json={"handle": handle, "password": password}
            )
            statuses.append(response.status_code)

    await asyncio.gather(*(one_client(i) for i in range(CLIENTS)))
    return statuses


@pytest.mark.parametrize("limits", [True, False], ids=["limits-on", "limits-off"])
async def test_login_burst(data_dir: Path, limits: bool) -> None:
    # Cheap hashes keep the run short; the figures are about concurrency, not cost.
    settings = make_settings(
        data_dir, argon2_memory_kib=8192, argon2_time_cost=1, rate_limits_enabled=limits
    )
    app = create_app(settings)
    async with app.starlette.router.lifespan_context(app.starlette):
        transport = httpx.ASGITransport(app=app)
        origin = {"Origin": "http://testserver"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=origin
        ) as http:
            handles = []
            for _ in range(5):
                handle = new_handle()
                signed = await http.post(
                    "/api/auth/signup", json={"handle": handle, "password": PASSWORD}
                )
                assert signed.status_code == 201, signed.text
                handles.append(handle)
            hashing = app.starlette.state.services.auth.hashing
            hashing.peak = 0
            before = _rss_mib()
            statuses = await _burst(http, handles)
            growth = _rss_mib() - before

    assert len(statuses) == ATTEMPTS
    assert not [s for s in statuses if s >= 500], "a login attempt got a server error"
    assert hashing.peak <= 2, f"{hashing.peak} password hashes ran at once"
    assert growth < 200, f"memory grew by {growth:.0f} MiB"
    if limits:
        assert statuses.count(429) > ATTEMPTS / 2  # the burst is throttled, per handle and IP
    else:
        assert set(statuses) <= {200, 401}
        assert statuses.count(200) == ATTEMPTS // 10
