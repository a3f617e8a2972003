"""Rate limits: sliding-window counters in KV, so every process shares them.

Each (class, subject) pair counts hits in fixed windows ``rl:{class}:{subject}:{n}``
(``n`` = now // window) with ``KVStore.incr``. The estimate is the sliding-window
approximation: the current window's count plus the previous window's count weighted
by how much of it still overlaps the last ``window`` seconds. This smooths the
double burst a plain fixed window allows at its edges, for one extra KV read.

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
        # Seconds until previous * (1 - elapsed') + current drops to the limit.
        if current >= limit.limit or previous == 0:
            wait = (1 - elapsed) * limit.window
        else:
            needed = 1 - (limit.limit - current) / previous
            wait = max(needed - elapsed, 0) * limit.window
        retry_after = max(1, math.ceil(wait))
        message = (
            f"too many requests of class {limit.name!r}: the limit is {limit.limit} per "
            f"{limit.window} seconds; retry in {retry_after} seconds"
        )
        return RateLimited(message, retry_after=retry_after)

    async def hit(self, limit: Limit, subject: str) -> None:
        """Count one hit; RateLimited (with Retry-After) when it is over the limit."""
        if not self.enabled:
            return
        now = self.clock()
        current_key, previous_key, elapsed = self._keys(limit, subject, now)
        current = await self.kv.incr(current_key, ttl=2 * limit.window + 1)
        previous = await self._previous(previous_key)
        if previous * (1 - elapsed) + current > limit.limit:
            raise self._refuse(limit, current, previous, elapsed)

    async def check(self, limit: Limit, subject: str) -> None:
        """Refuse when the budget is already spent, without counting (failed logins)."""
        if not self.enabled:
            return
        now = self.clock()
        current_key, previous_key, elapsed = self._keys(limit, subject, now)
        current = await self._previous(current_key)
        previous = await self._previous(previous_key)
        if previous * (1 - elapsed) + current >= limit.limit:
            raise self._refuse(limit, current, previous, elapsed)

    async def add(self, limit: Limit, subject: str) -> None:
        """Count one hit without judging it (a failed login after the check)."""
        if not self.enabled:
            return
        current_key, _, _ = self._keys(limit, subject, self.clock())
        await self.kv.incr(current_key, ttl=2 * limit.window + 1)
