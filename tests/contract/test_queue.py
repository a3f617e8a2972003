"""The JobQueue contract and the consumer loop's semantics, run on every backend.

Each test runs once on the embedded SQLite backend and once on Redis Streams (skipped
on a laptop without Redis, failed under CI=true). Delays run on a clock the test moves;
leases use short real timeouts observed by polling with a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from _queue_backends import CountingQueue, ManualClock, eventually, receive_all

from asciihub.errors import ConfigError, InvalidInput, TooLarge
from asciihub.queue import (
    Consumer,
    ConsumerOptions,
    JobQueue,
    MessageBatch,
    OutgoingMessage,
    PermanentFailure,
    RetryLater,
    RetryPolicy,
    open_job_queue,
)
from asciihub.queue.limits import MAX_BODY_BYTES

Q = "jobs"
MakeQueue = Callable[..., Awaitable[JobQueue]]
NO_DELAY = RetryPolicy(backoff="fixed", base_delay=0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["sqlite", "redis"])
async def make_queue(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[MakeQueue]:
    """Opens queue objects (consumer identities) on one backend and closes them after."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
    else:
        url = f"sqlite://{tmp_path}/queue.sqlite3"
    opened: list[JobQueue] = []

    async def make(**options: Any) -> JobQueue:
        options.setdefault("clock", clock)
        queue = await open_job_queue(url, accept_queue_loss=True, **options)
        opened.append(queue)
        return queue

    yield make
    for queue in opened:
        await queue.close()


@pytest.fixture
async def queue(make_queue: MakeQueue) -> JobQueue:
    return await make_queue()


def consumer(queue: JobQueue, handler: Any, **options: Any) -> Consumer:
    options.setdefault("max_batch_timeout", 0)
    options.setdefault("retry_policy", NO_DELAY)
    options.setdefault("poll_interval", 0.02)
    return Consumer(queue, Q, handler, ConsumerOptions(**options))


# --- send, receive, ack ------------------------------------------------------------------


async def test_round_trip_of_each_content_type(queue: JobQueue) -> None:
    sent = {
        await queue.send(Q, {"prompt": "cat", "frames": [1, 2]}): {
            "prompt": "cat",
            "frames": [1, 2],
        },
        await queue.send(Q, "plain text ✓", content_type="text"): "plain text ✓",
        await queue.send(Q, b"\x00\n\xff", content_type="bytes"): b"\x00\n\xff",
    }
    got = await receive_all(queue)
    assert {m.id: m.body for m in got} == sent
    assert {m.content_type for m in got} == {"json", "text", "bytes"}
    assert all(m.attempts == 1 and m.queue == Q and m.timestamp.tzinfo for m in got)
    assert await queue.ack([m.id for m in got]) == 3
    assert await queue.receive(Q) == []
    stats = await queue.stats(Q)
    assert (stats.ready, stats.delayed, stats.in_flight, stats.dead) == (0, 0, 0, 0)


async def test_leased_messages_are_not_received_twice(queue: JobQueue) -> None:
    await queue.send_batch(Q, [OutgoingMessage(i) for i in range(5)])
    first = await queue.receive(Q, max_messages=3)
    second = await queue.receive(Q, max_messages=10)
    assert (len(first), len(second)) == (3, 2)
    assert {m.body for m in first} | {m.body for m in second} == set(range(5))
    assert await queue.receive(Q) == []
    assert (await queue.stats(Q)).in_flight == 5


async def test_queues_are_separate(queue: JobQueue) -> None:
    await queue.send("one", 1)
    await queue.send("two", 2)
    assert [m.body for m in await queue.receive("two")] == [2]
    assert [m.body for m in await queue.receive("one")] == [1]


async def test_send_batch_stores_up_to_100(queue: JobQueue) -> None:
    ids = await queue.send_batch(Q, [OutgoingMessage({"n": i}) for i in range(100)])
    assert len(set(ids)) == 100
    got = await receive_all(queue)
    assert sorted(m.body["n"] for m in got) == list(range(100))


