"""Rate limits: sliding-window counters in KV, so every process shares them.

Each (class, subject) pair counts hits in fixed windows ``rl:{class}:{subject}:{n}``
(``n`` = now // window) with ``KVStore.incr``. The estimate is the sliding-window
approximation: the current window's count plus the previous window's count weighted
by how much of it still overlaps the last ``window`` seconds. This smooths the
double burst a plain fixed window allows at its edges, for one extra KV read.

A hit is counted first (one atomic ``incr``) and judged after, so concurrent requests
cannot all pass one check before any of them is counted. A refused hit is taken back
at once: only accepted requests spend the budget, so a client that waits the
``Retry-After`` it was given gets through.

The clock is injected, so tests move time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from asciihub.errors import RateLimited
from asciihub.storage.kv.protocol import KVStore


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` hits per ``window`` seconds in class ``name``."""

    name: str
    limit: int
    window: int


def wait_seconds(limit: Limit, current: int, previous: int, elapsed: float) -> float:
    """Seconds until one more hit fits, given the accepted counts of both windows.

    ``current`` hits so far in this window (``elapsed`` of it gone, 0..1) and
    ``previous`` in the one before. The estimate only falls as time passes, so a
    client that waits this long (rounded up) is accepted unless others spent the room.
    """
    room = limit.limit - 1 - current
    if room >= 0:
        if previous == 0:
            return 0.0
        return max(0.0, (1 - elapsed) - room / previous) * limit.window
    # This window is full: wait for it to end and for enough of it to slide out.
    return ((1 - elapsed) + (1 - (limit.limit - 1) / current)) * limit.window


class RateLimiter:
    """Counts hits per (limit, subject) in KV and refuses the ones over the limit."""

    def __init__(
        self, kv: KVStore, *, enabled: bool = True, clock: Callable[[], float] = time.time
    ) -> None:
        self.kv = kv
        self.enabled = enabled
        self.clock = clock

    def _keys(self, limit: Limit, subject: str, now: float) -> tuple[str, str, float]:
        index = int(now // limit.window)
        base = f"rl:{limit.name}:{subject}:"
        elapsed = (now - index * limit.window) / limit.window
        return f"{base}{index}", f"{base}{index - 1}", elapsed

    async def _previous(self, key: str) -> int:
        raw = await self.kv.get(key)
        return int(raw) if raw else 0

    def _refuse(self, limit: Limit, current: int, previous: int, elapsed: float) -> RateLimited:
        retry_after = max(1, math.ceil(wait_seconds(limit, current, previous, elapsed)))
        message = (
            f"too many requests of class {limit.name!r}: the limit is {limit.limit} per "
            f"{limit.window} seconds; retry in {retry_after} seconds"
        )
        return RateLimited(message, retry_after=retry_after)

    async def hit(self, limit: Limit, subject: str) -> None:
        """Count one hit; RateLimited (with Retry-After) when it is over the limit.

        The hit is counted before it is judged (atomic under concurrency) and taken
        back when refused, so refused requests never lengthen the wait.
        """
        if not self.enabled:
            return
        now = self.clock()
        current_key, previous_key, elapsed = self._keys(limit, subject, now)
        ttl = 2 * limit.window + 1
        current = await self.kv.incr(current_key, ttl=ttl)
        previous = await self._previous(previous_key)
        if previous * (1 - elapsed) + current > limit.limit:
            await self.kv.incr(current_key, -1, ttl=ttl)
            raise self._refuse(limit, current - 1, previous, elapsed)

    async def undo(self, limit: Limit, subject: str) -> None:
        """Take back one accepted hit (a login that turned out to succeed)."""
        if not self.enabled:
            return
        current_key, _, _ = self._keys(limit, subject, self.clock())
        await self.kv.incr(current_key, -1, ttl=2 * limit.window + 1)
