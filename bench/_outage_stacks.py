"""The deployments of the R3 run (``bench.outages``): scale-out and embedded.

The scale-out one runs private servers (free ports, temporary directories): a
``redis-server`` with AOF, a PostgreSQL cluster made with ``initdb``, moto for S3, one
``asciihub serve`` and one ``asciihub worker``; the embedded one runs ``asciihub
serve`` alone. Each can crash its dependency (``inject``) in the middle of a run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench._dependencies import (
    AsciihubProcess,
    MotoServer,
    PostgresCluster,
    RedisServer,
    wait_healthy,
)
from bench._tools import free_port

PASSWORD = "r3 outage run passphrase"
# Short leases and sweeps so jobs held by a killed process, or whose messages Redis
# lost, come back within the run rather than after the 30 s / 600 s defaults. The
# sweeper also publishes again a job that merely waits in a backlog longer than
# jobs_requeue_after, so that must stay well above the backlog the run can build on a
# loaded machine: at 5 s, republished duplicates outran a starved worker.
RUN_SETTINGS = {
    "ASCIIHUB_LOG_LEVEL": "warning",
    "ASCIIHUB_RATE_LIMITS_ENABLED": "false",
    "ASCIIHUB_QUEUE_VISIBILITY_TIMEOUT": "5",
    "ASCIIHUB_JOBS_REQUEUE_AFTER": "15",
    "ASCIIHUB_JOBS_SWEEP_INTERVAL": "1",
    "ASCIIHUB_QUEUE_MAX_BATCH_TIMEOUT": "0.1",
    "ASCIIHUB_QUEUE_POLL_INTERVAL": "0.1",
    # The queues this run feeds, named so the run does not follow queue_names' default.
    "ASCIIHUB_QUEUE_NAMES": "generation,thumbnails,analytics",
}
# The retry delay stays at its default (2 s, doubling): a job whose delivery meets
# PostgreSQL down is retried after 2, 4 and 8 s; one whose every delivery meets the
# outage (`--down` longer than that) is published again by the sweeper once it is over.


@dataclass(frozen=True)
class RunOptions:
    """The shape of one repetition."""

    seconds: float = 60.0
    rate: float = 20.0
    fault_at: float = 0.4  # fraction of the run before the fault strikes
    down: float = 2.0  # seconds a crashed dependency stays down
    drain_timeout: float = 120.0  # longest wait for acknowledged jobs to end
    request_timeout: float = 15.0


@dataclass
class FaultTimes:
    """When the dependency went down and when it was back, in seconds into the run."""

    down_at: float = 0.0
    back_at: float = 0.0
    aof_delayed_fsync: int | None = None


@dataclass
class Account:
    """The run's user: an API token for the load, a session cookie to check survival."""

    handle: str
    token: str
    cookies: dict[str, str]


def signup(base: str) -> Account:
    handle = f"r3-{int(time.time() * 1000) % 10**9}"
    with httpx.Client(base_url=base, headers={"Origin": base}, timeout=30) as http:
        made = http.post("/api/auth/signup", json={"handle": handle, "password": PASSWORD})
        made.raise_for_status()
        token = http.post("/api/tokens", json={"name": "r3", "scopes": ["read", "write"]})
        token.raise_for_status()
        return Account(handle, token.json()["token"], dict(http.cookies))


