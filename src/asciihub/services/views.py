"""View counting without a database write per view.

Views are added up in memory and written in one batch every few seconds (and at
shutdown), so the hot read path only touches a dict.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping

from asciihub.storage.metadata.protocol import ArtworkRepository

log = logging.getLogger(__name__)


class ViewCounter:
    """Counts views per artwork and flushes them to the repository in batches."""

    def __init__(self, artworks: ArtworkRepository) -> None:
        self._artworks = artworks
        self._pending: Counter[str] = Counter()
        self.on_flush: Callable[[Mapping[str, int]], None] | None = None

    def count(self, artwork_id: str) -> None:
        """Record one view (no I/O)."""
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
        if self.on_flush is not None:
            self.on_flush(batch)
        return sum(batch.values())
