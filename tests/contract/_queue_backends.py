"""Helpers of the queue contract suite: a clock tests can move and polling with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asciihub.queue import JobQueue, Message

T = TypeVar("T")


class ManualClock:
    """Wall-clock time plus an offset the test advances (drives delays on both backends)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool] = bool,
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
) -> T:
    """Call ``probe`` until ``done(result)``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result {result!r}")
        await asyncio.sleep(interval)


async def receive_all(queue: JobQueue, name: str = "jobs", **options: Any) -> list[Message]:
    """Every message due now (repeated receives until one comes back empty)."""
    options.setdefault("visibility_timeout", 30.0)
    got: list[Message] = []
    while batch := await queue.receive(name, max_messages=100, **options):
        got += batch
    return got


class CountingQueue:
    """Wraps a JobQueue and counts ``receive`` calls."""

    def __init__(self, inner: JobQueue) -> None:
        self.inner = inner
        self.receives = 0

    async def receive(self, queue: str, **options: Any) -> list[Message]:
        self.receives += 1
        return await self.inner.receive(queue, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