@pytest.mark.parametrize("count", [0, 101])
async def test_send_batch_count_limit(queue: JobQueue, count: int) -> None:
    with pytest.raises(InvalidInput, match="1 to 100"):
        await queue.send_batch(Q, [OutgoingMessage(1)] * count)


async def test_send_batch_total_size_limit(queue: JobQueue) -> None:
    big = b"x" * (100 * 1024)
    with pytest.raises(TooLarge, match="256 KiB"):
        await queue.send_batch(Q, [OutgoingMessage(big, "bytes")] * 3)
    assert (await queue.stats(Q)).ready == 0


async def test_send_batch_is_all_or_nothing(queue: JobQueue) -> None:
    items = [OutgoingMessage(1), OutgoingMessage(b"raw", "text"), OutgoingMessage(3)]
    with pytest.raises(InvalidInput, match="text"):
        await queue.send_batch(Q, items)
    assert await queue.receive(Q) == []


async def test_body_size_limit_is_128_kib(queue: JobQueue) -> None:
    await queue.send(Q, b"x" * MAX_BODY_BYTES, content_type="bytes")
    with pytest.raises(TooLarge, match="131072"):
        await queue.send(Q, b"x" * (MAX_BODY_BYTES + 1), content_type="bytes")
    assert len(await receive_all(queue)) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"raw", "text"), ("str", "bytes"), ({1, 2}, "json"), ("x", "v8"), ("x", "JSON")],
)
async def test_content_type_mismatch_is_refused(
    queue: JobQueue, body: Any, content_type: Any
) -> None:
    with pytest.raises(InvalidInput):
        await queue.send(Q, body, content_type=content_type)


@pytest.mark.parametrize("delay", [-1, 43_201, float("nan"), "5"])
async def test_delay_outside_0_to_43200_is_refused(queue: JobQueue, delay: Any) -> None:
    with pytest.raises(InvalidInput, match="delay"):
        await queue.send(Q, 1, delay_seconds=delay)


@pytest.mark.parametrize("name", ["", "Upper", "has space", "a" * 64, "-lead"])
async def test_bad_queue_name_is_refused(queue: JobQueue, name: str) -> None:
    with pytest.raises(InvalidInput, match="queue name"):
        await queue.send(name, 1)


# --- delays ---------------------------------------------------------------------------


async def test_delayed_message_waits_until_due(queue: JobQueue, clock: ManualClock) -> None:
    await queue.send(Q, "later", delay_seconds=60)
    assert await queue.receive(Q) == []
    assert (await queue.stats(Q)).delayed == 1
    clock.advance(59)
    assert await queue.receive(Q) == []
    clock.advance(2)
    assert [m.body for m in await queue.receive(Q)] == ["later"]


async def test_batch_item_delay_beats_batch_delay(queue: JobQueue, clock: ManualClock) -> None:
    items = [OutgoingMessage("batch"), OutgoingMessage("now", delay_seconds=0)]
    await queue.send_batch(Q, items, delay_seconds=30)
    (now,) = await queue.receive(Q)
    assert now.body == "now"
    await queue.ack([now.id])
    clock.advance(31)
    assert [m.body for m in await queue.receive(Q)] == ["batch"]


async def test_zero_delay_beats_the_queue_default(
    make_queue: MakeQueue, clock: ManualClock
) -> None:
    queue = await make_queue(delivery_delay=120)
    await queue.send(Q, "default")
    await queue.send(Q, "now", delay_seconds=0)
    (now,) = await queue.receive(Q)
    assert now.body == "now"
    await queue.ack([now.id])
    clock.advance(121)
    assert [m.body for m in await queue.receive(Q)] == ["default"]


# --- ack, retry, release, leases -------------------------------------------------------


async def test_retry_counts_attempts_and_honours_delay(queue: JobQueue, clock: ManualClock) -> None:
    await queue.send(Q, "job")
    (first,) = await queue.receive(Q)
    assert await queue.retry([first.id], delay_seconds=10) == 1
    assert await queue.receive(Q) == []
    clock.advance(11)
    (second,) = await queue.receive(Q)
    assert (second.id, second.attempts, second.body) == (first.id, 2, "job")
    await queue.retry([second.id], delay_seconds=0)
    (third,) = await queue.receive(Q)
    assert third.attempts == 3


