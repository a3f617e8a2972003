"""Goal R3 in-process: a dependency dies and comes back; 503 meanwhile, never 500."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests.faultproxy import FaultProxy, proxied
from tests.stack import create_bucket, make_settings, new_bucket_name, reset_postgres
from tests.users import signup

from asciihub.api.app import create_app

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
