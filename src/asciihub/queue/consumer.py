"""The consumer loop: gather batches, run the handler, settle, heartbeat, stop gently.

A batch is handed over when ``max_batch_size`` messages are leased or
``max_batch_timeout`` seconds passed since its first message, whichever comes first;
an empty queue never calls the handler. ``concurrency`` batches run at once. While
messages are held their leases are renewed every ``visibility_timeout / 3``. On
:meth:`Consumer.stop` the loop stops receiving, lets running handlers finish within
``shutdown_grace`` seconds, then cancels them and releases what is left at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from asciihub.errors import AsciihubError, InvalidInput
from asciihub.queue.batch import BatchMessage, MessageBatch, Outcome, Retry, plan_settlement
from asciihub.queue.batch import Fail as _Fail
from asciihub.queue.errors import PermanentFailure, RetryLater
from asciihub.queue.limits import check_queue_name, check_visibility_timeout
from asciihub.queue.protocol import JobQueue, Message
from asciihub.queue.retry_policy import RetryPolicy

log = logging.getLogger(__name__)

Handler = Callable[[MessageBatch], Awaitable[None]]
"""``async def handle(batch)``: resolve messages, return (ack the rest) or raise."""

_MIN_POLL = 0.01


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        message = f"consumer option {name} is {value!r}; it must lie in {low}..{high}"
        raise InvalidInput(message, code="invalid_consumer_option")


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """Batching, retries, leases and shutdown of one consumer (Cloudflare's names)."""

    max_batch_size: int = 10
    max_batch_timeout: float = 5.0
    max_retries: int = 3
    visibility_timeout: float = 30.0
    concurrency: int = 1
    shutdown_grace: float = 30.0
    poll_interval: float = 0.5
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        _check_range("max_batch_size", self.max_batch_size, 1, 100)
        _check_range("max_batch_timeout", self.max_batch_timeout, 0, 60)
        _check_range("max_retries", self.max_retries, 0, 100)
        check_visibility_timeout(self.visibility_timeout)
        _check_range("concurrency", self.concurrency, 1, 250)
        _check_range("shutdown_grace", self.shutdown_grace, 0, 3600)
        _check_range("poll_interval", self.poll_interval, _MIN_POLL, 60)


def _outcome_of(exc: BaseException) -> Outcome:
    if isinstance(exc, PermanentFailure):
        return _Fail(exc.code, exc.message)
    if isinstance(exc, RetryLater):
        return Retry(exc.delay_seconds, exc.message)
    return Retry(None, f"{type(exc).__name__}: {exc}")


def per_message(handle_one: Callable[[BatchMessage], Awaitable[None]]) -> Handler:
    """A batch handler running ``handle_one`` on each message, each failing alone."""

    async def handle(batch: MessageBatch) -> None:
        for message in batch.messages:
            try:
                await handle_one(message)
            except MemoryError:
                raise  # the process's problem, not the message's: the worker decides
            except Exception as exc:  # the worker loop: one message's error stays its own
                if not isinstance(exc, AsciihubError):
                    log.exception(
                        "event=queue_message_failed queue=%s id=%s", batch.queue, message.id
                    )
                outcome = _outcome_of(exc)
                if isinstance(outcome, _Fail):
                    message.fail(outcome.code, outcome.message)
                elif isinstance(outcome, Retry):
                    message.retry(delay_seconds=outcome.delay_seconds, reason=outcome.reason)
            else:
                message.ack()

    return handle


class Consumer:
    """Runs ``handler`` on batches of ``queue_name`` until :meth:`stop`."""

    def __init__(
        self,
        queue: JobQueue,
        queue_name: str,
        handler: Handler,
        options: ConsumerOptions | None = None,
    ) -> None:
        self.queue = queue
        self.queue_name = check_queue_name(queue_name)
        self.handler = handler
        self.options = options or ConsumerOptions()
        self.batches_handled = 0
        self._held: set[str] = set()
        self._stop = asyncio.Event()
        self._running = False

    @property
    def is_stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the loop to stop: no new batches, running ones get the grace period."""
        self._stop.set()

    async def run(self) -> None:
        """Consume until :meth:`stop`, then finish or release everything held."""
        if self._running:
            message = f"consumer of {self.queue_name} is already running"
            raise RuntimeError(message)
        self._running = True
        log.info(
            "event=queue_consumer_start queue=%s concurrency=%d",
            self.queue_name,
            self.options.concurrency,
        )
        heartbeat = asyncio.create_task(self._heartbeat())
        workers = [asyncio.create_task(self._work()) for _ in range(self.options.concurrency)]
        try:
            await self._stop.wait()
            _, late = await asyncio.wait(workers, timeout=self.options.shutdown_grace)
            if late:
                log.warning(
                    "event=queue_grace_expired queue=%s batches=%d", self.queue_name, len(late)
                )
        finally:
            for task in (*workers, heartbeat):
                task.cancel()
            await asyncio.gather(*workers, heartbeat, return_exceptions=True)
            await self._release(list(self._held))
            self._running = False
            log.info("event=queue_consumer_stop queue=%s", self.queue_name)

    async def run_once(self) -> int:
        """Handle at most one batch, without heartbeats; return its size (0 if empty)."""
        messages = await self._gather(patient=False)
        if messages:
            await self._process(messages)
        return len(messages)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), max(seconds, 0))

    async def _release(self, ids: list[str]) -> None:
        if not ids:
            return
        try:
            await asyncio.shield(self.queue.release(ids))
        except AsciihubError as exc:
            log.warning(
                "event=queue_release_failed queue=%s count=%d error=%r",
                self.queue_name,
                len(ids),
                exc.message,
            )
        self._held.difference_update(ids)

    async def _work(self) -> None:
        while not self._stop.is_set():
            try:
                messages = await self._gather()
                if messages and self._stop.is_set():
                    await self._release([m.id for m in messages])
                elif messages:
                    await self._process(messages)
            except AsciihubError as exc:
                log.warning(
                    "event=queue_receive_failed queue=%s error=%r", self.queue_name, exc.message
                )
                await self._pause(self.options.poll_interval)
            except Exception:  # the worker loop's top: a bug must not stop the consumer
                log.exception("event=queue_loop_failed queue=%s", self.queue_name)
                await self._pause(self.options.poll_interval)

    async def _receive(self, wanted: int) -> list[Message]:
        options = self.options
        got = await self.queue.receive(
            self.queue_name, max_messages=wanted, visibility_timeout=options.visibility_timeout
        )
        self._held.update(m.id for m in got)
        lost = [m for m in got if m.attempts > options.max_retries + 1]
        if lost:
            text = f"its consumer stopped without settling it {options.max_retries + 1} times"
            await self.queue.dead_letter([m.id for m in lost], code="worker_lost", message=text)
            self._held.difference_update(m.id for m in lost)
            log.warning("event=queue_worker_lost queue=%s count=%d", self.queue_name, len(lost))
        return [m for m in got if m.attempts <= options.max_retries + 1]

    async def _gather(self, *, patient: bool = True) -> list[Message]:
        options, loop = self.options, asyncio.get_running_loop()
        messages: list[Message] = []
        deadline: float | None = None
        idle = _MIN_POLL
        while not self._stop.is_set():
            try:
                got = await self._receive(options.max_batch_size - len(messages))
            except AsciihubError:
                if not messages:
                    raise
                # Hand over what is gathered: dropped here, those messages would stay
                # held, their leases extended by the heartbeat, and never be handled.
                break
            messages += got
            if not messages and not patient:
                break
            if len(messages) >= options.max_batch_size:
                break
            if messages and deadline is None:
                deadline = loop.time() + options.max_batch_timeout
            if deadline is not None and loop.time() >= deadline:
                break
            if got:
                idle = _MIN_POLL
                continue
            wait = idle if deadline is None else min(idle, deadline - loop.time())
            await self._pause(wait)
            idle = min(idle * 2, options.poll_interval)
        return messages

    async def _process(self, messages: list[Message]) -> None:
        batch = MessageBatch(self.queue_name, messages)
        unresolved: Outcome | None
        try:
            await self.handler(batch)
        except asyncio.CancelledError:
            await self._settle(batch, None)
            raise
        except Exception as exc:  # the worker loop's top: log, then retry or dead-letter
            if not isinstance(exc, AsciihubError):
                log.exception(
                    "event=queue_handler_failed queue=%s size=%d", self.queue_name, len(batch)
                )
            unresolved = _outcome_of(exc)
        else:
            unresolved = None
            batch.ack_all()
        self.batches_handled += 1
        await self._settle(batch, unresolved)

    async def _settle(self, batch: MessageBatch, unresolved: Outcome | None) -> None:
        options = self.options
        plan = plan_settlement(
            batch, unresolved, policy=options.retry_policy, max_retries=options.max_retries
        )
        queue = self.queue
        try:
            if plan.ack:
                await queue.ack(plan.ack)
            for delay, ids in plan.retry.items():
                await queue.retry(ids, delay_seconds=delay)
            for (code, text), ids in plan.dead.items():
                await queue.dead_letter(ids, code=code, message=text)
                log.warning(
                    "event=queue_dead_letter queue=%s code=%s count=%d",
                    self.queue_name,
                    code,
                    len(ids),
                )
        except AsciihubError as exc:
            log.warning("event=queue_settle_failed queue=%s error=%r", self.queue_name, exc.message)
        finally:
            self._held.difference_update(m.id for m in batch.messages if m.id not in plan.release)
        await self._release(plan.release)

    async def _heartbeat(self) -> None:
        lease = self.options.visibility_timeout
        while True:
            await asyncio.sleep(lease / 3)
            ids = list(self._held)
            if not ids:
                continue
            try:
                kept = set(await self.queue.extend_lease(ids, visibility_timeout=lease))
            except AsciihubError as exc:
                log.warning(
                    "event=queue_heartbeat_failed queue=%s error=%r", self.queue_name, exc.message
                )
                continue
            lost = [i for i in ids if i not in kept and i in self._held]
            if lost:
                log.warning("event=queue_lease_lost queue=%s count=%d", self.queue_name, len(lost))
