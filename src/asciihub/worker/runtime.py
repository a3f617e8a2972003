"""The worker runtime: one consumer per queue, the jobs sweeper, the analytics flusher.

Used by ``asciihub worker`` (its own process) and by ``asciihub serve`` on embedded
backends (in-process, see :func:`in_process`). :meth:`WorkerRuntime.stop` (SIGTERM)
stops receiving, lets running handlers finish within ``queue_shutdown_grace``
seconds, and releases what is left for redelivery. With ``exit_on_memory_error`` (the
worker command under ``worker_memory_limit_mb``) a job that runs out of memory ends
the process (see :mod:`asciihub.worker.memory`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager

from asciihub.bootstrap import Services
from asciihub.errors import AsciihubError, InvalidInput
from asciihub.queue import Consumer, ConsumerOptions, RetryPolicy, parse_queue_names
from asciihub.services.periodic import run_every
from asciihub.settings import Settings
from asciihub.worker.dispatch import JOB_QUEUES, QUEUE_KINDS, handler_for
from asciihub.worker.memory import end_process_on_memory_error

log = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = 3600.0


def consumer_options(
    settings: Settings, queue_name: str, concurrency: int | None
) -> ConsumerOptions:
    """Consumer options of one queue from Settings (job queues take one message a call)."""
    is_job = queue_name in JOB_QUEUES
    return ConsumerOptions(
        max_batch_size=1 if is_job else settings.queue_max_batch_size,
        max_batch_timeout=0 if is_job else settings.queue_max_batch_timeout,
        max_retries=settings.queue_max_retries,
        visibility_timeout=settings.queue_visibility_timeout,
        concurrency=concurrency or settings.queue_concurrency,
        shutdown_grace=settings.queue_shutdown_grace,
        poll_interval=settings.queue_poll_interval,
        retry_policy=RetryPolicy(
            backoff="fixed" if settings.queue_retry_backoff == "fixed" else "exponential",
            base_delay=settings.queue_retry_delay,
            max_delay=settings.queue_retry_max_delay,
        ),
    )


def pick_queues(settings: Settings, wanted: Sequence[str] | None) -> list[str]:
    """The queues to consume: ``wanted`` (checked) or ``queue_names``."""
    names = list(wanted) if wanted else parse_queue_names(settings.queue_names)
    unknown = sorted(set(names) - set(QUEUE_KINDS))
    if unknown:
        message = f"unknown queues: {', '.join(unknown)}; known: {', '.join(QUEUE_KINDS)}"
        raise InvalidInput(message, code="unknown_queue")
    return names


class WorkerRuntime:
    """Runs the consumers of ``queues`` on ``services`` until :meth:`stop`."""

    def __init__(
        self,
        services: Services,
        *,
        queues: Sequence[str] | None = None,
        concurrency: int | None = None,
        sweep: bool = True,
        flush_analytics: bool = True,
        exit_on_memory_error: bool = False,
    ) -> None:
        settings = services.settings
        self.services = services
        self.queues = pick_queues(settings, queues)
        self.consumers = []
        for name in self.queues:
            handler = handler_for(services, name)
            if exit_on_memory_error:
                handler = end_process_on_memory_error(handler, name)
            options = consumer_options(settings, name, concurrency)
            self.consumers.append(Consumer(services.background.queue, name, handler, options))
        self.sweep = sweep
        self.flush_analytics = flush_analytics
        self._stop = asyncio.Event()
        self.ready = asyncio.Event()

    def stop(self) -> None:
        """Stop receiving; running handlers get the grace period."""
        self._stop.set()
        for consumer in self.consumers:
            consumer.stop()

    async def run(self) -> None:
        """Consume until :meth:`stop`, then finish or release what is held."""
        runs = [asyncio.create_task(consumer.run()) for consumer in self.consumers]
        chores = [asyncio.create_task(self._flush_analytics())] if self.flush_analytics else []
        if self.sweep:
            chores.append(asyncio.create_task(self._sweep()))
        log.info("event=worker_start queues=%s", ",".join(self.queues))
        self.ready.set()
        try:
            await self._stop.wait()
        finally:
            for consumer in self.consumers:
                consumer.stop()
            await asyncio.gather(*runs, return_exceptions=True)
            for task in chores:
                task.cancel()
            await asyncio.gather(*chores, return_exceptions=True)
            if self.flush_analytics:
                await self._flush_once()
            log.info("event=worker_stop")

    async def _flush_once(self) -> None:
        try:
            await self.services.background.analytics.flush()
        except AsciihubError as exc:
            log.warning("event=analytics_flush_failed code=%s", exc.code)

    async def _flush_analytics(self) -> None:
        await run_every(
            self.services.settings.analytics_flush_seconds, self._stop, self._flush_once
        )

    async def sweep_once(self, *, housekeeping: bool = False) -> dict[str, int]:
        """One sweeper pass: dead letters, stuck jobs, and (hourly) retention."""
        background = self.services.background
        done = await background.jobs.sweep()
        if housekeeping:
            done["analytics_purged"] = await background.analytics.purge_expired()
            done["idempotency_purged"] = await background.idempotency.purge_expired()
        return done

    async def _sweep(self) -> None:
        last_housekeeping = 0.0

        async def chore() -> None:
            nonlocal last_housekeeping
            now = time.monotonic()
            housekeeping = now - last_housekeeping >= HOUSEKEEPING_EVERY
            try:
                await self.sweep_once(housekeeping=housekeeping)
                if housekeeping:
                    last_housekeeping = now
            except AsciihubError as exc:
                log.warning("event=jobs_sweep_failed code=%s", exc.code)
            except Exception:  # the worker loop's top: the sweeper must keep running
                log.exception("event=jobs_sweep_crashed")

        await run_every(self.services.settings.jobs_sweep_interval, self._stop, chore)


def in_process(
    *, queues: Sequence[str] | None = None, concurrency: int | None = None
) -> Callable[[Services], AbstractAsyncContextManager[None]]:
    """A lifespan hook running the consumers inside the API process (``asciihub serve``)."""

    @contextlib.asynccontextmanager
    async def running(services: Services) -> AsyncIterator[None]:
        # The API process flushes analytics itself (api/app.py), so the runtime does not.
        runtime = WorkerRuntime(
            services, queues=queues, concurrency=concurrency, flush_analytics=False
        )
        task = asyncio.create_task(runtime.run())
        await runtime.ready.wait()
        try:
            yield
        finally:
            runtime.stop()
            await task

    return running
