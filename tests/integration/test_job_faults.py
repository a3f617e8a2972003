"""Fault tests of background jobs on both backends (goals R1 and R2).

Backends: the SQLite queue with SQLite metadata and files; Redis Streams with
PostgreSQL and S3 (moto). Workers are real ``asciihub worker`` processes (with a
synthetic slow generator, see ``job_worker.py``), SIGKILLed at seeded random moments
and restarted until the queue drains. CI size: 300 jobs x 3 seeds per backend;
``ASCIIHUB_FAULT_JOBS=1000 ASCIIHUB_FAULT_SEEDS=20`` for the extended run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.stack import create_bucket, new_bucket_name, reset_postgres

from asciihub.bootstrap import Services, build_services
from asciihub.services.jobs import artwork_id_for
from asciihub.services.principals import Principal
from asciihub.settings import load_settings
from asciihub.storage.metadata.tables import ascii_metadata

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
JOBS = int(os.environ.get("ASCIIHUB_FAULT_JOBS", "300"))
SEEDS = int(os.environ.get("ASCIIHUB_FAULT_SEEDS", "3"))
# R1 asks for 20-100 ms per frame; CI uses 5-25 ms to stay within its time budget.
FRAME_MS = os.environ.get("ASCIIHUB_FAULT_FRAME_MS", "5,25")
LEASE = 3.0
MAX_RETRIES = 3
SLOTS = 2
MEMORY_LIMIT_MB = 512
POISONS = ("poison pill", "hog memory")  # SIGKILLs its worker; allocates past RLIMIT_AS
LOCAL = Principal(user_id="local")


@pytest.fixture(params=["sqlite", "redis"])
async def deployment(request: pytest.FixtureRequest, data_dir: Path) -> dict[str, str]:
    """Environment of a deployment on one backend, with the fault-test settings."""
    env = {
        "ASCIIHUB_DATA_DIR": str(data_dir),
        "ASCIIHUB_QUEUE_VISIBILITY_TIMEOUT": str(LEASE),
        "ASCIIHUB_QUEUE_MAX_RETRIES": str(MAX_RETRIES),
        "ASCIIHUB_QUEUE_POLL_INTERVAL": "0.05",
        "ASCIIHUB_QUEUE_MAX_BATCH_TIMEOUT": "0.1",
        "ASCIIHUB_QUEUE_RETRY_DELAY": "0.2",
        "ASCIIHUB_QUEUE_SHUTDOWN_GRACE": "5",
        "ASCIIHUB_JOBS_SWEEP_INTERVAL": "0.5",
        "ASCIIHUB_JOBS_PROGRESS_INTERVAL": "0.1",
        "ASCIIHUB_LOG_LEVEL": "warning",
        "ASCIIHUB_TEST_FRAME_MS": FRAME_MS,
        "ASCIIHUB_WORKER_MEMORY_LIMIT_MB": str(MEMORY_LIMIT_MB),
    }
    if request.param == "redis":
        dsn = request.getfixturevalue("postgres_server_dsn")
        await reset_postgres(dsn)
        redis = request.getfixturevalue("redis_url")
        aws = request.getfixturevalue("s3_env")
        bucket = new_bucket_name()
        await create_bucket(aws["AWS_ENDPOINT_URL_S3"], bucket)
        env.update(
            aws,
            ASCIIHUB_METADATA_URL=dsn,
            ASCIIHUB_QUEUE_URL=redis,
            ASCIIHUB_KV_URL=redis,
            ASCIIHUB_OBJECTS_URL=f"s3://{bucket}",
            ASCIIHUB_ACCEPT_QUEUE_LOSS="true",
        )
    return env


@dataclass
class Fleet:
    """Worker processes under a supervisor that restarts the dead."""

    env: dict[str, str]
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: list[tuple[float, int]] = field(default_factory=list)
    restarts: int = 0

    def spawn(self) -> subprocess.Popen[bytes]:
        index = len(self.kills) + self.restarts + len(self.procs)
        out = (self.logs / f"worker-{index}.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.job_worker",
                "worker",
                "--concurrency",
                str(SLOTS),
                "--queues",
                "generation,thumbnails,analytics",
            ],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        return proc

    def start(self, count: int) -> None:
        self.procs = [self.spawn() for _ in range(count)]

    def kill(self, rng: random.Random) -> None:
        """SIGKILL a random worker and start another in its place."""
        index = rng.randrange(len(self.procs))
        proc = self.procs[index]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.kills.append((time.time(), proc.pid))
        self.procs[index] = self.spawn()

    def revive(self) -> None:
        """Restart workers that died by themselves (a poison job)."""
        for index, proc in enumerate(self.procs):
            if proc.poll() is not None:
                self.restarts += 1
                self.procs[index] = self.spawn()

    def stop(self) -> list[int]:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(timeout=30))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes


@pytest.fixture
async def services(deployment: dict[str, str]) -> AsyncIterator[Services]:
    """The test's own view of the deployment (submits jobs, inspects the outcome)."""
    built = await build_services(load_settings(environ=deployment))
    try:
        yield built
    finally:
        await built.close()


