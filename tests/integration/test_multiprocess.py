"""Two ``asciihub serve`` processes sharing PostgreSQL, Redis and S3."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.servers import running_server
from tests.stack import create_bucket, new_bucket_name, reset_postgres
from tests.users import sync_signup


def bearer_for(base_url: str) -> dict[str, str]:
    """Sign a new user up through ``base_url``; an Authorization header for its token."""
    with httpx.Client(base_url=base_url) as http:
        sync_signup(http)
        made = http.post("/api/tokens", json={"name": "multi", "scopes": ["read", "write"]})
        made.raise_for_status()
        return {"Authorization": f"Bearer {made.json()['token']}"}


pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
async def shared_env(
    postgres_server_dsn: str, redis_url: str, s3_env: dict[str, str]
) -> dict[str, str]:
    await reset_postgres(postgres_server_dsn)
    bucket = new_bucket_name()
    await create_bucket(s3_env["AWS_ENDPOINT_URL_S3"], bucket)
    return {
        **s3_env,
        "ASCIIHUB_METADATA_URL": postgres_server_dsn,
        "ASCIIHUB_KV_URL": redis_url,
        "ASCIIHUB_OBJECTS_URL": f"s3://{bucket}",
        "ASCIIHUB_LOG_LEVEL": "warning",
    }


def test_two_processes_agree(tmp_path: Path, shared_env: dict[str, Any]) -> None:
    with (
        running_server(tmp_path / "a", shared_env) as (url_a, proc_a),
        running_server(tmp_path / "b", shared_env) as (url_b, _proc_b),
        httpx.Client(base_url=url_a, headers=bearer_for(url_a)) as a,
        httpx.Client(base_url=url_b) as b,  # anonymous: reads take the cached fast lane
    ):
        made = [
            a.post(
                "/api/artworks",
                json={"title": f"art {i}", "visibility": "public", "frames": [{"text": f"#{i}"}]},
            )
            for i in range(6)
        ]
        assert all(r.status_code == 201 for r in made)
        first = made[0].json()

        # created through A, read through B (and cached in the shared KV)
        for _ in range(3):
            read = b.get(f"/api/artworks/{first['id']}")
            assert read.status_code == 200
            assert read.json()["frames"][0]["text"] == "#0"

        # an update through A is never served stale by B
        for n in range(5):
            assert (
                a.patch(f"/api/artworks/{first['id']}", json={"title": f"v{n}"}).status_code == 200
            )
            assert b.get(f"/api/artworks/{first['id']}").json()["title"] == f"v{n}"
        assert (
            a.patch(f"/api/artworks/{first['id']}", json={"visibility": "private"}).status_code
            == 200
        )
        assert first["id"] not in [i["id"] for i in b.get("/api/gallery").json()["items"]]

        # gallery pages agree
        assert (
            a.get("/api/gallery", params={"limit": 3}).json()
            == b.get("/api/gallery", params={"limit": 3}).json()
        )
        deleted = made[1].json()["id"]
        assert a.delete(f"/api/artworks/{deleted}").status_code == 204
        assert b.get(f"/api/artworks/{deleted}").status_code == 404
        assert deleted not in [i["id"] for i in b.get("/api/gallery").json()["items"]]

        # stopping A (SIGTERM) leaves B serving with no error
        proc_a.send_signal(signal.SIGTERM)
        statuses = [b.get(f"/api/artworks/{made[2].json()['id']}").status_code for _ in range(20)]
        proc_a.wait(timeout=15)
        statuses += [b.get("/api/gallery").status_code for _ in range(5)]
        assert set(statuses) == {200}


def test_a_killed_process_leaves_the_other_serving(
    tmp_path: Path, shared_env: dict[str, Any]
) -> None:
    with (
        running_server(tmp_path / "a", shared_env) as (url_a, proc_a),
        running_server(tmp_path / "b", shared_env) as (url_b, _proc_b),
    ):
        auth = bearer_for(url_a)  # a token made through A works on B

        async def load() -> list[int]:
            async with (
                httpx.AsyncClient(base_url=url_b, headers=auth) as b,
                httpx.AsyncClient(base_url=url_a, headers=auth) as a,
            ):
                art = (
                    await a.post(
                        "/api/artworks", json={"visibility": "public", "frames": [{"text": "k"}]}
                    )
                ).json()
                statuses: list[int] = []
                for step in range(60):
                    if step == 20:
                        proc_a.send_signal(signal.SIGKILL)
                    statuses.append((await b.get(f"/api/artworks/{art['id']}")).status_code)
                    statuses.append(
                        (
                            await b.post("/api/artworks", json={"frames": [{"text": str(step)}]})
                        ).status_code
                    )
                return statuses

        statuses = asyncio.run(load())
        proc_a.wait(timeout=10)
        assert proc_a.returncode == -signal.SIGKILL
        assert set(statuses) <= {200, 201}
