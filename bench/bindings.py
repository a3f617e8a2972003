"""Bench the object store and KV bindings on every backend against raw baselines.

``python -m bench bindings [--quick] [--no-s3] [--no-redis]``

Each row times one operation N times in a row (sequential awaits): throughput in
ops/s and p50/p99 latency in microseconds. Baselines measured in the same run: a dict
and a plain prepared sqlite3 SELECT/INSERT for KV, redis-py HGET/HSET for Redis, and
plain ``open()`` write+fsync+rename / read for files. S3 runs against a moto server
the bench starts on a free port; Redis uses ``ASCIIHUB_BENCH_REDIS`` (default
``redis://127.0.0.1:6379/0``) under a random namespace it removes afterwards.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

KV_VALUE = b"v" * 1024
OBJECT_BODY = bytes(range(256)) * 64  # 16 KiB


@dataclass
class Row:
    """One measured operation."""

    binding: str
    backend: str
    op: str
    count: int
    seconds: float
    p50_us: float
    p99_us: float


def _summary(binding: str, backend: str, op: str, samples: list[int]) -> Row:
    ordered = sorted(samples)
    return Row(
        binding,
        backend,
        op,
        len(samples),
        sum(samples) / 1e9,
        ordered[len(ordered) // 2] / 1e3,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e3,
    )


async def measure_async(
    binding: str, backend: str, op: str, count: int, call: Callable[[int], Awaitable[object]]
) -> Row:
    """Time ``await call(i)`` for i in 0..count-1."""
    samples = []
    clock = time.perf_counter_ns
    for index in range(count):
        start = clock()
        await call(index)
        samples.append(clock() - start)
    return _summary(binding, backend, op, samples)


def measure_sync(
    binding: str, backend: str, op: str, count: int, call: Callable[[int], object]
) -> Row:
    """Time ``call(i)`` for i in 0..count-1."""
    samples = []
    clock = time.perf_counter_ns
    for index in range(count):
        start = clock()
        call(index)
        samples.append(clock() - start)
    return _summary(binding, backend, op, samples)


# --- KV ------------------------------------------------------------------------------


def kv_baselines(tmp: Path, count: int) -> list[Row]:
    """A dict and a plain prepared sqlite3 statement on the same schema."""
    table: dict[str, bytes] = {}
    rows = [
        measure_sync(
            "kv", "baseline dict", "put", count, lambda i: table.__setitem__(f"k{i}", KV_VALUE)
        ),
        measure_sync("kv", "baseline dict", "get", count, lambda i: table.get(f"k{i % 1000}")),
    ]
    conn = sqlite3.connect(tmp / "raw.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, expiration INTEGER,"
        " metadata TEXT) WITHOUT ROWID"
    )
    put = "INSERT OR REPLACE INTO kv VALUES (?, ?, NULL, NULL)"
    get = "SELECT value FROM kv WHERE key = ? AND (expiration IS NULL OR expiration > ?)"
    rows.append(
        measure_sync(
            "kv",
            "baseline sqlite3",
            "put",
            count // 4,
            lambda i: conn.execute(put, (f"k{i}", KV_VALUE)),
        )
    )
    rows.append(
        measure_sync(
            "kv",
            "baseline sqlite3",
            "get",
            count,
            lambda i: conn.execute(get, (f"k{i % 1000}", time.time())).fetchone(),
        )
    )
    conn.close()
    return rows


async def kv_backend_rows(name: str, url: str, count: int) -> list[Row]:
    """put / get / get miss / incr through the KV binding."""
    from asciihub.storage.kv import open_kv_store

    store = await open_kv_store(url)
    try:
        puts = count // 4
        rows = [
            await measure_async("kv", name, "put", puts, lambda i: store.put(f"k{i}", KV_VALUE))
        ]
        hits = min(puts, 1000)
        rows.append(
            await measure_async("kv", name, "get", count, lambda i: store.get(f"k{i % hits}"))
        )
        rows.append(
            await measure_async("kv", name, "get miss", count // 4, lambda i: store.get(f"x{i}"))
        )
        rows.append(
            await measure_async("kv", name, "incr", count // 4, lambda i: store.incr("counter"))
        )
        return rows
    finally:
        await store.close()


async def redis_rows(url: str, count: int) -> list[Row]:
    """redis-py baseline and the Redis KV backend, under a throwaway namespace."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        await client.ping()
    except OSError:
        await client.aclose()
        print(f"(Redis at {url} is not reachable; skipping Redis rows)", file=sys.stderr)
        return []
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    raw = f"{namespace}:raw:"
    rows = [
        await measure_async(
            "kv",
            "baseline redis-py",
            "put",
            count // 4,
            lambda i: client.hset(f"{raw}{i}", "v", KV_VALUE),
        ),
        await measure_async(
            "kv", "baseline redis-py", "get", count, lambda i: client.hget(f"{raw}{i % 1000}", "v")
        ),
    ]
    separator = "&" if "?" in url else "?"
    rows += await kv_backend_rows("redis", f"{url}{separator}namespace={namespace}", count)
    async for key in client.scan_iter(match=f"{namespace}:*", count=1000):
        await client.delete(key)
    await client.aclose()
    return rows


