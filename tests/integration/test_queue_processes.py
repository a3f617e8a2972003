"""The queue across real OS processes: kill -9 while holding, restart, shared SQLite file.

Also drives ``asciihub queue`` as a subprocess. Children are small scripts run with
this interpreter; they report on stdout and the test waits on those lines.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asciihub.queue import JobQueue, Message, OutgoingMessage, open_job_queue

pytestmark = pytest.mark.integration

CHILD = r"""
import asyncio, sys
from pathlib import Path
from asciihub.queue import Consumer, ConsumerOptions, open_job_queue

async def main(url, mode, *args):
    queue = await open_job_queue(url, accept_queue_loss=True)
    if mode == "hold":  # lease messages, say which, then hang until killed
        lease, count = float(args[0]), int(args[1])
        held = []
        while len(held) < count:
            wanted = count - len(held)
            held += await queue.receive("jobs", max_messages=wanted, visibility_timeout=lease)
            await asyncio.sleep(0.01)
        print("HELD", *[m.id for m in held], flush=True)
        await asyncio.Event().wait()
    if mode == "send":  # send one by one, say so, then hang until killed (no close)
        for i in range(int(args[0])):
            await queue.send("jobs", {"n": i, "pad": "x" * 100})
        print("SENT", flush=True)
        await asyncio.Event().wait()
    if mode == "consume":  # wait for the go file, log each processing, stop when drained
        log, go = open(args[0], "a"), Path(args[1])
        print("READY", flush=True)
        while not go.exists():
            await asyncio.sleep(0.01)
        async def handle(batch):
            for m in batch.messages:
                log.write(f"{m.id} {m.attempts}\n")
                log.flush()
                await asyncio.sleep(0.002)
        options = ConsumerOptions(max_batch_size=5, max_batch_timeout=0, poll_interval=0.02)
        consumer = Consumer(queue, "jobs", handle, options)
        task = asyncio.create_task(consumer.run())
        while (s := await queue.stats("jobs")).ready or s.in_flight:
            await asyncio.sleep(0.05)
        consumer.stop()
        await task
    await queue.close()

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return f"sqlite://{data_dir}/queue.sqlite3"


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def spawn(procs: list[subprocess.Popen[str]], *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, text=True)
    procs.append(proc)
    return proc