async def submit(services: Services, prompts: list[str]) -> list[str]:
    jobs = services.background.jobs
    ids = []
    for number, prompt in enumerate(prompts):
        payload = {"prompt": prompt, "frames": 8, "width": 40, "height": 12, "seed": number}
        ids.append((await jobs.submit_generation(LOCAL, payload))["job_id"])
    return ids


async def queue_idle(services: Services, name: str) -> bool:
    stats = await services.background.queue.stats(name)
    return stats.ready + stats.delayed + stats.in_flight == 0


async def drained(services: Services) -> bool:
    counts = await services.background.jobs.repo.counts()
    if counts.get("queued", 0) + counts.get("running", 0):
        return False
    return await queue_idle(services, "thumbnails")


def executions(data_dir: Path) -> list[tuple[float, int, str, str]]:
    path = data_dir / "executions.log"
    rows = []
    for line in path.read_text().splitlines() if path.exists() else []:
        stamp, pid, event, prompt = line.split(" ", 3)
        rows.append((float(stamp), int(pid), event, prompt))
    return rows


def redelivery_delays(
    rows: list[tuple[float, int, str, str]], kills: list[tuple[float, int]]
) -> list[float]:
    """For each kill, how long until each job the dead worker was running started again."""
    delays = []
    for killed_at, pid in kills:
        running: dict[str, float] = {}
        for stamp, who, event, prompt in rows:
            if who != pid or stamp > killed_at:
                continue
            if event == "start":
                running[prompt] = stamp
            else:
                running.pop(prompt, None)
        for prompt in running:
            again = [s for s, who, e, p in rows if p == prompt and e == "start" and s > killed_at]
            if again:
                delays.append(min(again) - killed_at)
    return delays


async def check_outcome(services: Services, job_ids: list[str]) -> dict[str, Any]:
    """Every job terminal, one artwork and one thumbnail each, readable with its sha."""
    repo = services.background.jobs.repo
    jobs = [await repo.get(job_id) for job_id in job_ids]
    assert all(job is not None for job in jobs), "a job row vanished"
    lost = [job.id for job in jobs if job is not None and not job.is_terminal]
    assert lost == [], f"jobs not terminal: {lost}"
    failed = [job for job in jobs if job is not None and job.status == "failed"]
    assert {job.error_code for job in failed} <= {"worker_lost"}, [
        (job.error_code, job.error_message) for job in failed
    ]
    done = [job for job in jobs if job is not None and job.status == "done"]
    artworks = []
    for job in done:
        assert job.artwork_id == artwork_id_for(job.id)
        row = await services.artworks_repo.get(job.artwork_id)
        assert row is not None, f"job {job.id} is done but its artwork is missing"
        stored = await services.objects.get(row.r2_key)
        assert stored is not None
        digest = hashlib.sha256(stored.data).hexdigest()
        assert digest == row.sha256 == (job.result or {}).get("sha256")
        artworks.append(row.id)
    assert len(set(artworks)) == len(done)
    async with services.db.read() as conn:
        query = sa.select(sa.func.count()).select_from(ascii_metadata)
        stored_rows = (
            await conn.execute(query.where(ascii_metadata.c.user_id == "local"))
        ).scalar_one()
    assert stored_rows == len(done), "an artwork without its job, or a job with two artworks"
    thumbnails = set()
    cursor = None
    while True:
        listing = await services.objects.list("thumbnails/", cursor=cursor)
        thumbnails.update(info.key for info in listing.objects)
        cursor = listing.cursor
        if not listing.truncated:
            break
    expected = {f"thumbnails/{aid}.png" for aid in artworks}
    dead = await services.background.queue.dead_list("thumbnails")
    assert thumbnails == expected, {
        "missing": sorted(expected - thumbnails)[:5],
        "extra": sorted(thumbnails - expected)[:5],
        "dead_thumbnail_messages": [(d.error_code, d.attempts) for d in dead][:5],
    }
    return {"done": len(done), "worker_lost": len(failed)}


