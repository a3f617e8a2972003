"""Shared fixtures: per-test data directories and the real external services.

A missing service skips its tests with a one-line reason on a developer's machine and
fails them when ``CI=true``, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bench._dependencies import wait_for_port
from bench._tools import free_port
from hypothesis import settings as hypothesis_settings

__all__ = ["free_port", "service_missing"]

IN_CI = os.environ.get("CI", "").lower() == "true"

# Property tests check behaviour, not speed: on a loaded CI machine one example can take
# longer than Hypothesis's 200 ms default deadline, which would fail a correct run.
hypothesis_settings.register_profile("asciihub", deadline=None, print_blob=True)
hypothesis_settings.load_profile("asciihub")

POSTGRES_DSN = os.environ.get("ASCIIHUB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ASCIIHUB_TEST_REDIS", "redis://127.0.0.1:6379")
# Two test runs on one machine at once keep apart by giving one of them a namespace.
NAMESPACE = os.environ.get("ASCIIHUB_TEST_NAMESPACE", "")
REDIS_DB_OFFSET = zlib.crc32(NAMESPACE.encode()) % 15 if NAMESPACE else 0


def service_missing(reason: str) -> None:
    """Skip (laptop) or fail (CI) the current test because a service is missing."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def run_blocking(make: Any) -> Any:
    """Run the coroutine ``make()`` to completion on a fresh loop in another thread.

    Session fixtures may be first requested from inside a running event loop, where
    ``asyncio.run`` is not allowed.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def xdist_index(request: pytest.FixtureRequest) -> int:
    """0 without xdist, N for worker gwN."""
    worker = getattr(request.config, "workerinput", {}).get("workerid", "gw0")
    return int(worker.removeprefix("gw") or 0)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh, empty data directory for one test."""
    path = tmp_path / "data"
    path.mkdir()
    return path


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_server_dsn(request: pytest.FixtureRequest) -> str:
    """A PostgreSQL database of this xdist worker's own, created empty for the session."""
    if not _port_open("127.0.0.1", 5432):
        service_missing("PostgreSQL is not listening on 127.0.0.1:5432")
    import asyncpg

    name = f"asciihub_test_{NAMESPACE}{xdist_index(request)}"

    async def recreate() -> None:
        conn = await asyncpg.connect(POSTGRES_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run_blocking(recreate)
    base = POSTGRES_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def redis_server_url(request: pytest.FixtureRequest) -> str:
    """A Redis database number of this xdist worker's own (1..15)."""
    if not _port_open("127.0.0.1", 6379):
        service_missing("Redis is not listening on 127.0.0.1:6379")
    return f"{REDIS_URL}/{1 + (REDIS_DB_OFFSET + xdist_index(request)) % 15}"


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """The worker's Redis database, flushed before the test."""
    import redis

    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    client.close()
    return redis_server_url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 protocol server (moto in server mode) on a free port; yields its URL."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        service_missing("moto[server] is not installed (make install brings it)")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, timeout=20.0, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Standard AWS variables pointing at the test S3 server."""
    env = {
        "AWS_ENDPOINT_URL_S3": s3_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


# --- whole deployments -------------------------------------------------------------
from tests.stack import KINDS, create_bucket, make_settings, new_bucket_name, reset_postgres  # noqa: E402


async def _deployment(request: pytest.FixtureRequest, kind: str, data_dir: Path) -> Any:
    if kind == "embedded":
        return make_settings(data_dir)
    dsn = request.getfixturevalue("postgres_server_dsn")
    await reset_postgres(dsn)
    if kind == "mixed":
        return make_settings(data_dir, "mixed", postgres_dsn=dsn)
    redis = request.getfixturevalue("redis_url")
    env = request.getfixturevalue("s3_env")
    bucket = new_bucket_name()
    await create_bucket(env["AWS_ENDPOINT_URL_S3"], bucket)
    return make_settings(data_dir, "scaleout", postgres_dsn=dsn, redis_url=redis, s3_bucket=bucket)


@pytest.fixture(params=KINDS)
async def deployment_settings(request: pytest.FixtureRequest, data_dir: Path) -> Any:
    """Settings of a fresh deployment, once per backend combination."""
    return await _deployment(request, request.param, data_dir)


@pytest.fixture
async def embedded_settings(data_dir: Path) -> Any:
    """Settings of a fresh deployment on the embedded backends."""
    return make_settings(data_dir)


@pytest.fixture
async def services(deployment_settings: Any) -> AsyncIterator[Any]:
    """Built services of a fresh deployment (every backend combination)."""
    from asciihub.bootstrap import build_services

    built = await build_services(deployment_settings)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def client(deployment_settings: Any) -> AsyncIterator[Any]:
    """An httpx client talking to the whole app in-process, lifespan included."""
    import httpx

    from asciihub.api.app import create_app

    app = create_app(deployment_settings)
    async with app.starlette.router.lifespan_context(app.starlette):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http
