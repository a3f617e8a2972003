"""View counting without a database write per view, and one view per viewer per window.

A view counts when a viewer (an account, else a client address) reads an artwork for
the first time in ``window`` seconds: one atomic KV ``incr`` on
``viewed:{artwork}:{viewer digest}`` decides, on every KV backend and across
processes, so re-reading (cached or not) does not add views. Counted views are added
up in memory and written in one batch every few seconds (and at shutdown); each
flush then refreshes the count in the flushed artworks' cached bodies (``on_written``),
so the ``views`` an artwork's answer shows is at most one flush interval behind.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence

from asciihub.errors import AsciihubError
from asciihub.storage.kv.keys import viewed_key
from asciihub.storage.kv.protocol import KVStore
from asciihub.storage.metadata.protocol import ArtworkRepository

log = logging.getLogger(__name__)

RECENT_MAX = 65536
"""Viewer checks remembered in process, so a viewer re-reading costs no KV write."""
RECENT_UNSURE_SECONDS = 60.0
"""How long to remember a check another process made first (its TTL is unknown)."""


def viewer_digest(viewer: str) -> str:
    """A short digest of a viewer id, so no address is stored in clear."""
    return hashlib.sha256(viewer.encode()).hexdigest()[:24]


class ViewCounter:
    """Counts views per artwork and flushes them to the repository in batches."""

    def __init__(
        self, artworks: ArtworkRepository, *, kv: KVStore | None = None, window: int = 1800
    ) -> None:
        self._artworks = artworks
        self._kv = kv
        self.window = window
        self._pending: Counter[str] = Counter()
        self._recent: OrderedDict[str, float] = OrderedDict()
        self.on_flush: Callable[[Mapping[str, int]], None] | None = None
        self.on_written: Callable[[Sequence[str]], Awaitable[None]] | None = None

    async def view(self, artwork_id: str, viewer: str) -> bool:
        """Count ``viewer``'s view of ``artwork_id`` unless it was counted in the window.

        True when it counted. A KV failure skips the count (a read never fails for it).
        """
        if self._kv is not None:
            memo = f"{artwork_id}\0{viewer}"
            now = time.monotonic()
            remembered = self._recent.get(memo)
            if remembered is not None and remembered > now:
                return False
            key = viewed_key(artwork_id, viewer_digest(viewer))
            try:
                seen = await self._kv.incr(key, ttl=self.window)
            except AsciihubError as exc:
                log.warning("event=view_check_failed artwork=%s code=%s", artwork_id, exc.code)
                return False
            unsure = min(self.window, RECENT_UNSURE_SECONDS)
            self._remember(memo, now + (self.window if seen == 1 else unsure))
            if seen > 1:
                return False
        self.count(artwork_id)
        return True

    def _remember(self, key: str, until: float) -> None:
        self._recent[key] = until
        self._recent.move_to_end(key)
        while len(self._recent) > RECENT_MAX:
            self._recent.popitem(last=False)

    def count(self, artwork_id: str) -> None:
        """Record one view (no I/O, no viewer check)."""
        self._pending[artwork_id] += 1

    @property
    def pending(self) -> int:
        """Views counted but not yet written."""
        return sum(self._pending.values())

    async def flush(self) -> int:
        """Write the counted views; on failure they are kept for the next flush."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, Counter()
        try:
            await self._artworks.add_views(batch)
        except Exception:
            self._pending.update(batch)
            raise
        log.debug("event=views_flushed artworks=%d views=%d", len(batch), sum(batch.values()))
        if self.on_written is not None:
            try:
                await self.on_written(list(batch))
            except AsciihubError as exc:  # the counts are written; only the display lags
                log.warning("event=views_refresh_failed code=%s", exc.code)
        if self.on_flush is not None:
            self.on_flush(batch)
        return sum(batch.values())