async def supervise(
    services: Services, fleet: Fleet, *, rng: random.Random | None, timeout: float
) -> None:
    """Kill (with ``rng``) and revive workers until every job and thumbnail is through."""
    deadline = time.monotonic() + timeout
    next_kill = time.monotonic() + (rng.uniform(1, 4) if rng else float("inf"))
    while not await drained(services):
        assert time.monotonic() < deadline, f"not drained after {timeout}s"
        fleet.revive()
        if rng is not None and time.monotonic() >= next_kill:
            fleet.kill(rng)
            next_kill = time.monotonic() + rng.uniform(1, 4)
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("seed", range(SEEDS))
async def test_killed_workers_lose_no_job(
    services: Services, deployment: dict[str, str], data_dir: Path, seed: int, tmp_path: Path
) -> None:
    """R1: N jobs, 2 workers x 2 slots, SIGKILL every U(1, 4) s until drained."""
    job_ids = await submit(services, [f"rain job {i} seed {seed}" for i in range(JOBS)])
    fleet = Fleet(deployment, tmp_path)
    fleet.start(2)
    try:
        await supervise(services, fleet, rng=random.Random(seed), timeout=60 + JOBS * 1.0)
    finally:
        fleet.stop()
    outcome = await check_outcome(services, job_ids)
    rows = executions(data_dir)
    starts = sum(1 for row in rows if row[2] == "start")
    delays = redelivery_delays(rows, fleet.kills)
    report = {
        **outcome,
        "kills": len(fleet.kills),
        "re_executions": starts - JOBS,
        "max_redelivery_s": round(max(delays, default=0.0), 2),
    }
    log.warning("R1 seed=%s %s", seed, report)
    assert outcome["done"] + outcome["worker_lost"] == JOBS
    assert starts - JOBS <= len(fleet.kills) * SLOTS
    # With a backlog, a redelivered job waits behind older messages (best-effort order),
    # so this delay is reported; the lease bound is asserted on an idle queue below.
    if deployment.get("ASCIIHUB_QUEUE_URL", "").startswith("redis"):
        await assert_pel_empty(deployment["ASCIIHUB_QUEUE_URL"])


async def assert_pel_empty(url: str) -> None:
    import redis.asyncio as redis

    from asciihub.queue.keys import REDIS_GROUP, stream_key

    client = redis.Redis.from_url(url)
    try:
        for name in ("generation", "thumbnails"):
            pending = await client.xpending(stream_key(name), REDIS_GROUP)
            assert pending["pending"] == 0, (name, pending)
    finally:
        await client.aclose()