def read_line(proc: subprocess.Popen[str], prefix: str) -> list[str]:
    """The words after ``prefix`` on the child's next line (readline blocks until it comes)."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith(prefix), f"child said {line!r}, exit code {proc.poll()}"
    return line.split()[1:]


async def open_queue(url: str) -> JobQueue:
    return await open_job_queue(url, accept_queue_loss=True)


async def test_killed_consumer_messages_are_redelivered(
    queue_url: str, children: list[subprocess.Popen[str]]
) -> None:
    lease = 1.0
    queue = await open_queue(queue_url)
    try:
        await queue.send_batch("jobs", [OutgoingMessage({"n": i}) for i in range(5)])
        child = spawn(children, queue_url, "hold", str(lease), "5")
        held = set(read_line(child, "HELD"))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        killed_at = time.monotonic()
        again: list[Message] = []
        while {m.id for m in again} != held:
            assert time.monotonic() - killed_at < lease + 3, f"only {len(again)} of 5 came back"
            again += await queue.receive("jobs", max_messages=10, visibility_timeout=lease)
            await asyncio.sleep(0.02)
        delay = time.monotonic() - killed_at
        assert delay <= lease + 2
        assert {m.attempts for m in again} == {2}
        assert await queue.ack([m.id for m in again]) == 5
    finally:
        await queue.close()


async def test_sqlite_queue_survives_a_killed_sender(
    data_dir: Path, children: list[subprocess.Popen[str]]
) -> None:
    url = f"sqlite://{data_dir}/queue.sqlite3"
    child = spawn(children, url, "send", "50")
    read_line(child, "SENT")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    queue = await open_queue(url)
    try:
        got = await queue.receive("jobs", max_messages=100)
        assert sorted(m.body["n"] for m in got) == list(range(50))
        assert all(m.body["pad"] == "x" * 100 and m.attempts == 1 for m in got)
    finally:
        await queue.close()


async def test_sqlite_queue_survives_close_and_reopen(data_dir: Path) -> None:
    url = f"sqlite://{data_dir}/queue.sqlite3"
    first = await open_queue(url)
    await first.send_batch("jobs", [OutgoingMessage("ready"), OutgoingMessage("dead")])
    await first.send("jobs", "later", delay_seconds=3600)
    dead = [m.id for m in await first.receive("jobs", max_messages=10) if m.body == "dead"]
    await first.dead_letter(dead, code="x", message="y")
    await first.close()
    second = await open_queue(url)
    try:
        stats = await second.stats("jobs")
        assert (stats.ready, stats.delayed, stats.in_flight, stats.dead) == (0, 1, 1, 1)
        assert [d.body for d in await second.dead_list("jobs")] == ["dead"]
    finally:
        await second.close()


async def test_two_processes_on_one_sqlite_file_never_share_a_message(
    data_dir: Path, children: list[subprocess.Popen[str]]
) -> None:
    url = f"sqlite://{data_dir}/queue.sqlite3"
    queue = await open_queue(url)
    for start in range(0, 400, 100):
        await queue.send_batch("jobs", [OutgoingMessage(i) for i in range(start, start + 100)])
    await queue.close()
    go = data_dir / "go"
    logs = [data_dir / f"consumer{i}.log" for i in range(2)]
    procs = [spawn(children, url, "consume", str(log), str(go)) for log in logs]
    for proc in procs:
        read_line(proc, "READY")
    go.touch()
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    per_process = [[line.split() for line in log.read_text().splitlines()] for log in logs]
    ids = [words[0] for rows in per_process for words in rows]
    assert len(ids) == 400
    assert len(set(ids)) == 400, Counter(ids).most_common(3)
    assert {words[1] for rows in per_process for words in rows} == {"1"}
    assert all(per_process), f"one process got everything: {[len(r) for r in per_process]}"


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASCIIHUB_DATA_DIR": str(data_dir), "ASCIIHUB_QUEUE_NAMES": "jobs"}
    env.pop("ASCIIHUB_CONFIG", None)
    env.pop("ASCIIHUB_QUEUE_URL", None)
    command = [sys.executable, "-c", "from asciihub.cli import main; main()", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


async def test_cli_lists_retries_and_purges_dead_letters(data_dir: Path) -> None:
    queue = await open_queue(f"sqlite://{data_dir}/queue.sqlite3")
    try:
        await queue.send_batch("jobs", [OutgoingMessage({"n": i}) for i in range(3)])
        held = await queue.receive("jobs")
        await queue.dead_letter([m.id for m in held], code="worker_lost", message="killed")
    finally:
        await queue.close()
    listed = run_cli(data_dir, "queue", "dead", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, Any]] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(r["body"]["n"] for r in rows) == [0, 1, 2]
    assert {r["error_code"] for r in rows} == {"worker_lost"}

    table = run_cli(data_dir, "queue", "dead", "list")
    assert table.returncode == 0
    assert rows[0]["id"] in table.stdout

    retried = run_cli(data_dir, "queue", "dead", "retry", rows[0]["id"])
    assert (retried.returncode, retried.stdout.strip()) == (0, "re-queued 1 message(s)")
    stats = run_cli(data_dir, "queue", "stats")
    assert stats.returncode == 0
    rows_shown = [line.split("│")[1:-1] for line in stats.stdout.splitlines() if "jobs" in line]
    assert [[cell.strip() for cell in row] for row in rows_shown] == [["jobs", "1", "0", "0", "2"]]

    missing = run_cli(data_dir, "queue", "dead", "retry")
    assert missing.returncode == 2
    assert "--all" in missing.stderr
    unknown = run_cli(data_dir, "queue", "dead", "purge", "no-such-id")
    assert unknown.returncode == 1
    assert "not in the dead-letter queue" in unknown.stderr
    bad_name = run_cli(data_dir, "queue", "stats", "Bad Name")
    assert bad_name.returncode == 2
    assert "queue name" in bad_name.stderr
    purged = run_cli(data_dir, "queue", "dead", "purge", "--all")
    assert (purged.returncode, purged.stdout.strip()) == (0, "deleted 2 message(s)")