async def test_release_does_not_count_an_attempt(queue: JobQueue) -> None:
    await queue.send(Q, "job")
    (first,) = await queue.receive(Q)
    assert await queue.release([first.id]) == 1
    (again,) = await queue.receive(Q)
    assert again.attempts == 1


async def test_ids_not_held_are_ignored(make_queue: MakeQueue) -> None:
    owner, other = await make_queue(), await make_queue()
    await owner.send(Q, "job")
    (message,) = await owner.receive(Q)
    assert await other.ack([message.id]) == 0
    assert await other.retry([message.id]) == 0
    assert await other.extend_lease([message.id], visibility_timeout=30) == []
    assert await owner.ack([message.id, "no-such-id"]) == 1


async def test_expired_lease_is_redelivered(make_queue: MakeQueue) -> None:
    crashed, survivor = await make_queue(), await make_queue()
    await crashed.send(Q, "job")
    (held,) = await crashed.receive(Q, visibility_timeout=0.3)
    # Consumers of one queue share its visibility timeout (on Redis the claimer's counts).
    again = await eventually(lambda: survivor.receive(Q, visibility_timeout=0.3))
    assert [(m.id, m.attempts) for m in again] == [(held.id, 2)]
    assert await crashed.ack([held.id]) == 0  # its lease is gone
    assert await survivor.ack([held.id]) == 1


async def test_an_expired_lease_goes_before_the_backlog(
    make_queue: MakeQueue, clock: ManualClock
) -> None:
    """A dead consumer's message is not made to wait behind newer ones (R1's figure)."""
    crashed, survivor = await make_queue(), await make_queue()
    await crashed.send(Q, "held")
    (held,) = await crashed.receive(Q, visibility_timeout=0.3)
    await crashed.send_batch(Q, [OutgoingMessage(f"backlog {i}") for i in range(5)])
    clock.advance(1)  # SQLite leases run on the queue's clock
    redis = getattr(survivor, "_redis", None)
    if redis is not None:  # Redis leases run on the server's: wait until it is idle enough
        from asciihub.queue.keys import REDIS_GROUP, stream_key

        async def idle() -> bool:
            pending = await redis.xpending_range(stream_key(Q), REDIS_GROUP, "-", "+", 1)
            return bool(pending) and pending[0]["time_since_delivered"] >= 300

        await eventually(idle)
    # Consumers of one queue share its visibility timeout (on Redis the claimer's counts).
    first = await survivor.receive(Q, max_messages=3, visibility_timeout=0.3)
    assert [m.body for m in first] == ["held", "backlog 0", "backlog 1"]
    assert first[0].id == held.id


async def test_extend_lease_keeps_a_message(make_queue: MakeQueue) -> None:
    holder, other = await make_queue(), await make_queue()
    await holder.send(Q, "job")
    (held,) = await holder.receive(Q, visibility_timeout=0.6)
    loop = asyncio.get_running_loop()
    end = loop.time() + 1.5
    while loop.time() < end:  # more than two lease lengths, renewed every 0.1 s
        assert await holder.extend_lease([held.id], visibility_timeout=0.6) == [held.id]
        assert await other.receive(Q, visibility_timeout=0.6) == []
        await asyncio.sleep(0.1)
    assert await holder.ack([held.id]) == 1


async def test_two_consumers_lose_nothing_and_ack_once(make_queue: MakeQueue) -> None:
    sender = await make_queue()
    for start in range(0, 300, 100):
        await sender.send_batch(Q, [OutgoingMessage(i) for i in range(start, start + 100)])
    acked: dict[str, list[int]] = {"a": [], "b": []}
    queues = {"a": await make_queue(), "b": await make_queue()}

    async def drain(name: str) -> None:
        queue = queues[name]
        while batch := await queue.receive(Q, max_messages=7):
            assert await queue.ack([m.id for m in batch]) == len(batch)
            acked[name] += [m.body for m in batch]
            await asyncio.sleep(0.002)  # the handler's work, letting the other one in

    await asyncio.gather(drain("a"), drain("b"))
    assert sorted(acked["a"] + acked["b"]) == list(range(300))
    assert acked["a"], "consumer a got nothing"
    assert acked["b"], "consumer b got nothing"