class ScaleoutStack:
    """Private Redis + PostgreSQL + moto S3, one ``serve`` and one ``worker``."""

    def __init__(self, root: Path, exits: ExitStack) -> None:
        self.redis = RedisServer(root)
        self.postgres = PostgresCluster()
        self.moto = MotoServer(root)
        for server in (self.moto, self.redis, self.postgres):
            exits.callback(server.stop)
        self.moto.start()
        self.redis.start()
        self.postgres.init()
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {
            **RUN_SETTINGS,
            "ASCIIHUB_DATA_DIR": str(root / "data"),
            "ASCIIHUB_METADATA_URL": self.postgres.dsn,
            "ASCIIHUB_KV_URL": self.redis.url,
            "ASCIIHUB_QUEUE_URL": self.redis.url.replace("/0", "/1"),
            "ASCIIHUB_OBJECTS_URL": "s3://asciihub-r3",
            "ASCIIHUB_OBJECTS_S3_CREATE_BUCKET": "true",
            "ASCIIHUB_PORT": str(port),
            "AWS_ENDPOINT_URL_S3": self.moto.endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        self.serve = AsciihubProcess(["serve"], env, root / "serve.log")
        self.worker = AsciihubProcess(["worker"], env, root / "worker.log")
        exits.callback(self.serve.stop)
        self.serve.start()
        wait_healthy(self.base, proc=self.serve)
        exits.callback(self.worker.stop)
        self.worker.start()
        self.worker.wait_for_output("consuming")
        self.account = signup(self.base)

    def processes_alive(self) -> bool:
        """Whether serve and worker are still the processes started at first."""
        return self.serve.is_alive and self.worker.is_alive

    async def inject(self, fault: str, t0: float, options: RunOptions) -> FaultTimes:
        """Crash Redis or PostgreSQL in the middle of the run and bring it back."""
        await asyncio.sleep(max(0.0, t0 + options.seconds * options.fault_at - time.monotonic()))
        times = FaultTimes()
        if fault.startswith("redis"):
            wipe = fault == "redis-wipe"
            if wipe:  # let job messages pile up that exist only in Redis, then lose them
                self.worker.pause()
                await asyncio.sleep(1.0)
            times.aof_delayed_fsync = await asyncio.to_thread(self.redis.aof_delayed_fsync)
            times.down_at = time.monotonic() - t0
            await asyncio.to_thread(self.redis.kill)
            if wipe:
                self.redis.wipe()
            await asyncio.sleep(options.down)  # the outage itself
            await asyncio.to_thread(self.redis.start)
            if wipe:
                self.worker.resume()
        elif fault == "postgres":
            # A second of backlog, so that queued jobs meet the outage, not only the
            # one a worker happens to hold when it strikes.
            self.worker.pause()
            await asyncio.sleep(1.0)
            times.down_at = time.monotonic() - t0
            await asyncio.to_thread(self.postgres.crash)
            self.worker.resume()
            await asyncio.sleep(options.down)
            await asyncio.to_thread(self.postgres.start)
        else:
            raise ValueError(f"not a scale-out fault: {fault}")
        times.back_at = time.monotonic() - t0
        return times


class EmbeddedStack:
    """``asciihub serve`` alone on SQLite + files, running the consumers in-process."""

    def __init__(self, root: Path, exits: ExitStack) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {**RUN_SETTINGS, "ASCIIHUB_DATA_DIR": str(root / "data"), "ASCIIHUB_PORT": str(port)}
        self.serve = AsciihubProcess(["serve"], env, root / "serve.log")
        exits.callback(self.serve.stop)
        self.serve.start()
        wait_healthy(self.base, proc=self.serve)
        self.account = signup(self.base)

    def processes_alive(self) -> bool:
        """Whether serve is running."""
        return self.serve.is_alive

    async def inject(self, fault: str, t0: float, options: RunOptions) -> FaultTimes:
        """``kill -9`` serve in the middle of the run and start it again at once."""
        if fault != "serve":
            raise ValueError(f"not an embedded fault: {fault}")
        await asyncio.sleep(max(0.0, t0 + options.seconds * options.fault_at - time.monotonic()))
        times = FaultTimes(down_at=time.monotonic() - t0)
        await asyncio.to_thread(self.serve.kill)
        await asyncio.to_thread(self.serve.start)
        times.back_at = time.monotonic() - t0
        return times


@contextmanager
def deployment(kind: str, root: Path) -> Iterator[ScaleoutStack | EmbeddedStack]:
    """A running deployment (``scaleout`` or ``embedded``) under ``root``, stopped after."""
    with ExitStack() as exits:
        root.mkdir(parents=True, exist_ok=True)
        yield ScaleoutStack(root, exits) if kind == "scaleout" else EmbeddedStack(root, exits)
