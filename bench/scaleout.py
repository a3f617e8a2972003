"""Cached artwork GETs with one and with two API processes on the scale-out backends.

PostgreSQL (database ``asciihub_bench`` on 127.0.0.1:5432, recreated), Redis (db 15 on
127.0.0.1:6379, flushed) and an S3 server (moto, started here) back
``asciihub serve --workers N``; wrk loads the cached ``GET /api/artworks/{id}`` at
concurrency 50. The table gives requests per second, latencies and the scaling ratio
of two processes to one, measured in the same run. On a 2-core machine the load
generator, Redis, PostgreSQL and the API processes share the cores, which caps the
ratio well below 2. Options: ``--seconds N`` (default 10), ``--connections N``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile

from bench._tools import free_port, option, print_table, process, run_wrk, wait_http
from bench.http import _seed

DATABASE = "asciihub_bench"
REDIS = "redis://127.0.0.1:6379/15"


async def _fresh_database() -> str:
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()
    return f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"


def _fresh_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    client.close()


def _bucket(endpoint: str) -> str:
    import boto3

    s3 = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="bench",
        aws_secret_access_key="bench", region_name="us-east-1",
    )  # fmt: skip
    s3.create_bucket(Bucket="asciihub-bench")
    return "asciihub-bench"


def main(argv: list[str]) -> int:
    """Run one and two processes; print the table."""
    seconds = int(option(argv, "seconds", "10"))
    connections = int(option(argv, "connections", "50"))
    dsn = asyncio.run(_fresh_database())
    _fresh_redis()
    s3_port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="asciihub-scaleout-") as tmp,
        process([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)]),
    ):
        endpoint = f"http://127.0.0.1:{s3_port}"
        wait_http(endpoint)
        env = {
            "ASCIIHUB_DATA_DIR": f"{tmp}/data",
            "ASCIIHUB_METADATA_URL": dsn,
            "ASCIIHUB_KV_URL": REDIS,
            "ASCIIHUB_OBJECTS_URL": f"s3://{_bucket(endpoint)}",
            "ASCIIHUB_LOG_LEVEL": "warning",
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        results = {}
        artwork_id = ""
        for workers in (1, 2):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            command = [
                sys.executable, "-m", "asciihub", "serve", "--port", str(port),
                "--workers", str(workers),
            ]  # fmt: skip
            with process(command, env):
                wait_http(f"{base}/healthz")
                if not artwork_id:
                    artwork_id = _seed(base)[0]
                url = f"{base}/api/artworks/{artwork_id}"
                run_wrk(url, connections=connections, seconds=2, core=None)
                results[workers] = run_wrk(url, connections=connections, seconds=seconds, core=None)
    one, two = results[1], results[2]
    rows = [
        [
            f"{n} process{'es' if n > 1 else ''}",
            f"{r.requests_per_second:,.0f}",
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            f"{r.requests_per_second / one.requests_per_second:.2f}",
            str(r.errors),
        ]
        for n, r in results.items()
    ]
    print_table(
        f"cached GET /api/artworks/{{id}} on PostgreSQL + Redis + S3, {connections} connections, "
        f"{seconds}s each",
        ["API processes", "req/s", "p50 ms", "p99 ms", "ratio to 1", "errors"],
        rows,
    )
    ratio = two.requests_per_second / one.requests_per_second
    print(f"\nscaling ratio, two processes to one: {ratio:.2f}")
    return 0 if one.errors == 0 and two.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
