"""Goal R3 with real processes, CI size: Redis, PostgreSQL and serve crash under load.

The same code as ``python -m bench outages`` (``bench/outages.py``), one repetition of
each fault, 10 s at 20 requests/s with the fault 3 s in. Private servers (free ports,
temporary directories) are started here, so the machine's shared Redis and PostgreSQL
are never killed; ``tests/integration/test_outages.py`` is the in-process version.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench._dependencies import MissingBinary, RedisServer, postgres_bin_dir, redis_binary
from bench.outages import RECOVERY_GOAL, RepResult, RunOptions, deployment, run_rep
from tests.conftest import service_missing

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# drain_timeout covers jobs_requeue_after (15 s in the run) for the redis-wipe case.
OPTIONS = RunOptions(seconds=10, rate=20, fault_at=0.3, drain_timeout=30)


def _require(*binaries: str) -> None:
    """Skip (laptop) or fail (CI=true) when a server binary or moto is missing."""
    try:
        if "redis" in binaries:
            redis_binary()
        if "postgres" in binaries:
            postgres_bin_dir()
        if "moto" in binaries:
            import moto.server  # noqa: F401
    except (MissingBinary, ImportError) as exc:
        service_missing(str(exc))


@pytest.fixture(scope="module")
def scaleout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Private Redis, PostgreSQL and moto, with one serve and one worker on them."""
    _require("redis", "postgres", "moto")
    with deployment("scaleout", tmp_path_factory.mktemp("r3-scaleout")) as stack:
        yield stack


def _assert_r3(result: RepResult) -> None:
    """Every R3 figure of one repetition, with the run's notes on failure."""
    notes = "\n".join(result.notes)
    assert result.artworks_acked > 0 and result.jobs_acked > 0, notes
    assert (result.artworks_lost, result.jobs_lost) == (0, 0), notes
    assert result.jobs_pending == 0, f"{result.jobs_pending} jobs not terminal"
    assert result.jobs_done == result.jobs_acked, f"{result.jobs_failed} jobs failed"
    assert result.server_errors == 0, notes
    assert result.unavailable_no_retry_after == 0
    assert result.unavailable_bad_shape == 0
    assert result.other_errors == {}
    assert result.recovery_s <= RECOVERY_GOAL
    assert result.late_failures == 0
    assert result.readback_errors == 0
    assert result.misses() == [], notes


@pytest.mark.timeout(150)
@pytest.mark.parametrize("fault", ["redis", "postgres", "redis-wipe"])
def test_scaleout_dependency_crash_loses_nothing(scaleout: object, fault: str) -> None:
    """(a) kill -9 Redis, (b) pg_ctl stop -m immediate; both back after 2 s."""
    result = asyncio.run(run_rep(scaleout, fault, 1, OPTIONS))
    _assert_r3(result)
    assert result.unavailable > 0, "the fault never showed: was anything down?"
    assert result.socket_errors == 0
    assert not result.api_restarted, "serve or worker died; R3 allows no manual restart"
    if fault == "redis":
        assert result.sessions_lost == 0
        assert result.aof_delayed_fsync is not None
    if fault == "redis-wipe":  # every session is gone, as documented; jobs are not
        assert result.sessions_lost == 1


@pytest.mark.timeout(120)
def test_serve_crash_on_embedded_backends_loses_nothing(tmp_path: Path) -> None:
    """(c) kill -9 serve on SQLite + files and start it again."""
    with deployment("embedded", tmp_path / "embedded") as stack:
        result = asyncio.run(run_rep(stack, "serve", 1, OPTIONS))
    _assert_r3(result)
    assert result.socket_errors > 0, "the fault never showed: was serve killed?"
    assert result.sessions_lost == 0


async def test_connections_pooled_before_a_redis_restart_do_not_answer_503(
    tmp_path: Path,
) -> None:
    """The first command on a connection Redis dropped is retried on a new one (KV, queue)."""
    from asciihub.queue import open_job_queue
    from asciihub.storage.kv.redis import RedisKVStore

    _require("redis")
    redis = RedisServer(tmp_path)
    redis.start()
    store = RedisKVStore.from_url(redis.url)
    queue = await open_job_queue(redis.url.replace("/0", "/1"))
    try:
        await store.put("before", "kept")
        await queue.send("jobs", {"n": 1})
        redis.kill()
        redis.start()
        assert await store.get("before") == b"kept"
        await queue.send("jobs", {"n": 2})
        received = await queue.receive("jobs", max_messages=10)
        assert [m.body for m in received] == [{"n": 1}, {"n": 2}]
    finally:
        await store.close()
        await queue.close()
        redis.stop()


async def test_a_receive_failing_mid_batch_hands_over_the_messages_already_gathered(
    tmp_path: Path,
) -> None:
    """Redis dying while a consumer gathers a batch must not strand what it received.

    The messages used to stay held (their leases extended by the heartbeat for ever)
    without ever reaching the handler, so their jobs waited for the sweeper.
    """
    from asciihub.errors import Unavailable
    from asciihub.queue import Consumer, ConsumerOptions, MessageBatch, open_job_queue

    queue = await open_job_queue(f"sqlite://{tmp_path}/queue.sqlite3")

    class DiesAfterFirstReceive:
        def __init__(self) -> None:
            self.receives = 0

        def __getattr__(self, name: str) -> object:
            return getattr(queue, name)

        async def receive(self, *args: object, **kwargs: object) -> object:
            self.receives += 1
            if self.receives > 1:
                raise Unavailable("the Redis queue failed to receive: connection refused")
            return await queue.receive(*args, **kwargs)  # type: ignore[arg-type]

    handled: list[object] = []

    async def handler(batch: MessageBatch) -> None:
        handled.extend(message.body for message in batch.messages)

    try:
        await queue.send("jobs", {"n": 1})
        options = ConsumerOptions(max_batch_size=10, max_batch_timeout=5)
        consumer = Consumer(DiesAfterFirstReceive(), "jobs", handler, options)  # type: ignore[arg-type]
        assert await consumer.run_once() == 1
        assert handled == [{"n": 1}]
        assert not consumer._held
        assert await queue.receive("jobs", max_messages=10) == []  # acked, not stranded
    finally:
        await queue.close()