# --- objects -------------------------------------------------------------------------


def file_baselines(tmp: Path, count: int) -> list[Row]:
    """Plain open(): write + fsync + rename (what an atomic write costs), and read."""
    root = tmp / "raw-files"
    root.mkdir()

    def write(index: int) -> None:
        part = root / f"{index}.part"
        with part.open("wb") as handle:
            handle.write(OBJECT_BODY)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, root / f"{index}.bin")

    def read(index: int) -> bytes:
        with (root / f"{index % count}.bin").open("rb") as handle:
            return handle.read()

    return [
        measure_sync("objects", "baseline open()", "put", count, write),
        measure_sync("objects", "baseline open()", "get", count * 4, read),
    ]


async def object_rows(name: str, url: str, count: int) -> list[Row]:
    """put / get / head / ranged get / list through the object binding."""
    from asciihub.storage.objects import ByteRange, open_object_store

    store = await open_object_store(url, create_bucket=True)
    try:
        rows = [
            await measure_async(
                "objects", name, "put", count, lambda i: store.put(f"art/{i:05d}", OBJECT_BODY)
            )
        ]
        rows.append(
            await measure_async(
                "objects", name, "get", count * 4, lambda i: store.get(f"art/{i % count:05d}")
            )
        )
        rows.append(
            await measure_async(
                "objects", name, "head", count, lambda i: store.head(f"art/{i:05d}")
            )
        )
        rows.append(
            await measure_async(
                "objects",
                name,
                "get range",
                count,
                lambda i: store.get(f"art/{i:05d}", byte_range=ByteRange(offset=100, length=100)),
            )
        )
        rows.append(
            await measure_async(
                "objects",
                name,
                "list 100",
                max(1, count // 10),
                lambda i: store.list("art/", limit=100),
            )
        )
        return rows
    finally:
        await store.close()


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """moto in server mode on a free port, with the AWS variables pointing at it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL_S3=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return proc, endpoint


# --- report --------------------------------------------------------------------------


BASELINE_OF = {
    "sqlite": "baseline sqlite3",
    "redis": "baseline redis-py",
    "local": "baseline open()",
    "s3 (moto)": "baseline open()",
}


def print_table(rows: list[Row]) -> None:
    """One line per row; ``x base`` compares p50 with the backend's own baseline."""
    base = {(row.backend, row.op): row.p50_us for row in rows}
    header = (
        f"{'binding':8} {'backend':18} {'op':10} {'n':>6} {'ops/s':>10} "
        f"{'p50 µs':>9} {'p99 µs':>9} {'x base':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = base.get((BASELINE_OF.get(row.backend, ""), row.op))
        factor = f"{row.p50_us / ratio:.1f}" if ratio else ""
        print(
            f"{row.binding:8} {row.backend:18} {row.op:10} {row.count:6d} "
            f"{row.count / row.seconds:10.0f} {row.p50_us:9.1f} {row.p99_us:9.1f} {factor:>7}"
        )
    print("x base: p50 over the p50 of the same op on the backend's raw baseline.")


async def run(argv: list[str], tmp: Path) -> list[Row]:
    """Every measurement, in table order."""
    quick = "--quick" in argv
    kv_count = 4000 if quick else 20000
    object_count = 50 if quick else 300
    rows = kv_baselines(tmp, kv_count)
    rows += await kv_backend_rows("sqlite", f"sqlite://{tmp / 'kv.sqlite3'}", kv_count)
    if "--no-redis" not in argv:
        rows += await redis_rows(
            os.environ.get("ASCIIHUB_BENCH_REDIS", "redis://127.0.0.1:6379/0"), kv_count // 4
        )
    rows += file_baselines(tmp, object_count)
    rows += await object_rows("local", f"file://{tmp / 'objects'}", object_count)
    if "--no-s3" not in argv:
        proc, _endpoint = start_moto()
        try:
            rows += await object_rows(
                "s3 (moto)", f"s3://bench-{uuid.uuid4().hex[:8]}", object_count // 2
            )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return rows


def main(argv: list[str]) -> int:
    """Run the bench and print the table; ``--quick`` for a short run."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="asciihub-bench-") as tmp:
        rows = asyncio.run(run(argv, Path(tmp)))
    print_table(rows)
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
