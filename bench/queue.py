"""Queue throughput and crash recovery: ``python -m bench queue [--messages N] [--lease S]``.

Per backend, messages/s through ``send`` (one call per message), then the consumer loop
(receive batches of 10, a handler doing nothing, ack), against a raw-driver baseline
doing the same durable steps in the same run. Then the time from a SIGKILLed consumer
holding messages to another consumer receiving them. Redis runs on
``$ASCIIHUB_BENCH_REDIS`` (default redis://127.0.0.1:6379/15) under a fresh queue name,
deleted afterwards; it is skipped when nothing listens there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from asciihub.queue import Consumer, ConsumerOptions, MessageBatch, open_job_queue

TARGETS = {"sqlite": 2000, "redis": 5000}
BODY = {"type": "generate", "user_id": "u1", "prompt": "a cat", "frames": 8, "style": "classic"}

HOLDER = r"""
import asyncio, sys
from asciihub.queue import open_job_queue
async def main(url, queue, lease):
    q = await open_job_queue(url, accept_queue_loss=True)
    held = []
    while len(held) < 10:
        held += await q.receive(queue, max_messages=10 - len(held), visibility_timeout=float(lease))
    print("HELD", flush=True)
    await asyncio.Event().wait()
asyncio.run(main(*sys.argv[1:]))
"""


def raw_sqlite(path: Path, count: int) -> float:
    """Baseline: autocommit INSERT per message, then SELECT 10 + DELETE 10 per batch."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE m (seq INTEGER PRIMARY KEY, queue TEXT, body BLOB, due REAL)")
    conn.execute("CREATE INDEX m_due ON m (queue, due)")
    body = repr(BODY).encode()
    start = time.perf_counter()
    for _ in range(count):
        conn.execute("INSERT INTO m (queue, body, due) VALUES ('q', ?, 0)", (body,))
    while rows := conn.execute(
        "SELECT seq, body FROM m WHERE queue = 'q' ORDER BY due LIMIT 10"
    ).fetchall():
        marks = ",".join("?" * len(rows))
        conn.execute(f"DELETE FROM m WHERE seq IN ({marks})", [r[0] for r in rows])
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


async def in_parallel(count: int, senders: int, send: Callable[[], Awaitable[Any]]) -> None:
    """Call ``send`` ``count`` times from ``senders`` concurrent tasks (API requests)."""
    per_task, extra = divmod(count, senders)

    async def sender(n: int) -> None:
        for _ in range(n):
            await send()

    await asyncio.gather(*(sender(per_task + (i < extra)) for i in range(senders)))