async def test_poison_job_lands_in_the_dead_letter_queue(
    services: Services, deployment: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    """R2: jobs that SIGKILL their worker or exhaust its RLIMIT_AS, among 200 normal ones.

    Each is delivered max_retries + 1 times, then dead (``worker_lost``); the others
    all finish; ``queue dead retry`` re-drives them once.
    """
    normal = [f"waves job {i}" for i in range(200)]
    poison_ids = await submit(services, list(POISONS))
    job_ids = await submit(services, normal)
    fleet = Fleet(deployment, tmp_path)
    fleet.start(2)

    def starts_of(prompt: str) -> int:
        return len([row for row in executions(data_dir) if row[3] == prompt])

    try:
        await supervise(services, fleet, rng=None, timeout=240)
        for poison_id in poison_ids:
            poison = await services.background.jobs.repo.get(poison_id)
            assert poison is not None
            assert (poison.status, poison.error_code) == ("failed", "worker_lost")
        # The two may share a worker: a delivery can die before it starts, and one
        # death can end two starts. So deliveries come from the dead letters, and every
        # restart was caused by a poison start.
        dead = await services.background.queue.dead_list("generation")
        assert sorted(d.body["job_id"] for d in dead) == sorted(poison_ids)
        assert {d.error_code for d in dead} == {"worker_lost"}
        assert [d.attempts - 1 for d in dead] == [MAX_RETRIES + 1] * 2  # the last is refused
        starts = [starts_of(prompt) for prompt in POISONS]
        assert all(1 <= count <= MAX_RETRIES + 1 for count in starts), starts
        assert max(starts) <= fleet.restarts <= sum(starts) <= 2 * (MAX_RETRIES + 1)
        logs = [path.read_text() for path in tmp_path.glob("worker-*.log")]
        assert 1 <= sum("event=worker_out_of_memory" in text for text in logs) <= starts[1]
        outcome = await check_outcome(services, job_ids)
        assert outcome["done"] == len(normal)
        retried = subprocess.run(
            [
                sys.executable,
                "-m",
                "asciihub",
                "queue",
                "dead",
                "retry",
                "--all",
                "-q",
                "generation",
            ],
            cwd=ROOT,
            env={**os.environ, **deployment},
            capture_output=True,
            timeout=60,
        )
        assert retried.returncode == 0, retried.stderr

        async def redriven() -> bool:
            fleet.revive()
            return starts_of(POISONS[0]) > starts[0]

        deadline = time.monotonic() + LEASE * 4 + 20
        while not await redriven():
            assert time.monotonic() < deadline, "the re-driven poison job was not delivered"
            await asyncio.sleep(0.1)
    finally:
        fleet.stop()


async def test_a_killed_workers_job_runs_again_within_the_lease(
    services: Services, deployment: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    """R1's redelivery figure: kill -9 the worker running a job; it restarts elsewhere."""
    fleet = Fleet({**deployment, "ASCIIHUB_TEST_FRAME_MS": "400,400"}, tmp_path)
    fleet.start(2)
    try:
        (job_id,) = await submit(services, ["clouds slow job"])
        deadline = time.monotonic() + 30
        while not (started := [r for r in executions(data_dir) if r[2] == "start"]):
            assert time.monotonic() < deadline, "the job never started"
            await asyncio.sleep(0.02)
        victim = next(p for p in fleet.procs if p.pid == started[0][1])
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed_at = time.time()
        deadline = time.monotonic() + LEASE + 10
        while len(again := [r for r in executions(data_dir) if r[2] == "start"]) < 2:
            assert time.monotonic() < deadline, "the job was not redelivered"
            await asyncio.sleep(0.02)
        delay = again[1][0] - killed_at
        log.warning("R1 redelivery after kill: %.2fs (lease %ss)", delay, LEASE)
        assert again[1][1] != victim.pid
        assert delay <= LEASE + 5
        fleet.revive()
        job = await wait_terminal(services, job_id)
        assert job.status == "done"
    finally:
        fleet.stop()


async def wait_terminal(services: Services, job_id: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = await services.background.jobs.repo.get(job_id)
        if job is not None and job.is_terminal:
            return job
        assert time.monotonic() < deadline, f"job {job_id} not terminal after {timeout}s"
        await asyncio.sleep(0.05)
