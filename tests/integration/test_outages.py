"""Goal R3 in-process: a dependency dies and comes back; 503 meanwhile, never 500."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests.faultproxy import FaultProxy, proxied
from tests.jobs.conftest import eventually
from tests.stack import create_bucket, make_settings, new_bucket_name, reset_postgres
from tests.users import signup

from asciihub.api.app import create_app
from asciihub.errors import Unavailable
from asciihub.services.jobs import OUTAGE_DEAD_CODE
from asciihub.worker.runtime import WorkerRuntime

pytestmark = [pytest.mark.integration]


@pytest.fixture
async def outage_stack(
    data_dir: Path,
    postgres_server_dsn: str,
    redis_url: str,
    s3_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Any, dict[str, FaultProxy]]]:
    await reset_postgres(postgres_server_dsn)
    bucket = new_bucket_name()
    await create_bucket(s3_env["AWS_ENDPOINT_URL_S3"], bucket)
    pg, rd, s3 = (
        urlsplit(u) for u in (postgres_server_dsn, redis_url, s3_env["AWS_ENDPOINT_URL_S3"])
    )
    with (
        proxied(pg.hostname or "", pg.port or 5432) as pg_proxy,
        proxied(rd.hostname or "", rd.port or 6379) as redis_proxy,
        proxied(s3.hostname or "", s3.port or 80) as s3_proxy,
    ):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{s3_proxy.port}")
        settings = make_settings(
            data_dir,
            "scaleout",
            postgres_dsn=postgres_server_dsn.replace(f":{pg.port}/", f":{pg_proxy.port}/"),
            redis_url=redis_url.replace(f":{rd.port}/", f":{redis_proxy.port}/"),
            s3_bucket=bucket,
            db_pool_timeout=2.0,
            queue_max_retries=0,  # the first delivery of a job message is its last
            queue_poll_interval=0.02,
            rate_limits_enabled=False,
        )
        app = create_app(settings)
        async with app.starlette.router.lifespan_context(app.starlette):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield http, {"postgres": pg_proxy, "redis": redis_proxy, "s3": s3_proxy}


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["error"]["code"]


@pytest.mark.parametrize("dependency", ["postgres", "redis", "s3"])
async def test_outage_answers_503_then_recovers(outage_stack: Any, dependency: str) -> None:
    http, proxies = outage_stack
    await signup(http)
    made = await http.post(
        "/api/artworks", json={"visibility": "public", "frames": [{"text": "ok"}]}
    )
    assert made.status_code == 201
    artwork_id = made.json()["id"]

    proxies[dependency].cut()
    health = await http.get("/healthz")
    _assert_unavailable_health(health)
    statuses = set()
    for _ in range(3):
        create = await http.post("/api/artworks", json={"frames": [{"text": "during"}]})
        statuses.add(create.status_code)
        if create.status_code >= 500:
            _assert_unavailable(create)
        gallery = await http.get("/api/gallery", params={"q": "x"})
        statuses.add(gallery.status_code)
        if gallery.status_code >= 500:
            _assert_unavailable(gallery)
    assert 500 not in statuses
    assert 503 in statuses

    proxies[dependency].restore()
    deadline = time.monotonic() + 10
    while True:
        read = await http.get(f"/api/artworks/{artwork_id}")
        created = await http.post("/api/artworks", json={"frames": [{"text": "after"}]})
        if read.status_code == 200 and created.status_code == 201:
            break
        assert read.status_code in (200, 503) and created.status_code in (201, 503)
        assert time.monotonic() < deadline, "no 2xx within 10 s of the dependency coming back"


def _assert_unavailable_health(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    # Either the health report itself, or the error of a dependency the request needed.
    assert body.get("status") == "degraded" or body["error"]["code"]


@pytest.mark.parametrize("dependency", ["postgres", "s3"])
async def test_a_job_outlasts_an_outage_longer_than_its_retries(
    outage_stack: Any, dependency: str
) -> None:
    """Every delivery meets the store down: the job waits, then is done once it is back."""
    http, proxies = outage_stack
    services = http._transport.app.starlette.state.services
    queue, jobs = services.background.queue, services.background.jobs
    await signup(http)
    prompt = {"prompt": "rain", "frames": 3, "width": 20, "height": 6}
    submitted = await http.post("/api/generate", json=prompt)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["job_id"]

    proxies[dependency].cut()
    worker = WorkerRuntime(services, queues=["generation"], sweep=False)
    running = asyncio.create_task(worker.run())
    try:

        async def dead_letter() -> Any:
            return [d for d in await queue.dead_list("generation") if d.body["job_id"] == job_id]

        # queue_max_retries is 0: without the outage rule this delivery would end the job.
        [dead] = await eventually(dead_letter, timeout=30)
        assert dead.error_code == OUTAGE_DEAD_CODE

        proxies[dependency].restore()

        async def sweep() -> Any:
            try:
                return await jobs.sweep()
            except Unavailable:  # a pooled connection the cut broke; the next one works
                return None

        swept = await eventually(sweep, timeout=30)
        assert swept["outage_redriven"] == 1 and swept["dead_failed"] == 0
        assert await dead_letter() == []

        async def finished() -> Any:
            response = await http.get(f"/api/jobs/{job_id}")
            if response.status_code == 503:
                return None
            body = response.json()
            return body if body["status"] in ("done", "failed") else None

        job = await eventually(finished, timeout=30)
        assert job["status"] == "done", job
        assert (await http.get(f"/api/artworks/{job['artwork_id']}")).status_code == 200
    finally:
        worker.stop()
        await running


async def test_a_job_past_its_outage_patience_fails_unavailable(outage_stack: Any) -> None:
    http, proxies = outage_stack
    services = http._transport.app.starlette.state.services
    queue, jobs = services.background.queue, services.background.jobs
    jobs.outage_patience = 0.0
    await signup(http)
    prompt = {"prompt": "snow", "frames": 2, "width": 20, "height": 6}
    job_id = (await http.post("/api/generate", json=prompt)).json()["job_id"]
    proxies["s3"].cut()
    worker = WorkerRuntime(services, queues=["generation"], sweep=False)
    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: queue.dead_list("generation"), timeout=30)
    finally:
        worker.stop()
        await running
    swept = await jobs.sweep()
    assert (swept["outage_redriven"], swept["dead_failed"]) == (0, 1)
    job = (await http.get(f"/api/jobs/{job_id}")).json()
    assert (job["status"], job["error"]["code"]) == ("failed", "unavailable")


async def test_fast_lane_answers_a_kv_outage_with_a_json_503(outage_stack: Any) -> None:
    """The cached read path sits inside the error envelope like every route."""
    http, proxies = outage_stack
    await signup(http)
    made = await http.post(
        "/api/artworks", json={"visibility": "public", "frames": [{"text": "a"}]}
    )
    url = f"/api/artworks/{made.json()['id']}"
    transport = httpx.ASGITransport(app=http._transport.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anon:
        assert (await anon.get(url)).status_code == 200  # fills the cache
        assert (await anon.get(url)).status_code == 200  # answered by the fast lane
        proxies["redis"].cut()
        refused = await anon.get(url)
        _assert_unavailable(refused)
        assert refused.headers["x-content-type-options"] == "nosniff"
        proxies["redis"].restore()