# --- the dead-letter queue and stats ---------------------------------------------------


async def test_dead_list_retry_and_purge(queue: JobQueue) -> None:
    await queue.send_batch(Q, [OutgoingMessage(i) for i in range(3)])
    got = sorted(await queue.receive(Q), key=lambda m: m.body)
    assert await queue.dead_letter([m.id for m in got], code="boom", message="it broke") == 3
    dead = await queue.dead_list(Q)
    assert sorted(d.body for d in dead) == [0, 1, 2]
    assert {(d.error_code, d.error_message, d.attempts) for d in dead} == {("boom", "it broke", 1)}
    assert (await queue.stats(Q)).dead == 3
    assert len(await queue.dead_list(Q, limit=2)) == 2

    assert await queue.dead_retry(Q, [got[0].id]) == 1
    (again,) = await queue.receive(Q)
    assert (again.id, again.body, again.attempts) == (got[0].id, 0, 1)
    assert await queue.dead_purge(Q, [got[1].id]) == 1
    assert [d.id for d in await queue.dead_list(Q)] == [got[2].id]
    assert await queue.dead_purge(Q) == 1
    assert await queue.dead_list(Q) == []
    assert await queue.dead_retry(Q) == 0


async def test_stats_count_each_state(queue: JobQueue) -> None:
    await queue.send_batch(Q, [OutgoingMessage(i) for i in range(4)])
    await queue.send(Q, "later", delay_seconds=100)
    leased = await queue.receive(Q, max_messages=2)
    await queue.dead_letter([leased[0].id], code="x", message="y")
    stats = await queue.stats(Q)
    assert (stats.queue, stats.ready, stats.delayed, stats.in_flight, stats.dead) == (Q, 2, 1, 1, 1)


# --- the consumer loop: batching ---------------------------------------------------------