async def raw_redis(url: str, count: int, senders: int) -> float:
    """Baseline: XADD per message, then XREADGROUP 10 + XACK + XDEL per batch."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    key = f"bench:raw:{uuid.uuid4().hex}"
    await client.xgroup_create(key, "g", "0", mkstream=True)
    start = time.perf_counter()
    await in_parallel(count, senders, lambda: client.xadd(key, {"m": repr(BODY)}))
    while True:
        read: Any = await client.xreadgroup("g", "c", {key: ">"}, count=10)
        if not read:
            break
        ids = [entry_id for entry_id, _ in read[0][1]]
        if not ids:
            break
        pipe = client.pipeline(transaction=True)
        pipe.xack(key, "g", *ids)
        pipe.xdel(key, *ids)
        await pipe.execute()
    elapsed = time.perf_counter() - start
    await client.delete(key)
    await client.aclose()
    return count / elapsed


async def through_queue(
    url: str, queue_name: str, count: int, senders: int
) -> tuple[float, float, float]:
    """send x count, then the consumer loop until all acked: (send/s, consume/s, total/s)."""
    job_queue = await open_job_queue(url, accept_queue_loss=True)
    start = time.perf_counter()
    await in_parallel(count, senders, lambda: job_queue.send(queue_name, BODY))
    sent = time.perf_counter()
    done = 0
    finished = asyncio.Event()

    async def handle(batch: MessageBatch) -> None:
        nonlocal done
        done += len(batch)
        if done >= count:
            finished.set()

    options = ConsumerOptions(max_batch_size=10, max_batch_timeout=0, poll_interval=0.05)
    consumer = Consumer(job_queue, queue_name, handle, options)
    task = asyncio.create_task(consumer.run())
    await finished.wait()
    consumed = time.perf_counter()
    consumer.stop()
    await task
    stats = await job_queue.stats(queue_name)
    await job_queue.close()
    assert stats.ready == stats.in_flight == 0, stats
    return count / (sent - start), count / (consumed - sent), count / (consumed - start)


async def kill_to_redelivery(url: str, queue_name: str, lease: float) -> float:
    """Seconds from SIGKILL of a consumer holding 10 messages to all 10 received again."""
    job_queue = await open_job_queue(url, accept_queue_loss=True)
    for i in range(10):
        await job_queue.send(queue_name, {"n": i})
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, queue_name, str(lease)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = await asyncio.to_thread(child.stdout.readline)
    assert line.startswith("HELD"), line
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    killed = time.perf_counter()
    again = 0
    while again < 10:
        got = await job_queue.receive(queue_name, max_messages=10, visibility_timeout=lease)
        again += len(got)
        await job_queue.ack([m.id for m in got])
        if not got:
            await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - killed
    await job_queue.close()
    return elapsed


def redis_url() -> str | None:
    url = os.environ.get("ASCIIHUB_BENCH_REDIS", "redis://127.0.0.1:6379/15")
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
        aof = client.config_get("appendonly").get("appendonly")
        client.close()
    except Exception as exc:  # the bench's top: report and go on without Redis
        print(f"redis: skipped ({exc})")
        return None
    print(f"redis: {url} (appendonly={aof})")
    return url


def cleanup_redis(url: str, queue_name: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"asciihub:queue:{{{queue_name}}}:*"):
        client.delete(key)
    client.close()


def row(name: str, rate: float, baseline: float | None, target: int | None) -> str:
    ratio = f"{rate / baseline:6.2f}" if baseline else "      "
    verdict = "" if target is None else ("ok" if rate >= target else "BELOW TARGET")
    goal = f"{target:>8}" if target else " " * 8
    return f"{name:<34} {rate:>10,.0f} {ratio}  {goal}  {verdict}"


async def run(count: int, lease: float, senders: int) -> int:
    status = 0
    print(f"{count} messages from {senders} concurrent senders (1 = one after another), no work")
    print(f"kill test: lease {lease} s; ratio = queue / raw-driver baseline")
    print(f"{'case':<34} {'msg/s':>10} {'ratio':>6}  {'target':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        baseline = raw_sqlite(Path(tmp) / "raw.sqlite3", count)
        url = f"sqlite://{tmp}/queue.sqlite3"
        send, consume, total = await through_queue(url, "bench", count, senders)
        print(row("sqlite raw INSERT+SELECT+DELETE", baseline, None, None))
        print(row("sqlite queue send", send, None, None))
        print(row("sqlite queue consume (loop+ack)", consume, None, None))
        print(row("sqlite queue send+receive+ack", total, baseline, TARGETS["sqlite"]))
        status |= total < TARGETS["sqlite"]
        redelivery = {"sqlite": await kill_to_redelivery(url, "kill", lease)}
    server = redis_url()
    if server:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        try:
            baseline = await raw_redis(server, count, senders)
            send, consume, total = await through_queue(server, name, count, senders)
            print(row("redis raw XADD+XREADGROUP+XACK", baseline, None, None))
            print(row("redis queue send", send, None, None))
            print(row("redis queue consume (loop+ack)", consume, None, None))
            print(row("redis queue send+receive+ack", total, baseline, TARGETS["redis"]))
            status |= total < TARGETS["redis"]
            redelivery["redis"] = await kill_to_redelivery(server, name + "-kill", lease)
        finally:
            cleanup_redis(server, name)
            cleanup_redis(server, name + "-kill")
    for backend, seconds in redelivery.items():
        print(f"{backend}: SIGKILL to all 10 held messages received again: {seconds:.2f} s")
    return int(status)


def main(argv: list[str]) -> int:
    """Run the queue benchmark; non-zero when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench queue")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--lease", type=float, default=2.0, help="lease of the kill test")
    parser.add_argument("--senders", type=int, default=16, help="concurrent send tasks")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.messages, args.lease, max(args.senders, 1)))
