"""Following a room's log in seq order: live delivery with gaps filled from the log.

The binding delivers entries at least once and, across processes, may skip ahead (a
reader that lagged, a reconnect to Redis). A :class:`RoomFeed` subscribes first, then
reads what it missed, and hands every entry after ``after`` to ``on_entry`` exactly
once, in seq order; a gap is read back from the log. Ephemeral messages go to
``on_ephemeral`` at once. When the entries it needs were compacted it calls
``on_compacted`` (the owner reloads from the snapshot and calls :meth:`reset`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from asciihub.errors import AsciihubError
from asciihub.realtime.protocol import LogCompacted, RoomEvent, RoomHub, Subscription

log = logging.getLogger(__name__)

EntryHandler = Callable[[RoomEvent], Awaitable[None]]
_MAX_PENDING = 10_000


class RoomFeed:
    """Every entry of one room after ``after``, once and in order, to ``on_entry``."""

    def __init__(
        self,
        hub: RoomHub,
        room: str,
        *,
        after: int,
        on_entry: EntryHandler,
        on_ephemeral: Callable[[RoomEvent], None] | None = None,
        on_compacted: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.hub = hub
        self.room = room
        self.last = after
        self.on_entry = on_entry
        self.on_ephemeral = on_ephemeral
        self.on_compacted = on_compacted
        self._pending: list[RoomEvent] = []
        self._gap = True  # read the log once after subscribing
        self._wake = asyncio.Event()
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe, then start delivering (what was missed first)."""
        self._subscription = await self.hub.subscribe(self.room, self._listen)
        self._wake.set()
        self._task = asyncio.create_task(self._run(), name=f"room-feed:{self.room}")

    def reset(self, after: int) -> None:
        """Continue from ``after`` (after the owner loaded a snapshot at that seq)."""
        self.last = after
        self._pending.clear()
        self._gap = True
        self._wake.set()

    def _listen(self, event: RoomEvent) -> None:
        if event.seq is None:
            if self.on_ephemeral is not None:
                self.on_ephemeral(event)
            return
        if len(self._pending) >= _MAX_PENDING:
            self._pending.clear()
            self._gap = True  # too far behind: read from the log instead
        else:
            self._pending.append(event)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._drain()
            except asyncio.CancelledError:
                raise
            except LogCompacted:
                if self.on_compacted is not None:
                    await self.on_compacted()
            except AsciihubError as exc:
                log.warning("event=room_feed_failed room=%s code=%s", self.room, exc.code)
                await asyncio.sleep(0.2)
                self._gap = True
                self._wake.set()

    async def _drain(self) -> None:
        if self._gap:
            self._gap = False
            await self._read_from_log()
        while self._pending:
            batch, self._pending = self._pending, []
            for event in sorted(batch, key=lambda e: e.seq or 0):
                seq = event.seq or 0
                if seq <= self.last:
                    continue
                if seq > self.last + 1:
                    await self._read_from_log()
                    if seq <= self.last:
                        continue
                await self._deliver(event)

    async def _read_from_log(self) -> None:
        while True:
            events = await self.hub.read(self.room, self.last, limit=500)
            for event in events:
                if (event.seq or 0) == self.last + 1:
                    await self._deliver(event)
            if len(events) < 500:
                return

    async def _deliver(self, event: RoomEvent) -> None:
        self.last = event.seq or self.last
        try:
            await self.on_entry(event)
        except (asyncio.CancelledError, AsciihubError, LogCompacted):
            raise
        except Exception:  # one bad entry must not stop the room; it is logged
            log.exception("event=room_entry_failed room=%s seq=%s", self.room, event.seq)

    async def close(self) -> None:
        """Unsubscribe and stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._subscription is not None:
            await self._subscription.close()
