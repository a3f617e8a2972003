"""Generation jobs per second end to end, and the time from a killed worker to redelivery.

``python -m bench jobs [--jobs N] [--concurrency N] [--lease S]``: submits N jobs (a
10-frame 80x24 prompt each) through the job service and times one ``asciihub worker``
process until every job is ``done`` (artwork stored), on the SQLite queue and on Redis
Streams (``ASCIIHUB_BENCH_REDIS``, default ``redis://127.0.0.1:6379/15``; metadata and
objects stay embedded). The baseline, measured in the same run, is the engine's
``generate`` alone for the same prompt. Then a worker running a long job is SIGKILLed
and the time until a second worker starts the job again is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._tools import print_table
from bench.queue import redis_url

FRAMES = 10
PROMPT = {"prompt": 'plasma "BENCH"', "frames": FRAMES, "width": 80, "height": 24, "style": "dense"}
TARGET = 20.0


def baseline(count: int) -> float:
    """Jobs per second of the engine alone (no queue, no storage)."""
    from asciihub.engine import generate

    started = time.perf_counter()
    for seed in range(count):
        list(generate(str(PROMPT["prompt"]), frames=FRAMES, width=80, height=24, seed=seed))
    return count / (time.perf_counter() - started)


def _env(data_dir: Path, queue_url: str | None, lease: float) -> dict[str, str]:
    env = {
        "ASCIIHUB_DATA_DIR": str(data_dir),
        "ASCIIHUB_QUEUE_VISIBILITY_TIMEOUT": str(lease),
        "ASCIIHUB_QUEUE_POLL_INTERVAL": "0.02",
        "ASCIIHUB_LOG_LEVEL": "warning",
        "ASCIIHUB_ACCEPT_QUEUE_LOSS": "true",
    }
    if queue_url:
        env["ASCIIHUB_QUEUE_URL"] = queue_url
    return env


def start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen[bytes]:
    """One ``asciihub worker`` on the generation queue; returns once it consumes."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asciihub",
            "worker",
            "--queues",
            "generation",
            "--concurrency",
            str(concurrency),
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    seen = b""
    while b"consuming" not in seen:
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            message = f"the worker did not start: {seen.decode(errors='replace')}"
            raise RuntimeError(message)
        seen += line
    # Keep reading what it prints: a pipe nobody empties would stall the worker.
    threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
    return proc


def _drain(stream: Any) -> None:
    for line in iter(stream.readline, b""):
        if b"Traceback" in line or b"ERROR" in line or b"CRITICAL" in line:
            sys.stderr.write(line.decode(errors="replace"))


async def _wait_done(services: Any, ids: list[str], timeout: float) -> None:
    repo = services.background.jobs.repo
    deadline = time.monotonic() + timeout
    pending = list(ids)
    while pending:
        if time.monotonic() > deadline:
            message = f"{len(pending)} jobs not done after {timeout}s"
            raise TimeoutError(message)
        job = await repo.get(pending[-1])
        if job is not None and job.is_terminal:
            pending.pop()
            continue
        await asyncio.sleep(0.01)


async def end_to_end(env: dict[str, str], count: int, concurrency: int) -> float:
    """Jobs per second from the first submit to the last ``done``."""
    from asciihub.bootstrap import build_services
    from asciihub.services.principals import Principal
    from asciihub.settings import load_settings

    services = await build_services(load_settings(environ=env))
    worker = start_worker(env, concurrency)
    try:
        started = time.perf_counter()
        ids = []
        for seed in range(count):
            body = await services.background.jobs.submit_generation(
                Principal(user_id="local"), {**PROMPT, "seed": seed}
            )
            ids.append(body["job_id"])
        await _wait_done(services, ids, timeout=600)
        return count / (time.perf_counter() - started)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        await services.close()


async def kill_to_redelivery(env: dict[str, str]) -> float:
    """Seconds from SIGKILL of the worker running a job to another worker starting it."""
    from asciihub.bootstrap import build_services
    from asciihub.services.principals import Principal
    from asciihub.settings import load_settings

    services = await build_services(load_settings(environ=env))
    first = start_worker(env, 1)
    # The second worker is started now and paused: started after the job, its start-up
    # (about a second) could outlast the job itself, leaving nothing to redeliver.
    second = start_worker(env, 1)
    second.send_signal(signal.SIGSTOP)
    try:
        long_job = {**PROMPT, "frames": 240, "width": 300, "height": 200}
        job_id = (
            await services.background.jobs.submit_generation(Principal(user_id="local"), long_job)
        )["job_id"]
        repo = services.background.jobs.repo
        while (job := await repo.get(job_id)) is None or job.attempts < 1:
            await asyncio.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed = time.perf_counter()
        second.send_signal(signal.SIGCONT)
        if (job := await repo.get(job_id)) is not None and job.is_terminal:
            message = "the job ended before its worker was killed; nothing to redeliver"
            raise RuntimeError(message)
        while (job := await repo.get(job_id)) is None or job.attempts < 2:
            if time.perf_counter() - killed > 120:
                message = "the job was not redelivered within 120 s"
                raise TimeoutError(message)
            await asyncio.sleep(0.005)
        return time.perf_counter() - killed
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
        await services.close()


def main(argv: list[str]) -> int:
    """Run the jobs bench; 1 when the SQLite end-to-end rate misses its target."""
    parser = argparse.ArgumentParser(prog="python -m bench jobs")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--lease", type=float, default=5.0)
    args = parser.parse_args(argv)
    base = baseline(50)
    rows = [["engine generate alone (baseline)", f"{base:.1f}", "1.00", "", ""]]
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    redis = redis_url()
    if redis:
        backends.append(("redis", redis))
    status = 0
    for name, url in backends:
        with tempfile.TemporaryDirectory(prefix=f"asciihub-bench-jobs-{name}-") as folder:
            if url:
                import redis as redis_client

                client = redis_client.Redis.from_url(url)
                client.flushdb()
                client.close()
            env = _env(Path(folder), url, args.lease)
            rate = asyncio.run(end_to_end(env, args.jobs, args.concurrency))
            delay = asyncio.run(kill_to_redelivery(env))
        ok = rate >= TARGET
        status |= 0 if ok or name != "sqlite" else 1
        rows.append(
            [
                f"{name}: submit -> done, 1 worker x {args.concurrency}",
                f"{rate:.1f}",
                f"{rate / base:.2f}",
                f">= {TARGET:.0f} {'ok' if ok else 'MISSED'}",
                f"{delay:.2f} s (lease {args.lease:g} s)",
            ]
        )
    print_table(
        f"generation jobs, {PROMPT['frames']} frames of 80x24, {args.jobs} jobs",
        ["case", "jobs/s", "x baseline", "target", "kill -> redelivered"],
        rows,
    )
    return status
