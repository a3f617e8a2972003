"""Fixtures of the job suites: the app with its queue consumers running in-process."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.users import signup

FAST = {
    "queue_poll_interval": 0.02,
    "queue_max_batch_timeout": 0.05,
    "queue_retry_delay": 0.05,
    "jobs_progress_interval": 0.0,
    "analytics_flush_seconds": 0.05,
    "views_flush_seconds": 0.05,
    "rate_limits_enabled": False,
}


def fast(settings: Any, **overrides: Any) -> Any:
    """Settings with short polls and delays, for tests."""
    return dataclasses.replace(settings, **{**FAST, **overrides})


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 20.0, every: float = 0.02
) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


async def open_client(settings: Any, *, consumers: bool = True) -> Any:
    """An httpx client on the whole app; the queue consumers run in-process when asked."""
    import httpx

    from asciihub.api.app import create_app
    from asciihub.worker import in_process

    app = create_app(settings, background=in_process() if consumers else None)
    return app, httpx.ASGITransport(app=app)


@pytest.fixture
async def jobs_client(deployment_settings: Any) -> AsyncIterator[Any]:
    """A signed-up client of an app whose consumers run in-process (every backend)."""
    import httpx

    settings = fast(deployment_settings)
    app, transport = await open_client(settings)
    async with app.starlette.router.lifespan_context(app.starlette):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            http.services = app.starlette.state.services  # type: ignore[attr-defined]
            http.user = await signup(http)  # type: ignore[attr-defined]
            yield http


async def wait_job(client: Any, job_id: str, *, timeout: float = 30.0) -> dict[str, Any]:
    """Poll ``GET /api/jobs/{id}`` until the job is done or failed; its last JSON."""

    async def terminal() -> dict[str, Any] | None:
        response = await client.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["status"] in ("done", "failed") else None

    result: dict[str, Any] = await eventually(terminal, timeout=timeout)
    return result