async def run_until(worker: Consumer, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Run ``worker`` until ``condition()`` holds, then stop it and wait for it."""
    task = asyncio.create_task(worker.run())

    async def check() -> bool:
        assert not task.done(), "the consumer stopped by itself"
        return condition()

    try:
        await eventually(check, timeout=timeout)
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout=10)


async def test_batches_hold_at_most_max_batch_size(queue: JobQueue) -> None:
    await queue.send_batch(Q, [OutgoingMessage(i) for i in range(25)])
    sizes: list[int] = []
    seen: list[int] = []

    async def handle(batch: MessageBatch) -> None:
        sizes.append(len(batch))
        seen.extend(m.body for m in batch.messages)

    await run_until(consumer(queue, handle, max_batch_size=10), lambda: len(seen) == 25)
    assert max(sizes) == 10
    assert sorted(seen) == list(range(25))
    assert await receive_all(queue) == []


async def test_batch_timeout_gathers_a_partial_batch(queue: JobQueue) -> None:
    await queue.send_batch(Q, [OutgoingMessage(i) for i in range(3)])
    sizes: list[int] = []

    async def handle(batch: MessageBatch) -> None:
        sizes.append(len(batch))

    worker = consumer(queue, handle, max_batch_size=10, max_batch_timeout=0.2)
    await run_until(worker, lambda: bool(sizes))
    assert sizes == [3]


async def test_empty_queue_never_calls_the_handler(queue: JobQueue) -> None:
    counting = CountingQueue(queue)
    calls: list[int] = []

    async def handle(batch: MessageBatch) -> None:
        calls.append(len(batch))

    await run_until(consumer(counting, handle), lambda: counting.receives >= 20)  # type: ignore[arg-type]
    assert calls == []


async def test_concurrency_runs_batches_side_by_side(queue: JobQueue) -> None:
    await queue.send_batch(Q, [OutgoingMessage(i) for i in range(3)])
    running, all_in = 0, asyncio.Event()

    async def handle(batch: MessageBatch) -> None:
        nonlocal running
        running += 1
        if running == 3:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), timeout=5)

    worker = consumer(queue, handle, max_batch_size=1, concurrency=3)
    await run_until(worker, lambda: worker.batches_handled == 3)
    assert await receive_all(queue) == []


# --- the consumer loop: resolution rules (Q5) ----------------------------------------


async def settle_one_batch(queue: JobQueue, handle: Any, **options: Any) -> dict[Any, int]:
    """Run one batch of the messages 'a' and 'b'; return body -> attempts of those retried."""
    await queue.send_batch(Q, [OutgoingMessage("a"), OutgoingMessage("b")])
    assert await consumer(queue, handle, **options).run_once() == 2
    back = await receive_all(queue)
    return {m.body: m.attempts for m in back}


def by_body(batch: MessageBatch) -> dict[Any, Any]:
    return {m.body: m for m in batch.messages}


async def test_q5_first_call_wins_ack_then_retry(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        for message in batch.messages:
            message.ack()
            message.retry()

    assert await settle_one_batch(queue, handle) == {}


async def test_q5_first_call_wins_retry_then_ack(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        for message in batch.messages:
            message.retry()
            message.ack()

    assert await settle_one_batch(queue, handle) == {"a": 2, "b": 2}


async def test_q5_explicit_retry_beats_later_ack_all(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        by_body(batch)["a"].retry()
        batch.ack_all()

    assert await settle_one_batch(queue, handle) == {"a": 2}


async def test_q5_explicit_ack_beats_later_retry_all(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        by_body(batch)["a"].ack()
        batch.retry_all()

    assert await settle_one_batch(queue, handle) == {"b": 2}


async def test_q5_ack_all_then_retry_stays_acked(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        batch.ack_all()
        by_body(batch)["a"].retry()

    assert await settle_one_batch(queue, handle) == {}


async def test_q5_returning_acks_unresolved_messages(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        by_body(batch)["a"].retry()

    assert await settle_one_batch(queue, handle) == {"a": 2}


async def test_q5_raising_retries_every_unresolved_message(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        raise RuntimeError("only one of them was bad")

    assert await settle_one_batch(queue, handle) == {"a": 2, "b": 2}


async def test_q5_raising_keeps_explicit_acks(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        by_body(batch)["a"].ack()
        raise RuntimeError("b failed")

    assert await settle_one_batch(queue, handle) == {"b": 2}


# --- retry delays (Q6), retries and the dead-letter queue ----------------------------


async def test_q6_default_retry_delay_is_backoff_from_attempts(
    queue: JobQueue, clock: ManualClock
) -> None:
    policy = RetryPolicy(backoff="exponential", base_delay=10, max_delay=25)

    async def handle(batch: MessageBatch) -> None:
        batch.retry_all()

    worker = consumer(queue, handle, retry_policy=policy)
    await queue.send(Q, "job")
    for expected_delay in (10, 20, 25):  # attempts 1, 2, 3; capped at 25
        assert await worker.run_once() == 1
        clock.advance(expected_delay - 1)
        assert await worker.run_once() == 0
        clock.advance(1.5)
    assert await worker.run_once() == 1


async def test_q6_explicit_delay_beats_the_default(queue: JobQueue, clock: ManualClock) -> None:
    async def handle(batch: MessageBatch) -> None:
        batch.retry_all(delay_seconds=100)

    worker = consumer(queue, handle, retry_policy=RetryPolicy(backoff="fixed", base_delay=5))
    await queue.send(Q, "job")
    await worker.run_once()
    clock.advance(6)
    assert await queue.receive(Q) == []
    clock.advance(95)
    assert len(await queue.receive(Q)) == 1


async def test_q6_zero_delay_forces_the_next_batch(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        by_body(batch)["a"].retry(delay_seconds=0)
        by_body(batch)["b"].retry()

    policy = RetryPolicy(backoff="fixed", base_delay=300)
    assert await settle_one_batch(queue, handle, retry_policy=policy) == {"a": 2}


async def test_retry_later_error_carries_its_delay(queue: JobQueue, clock: ManualClock) -> None:
    async def handle(batch: MessageBatch) -> None:
        raise RetryLater("model busy", delay_seconds=50)

    await queue.send(Q, "job")
    await consumer(queue, handle).run_once()
    clock.advance(49)
    assert await queue.receive(Q) == []
    clock.advance(2)
    assert len(await queue.receive(Q)) == 1


async def test_max_retries_plus_one_deliveries_then_dead_letter(queue: JobQueue) -> None:
    deliveries: list[int] = []

    async def handle(batch: MessageBatch) -> None:
        deliveries.extend(m.attempts for m in batch.messages)
        raise ValueError("always fails")

    worker = consumer(queue, handle, max_retries=3)
    await queue.send(Q, "poison")
    while await worker.run_once():
        pass
    assert deliveries == [1, 2, 3, 4]
    (dead,) = await queue.dead_list(Q)
    assert (dead.body, dead.attempts, dead.error_code) == ("poison", 4, "max_retries_exceeded")
    assert "ValueError: always fails" in dead.error_message
    assert await queue.dead_retry(Q) == 1
    assert await worker.run_once() == 1
    assert deliveries[-1] == 1


async def test_permanent_failure_goes_straight_to_dead_letter(queue: JobQueue) -> None:
    async def handle(batch: MessageBatch) -> None:
        raise PermanentFailure("prompt is empty", code="bad_prompt")

    await queue.send(Q, "job")
    await consumer(queue, handle).run_once()
    (dead,) = await queue.dead_list(Q)
    assert (dead.attempts, dead.error_code, dead.error_message) == (
        1,
        "bad_prompt",
        "prompt is empty",
    )


async def test_message_abandoned_too_often_is_dead_lettered_unseen(
    make_queue: MakeQueue,
) -> None:
    crashing, survivor = await make_queue(), await make_queue()
    await crashing.send(Q, "kills its worker")
    for _ in range(2):  # two consumers die holding it
        await eventually(lambda: crashing.receive(Q, visibility_timeout=0.2))
    seen: list[Any] = []

    async def handle(batch: MessageBatch) -> None:
        seen.extend(batch.messages)

    worker = consumer(survivor, handle, max_retries=1, visibility_timeout=0.2)

    async def probe() -> list[Any]:
        await worker.run_once()
        return await survivor.dead_list(Q)

    (dead,) = await eventually(probe)
    assert (dead.attempts, dead.error_code) == (3, "worker_lost")
    assert seen == []


# --- durability checks (R4) ------------------------------------------------------------


def test_aof_settings_that_lose_messages_are_named() -> None:
    from asciihub.queue.redis_durability import durability_problems

    assert durability_problems({"appendonly": "yes", "appendfsync": "everysec"}) == []
    assert durability_problems({"appendonly": "yes", "appendfsync": "always"}) == []
    assert "appendonly" in durability_problems({"appendonly": "no", "appendfsync": "everysec"})[0]
    assert "appendfsync" in durability_problems({"appendonly": "yes", "appendfsync": "no"})[0]


async def test_redis_without_aof_needs_accept_queue_loss(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    aof = client.config_get("appendonly").get("appendonly")
    client.close()
    if aof == "yes":
        queue = await open_job_queue(redis_url)
        await queue.close()
        return
    with pytest.raises(ConfigError, match="accept_queue_loss"):
        await open_job_queue(redis_url)
    queue = await open_job_queue(redis_url, accept_queue_loss=True)
    await queue.close()


@pytest.mark.parametrize("url", ["sqlite://", "memory://", "postgresql://x/y"])
async def test_factory_refuses_unknown_urls(url: str) -> None:
    with pytest.raises(ConfigError, match="queue_url"):
        await open_job_queue(url)


async def test_ping_answers(queue: JobQueue) -> None:
    await queue.ping()
