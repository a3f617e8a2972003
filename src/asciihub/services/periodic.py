"""Running a chore every few seconds until asked to stop (view, analytics flushes, sweeps)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from asciihub.errors import AsciihubError

log = logging.getLogger(__name__)


async def run_every(
    seconds: float,
    stop: asyncio.Event,
    work: Callable[[], Awaitable[object]],
    *,
    final: bool = False,
) -> None:
    """Await ``work()`` every ``seconds`` until ``stop`` is set; with ``final`` once more then.

    An asciihub error (a dependency down) is logged and the next round tries again.
    """
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        if stop.is_set() and not final:
            return
        try:
            await work()
        except AsciihubError as exc:
            name = getattr(work, "__name__", "chore")
            log.warning("event=periodic_task_failed task=%s code=%s", name, exc.code)
