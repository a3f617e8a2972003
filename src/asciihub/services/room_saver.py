"""Writing a room's document back to the artwork, and noticing outside replacements.

A save writes a new version through :class:`ArtworkService` (the same object key, the
same etag rules as ``PATCH``), debounced while people edit and at once when the last
editor leaves. One process saves at a time (a short lock in KV); it then appends a
``saved`` entry to the control log and snapshots (compacts) the edit log. The control
log is compacted by the live rooms every ``room_snapshot_every`` entries. When the
stored document is one this epoch did not write (a ``PATCH``, a restore), a new epoch
starts from it and every client reloads.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import TYPE_CHECKING, Any

from asciihub.errors import AsciihubError, Conflict, PreconditionFailed
from asciihub.realtime.protocol import LogCompacted, Snapshot
from asciihub.services.collab import EditState
from asciihub.services.room_control import ControlState, control_room, edit_room
from asciihub.services.serialize import artwork_etag
from asciihub.storage.metadata.protocol import ArtworkRow

if TYPE_CHECKING:
    from asciihub.services.rooms import LiveRoom

log = logging.getLogger(__name__)
LOCK_TTL = 30


class RoomSaver:
    """Saves, snapshots and epochs of one live room."""

    def __init__(self, room: LiveRoom) -> None:
        self.room = room
        self._timer: asyncio.TimerHandle | None = None

    def soon(self, delay: float | None = None) -> None:
        """Save after ``delay`` seconds (default: the debounce), restarting the timer."""
        if self._timer is not None:
            self._timer.cancel()
        wait = self.room.service.limits.save_debounce if delay is None else delay
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(wait, lambda: self.room.service.spawn(self.save()))

    async def flush(self) -> None:
        """Save now if there is anything unsaved (closing the room)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            await self.save()
        except AsciihubError as exc:
            log.warning("event=room_save_failed room=%s code=%s", self.room.artwork_id, exc.code)

    # --- the lock -----------------------------------------------------------------
    def _lock_key(self) -> str:
        return f"room-save:{self.room.artwork_id}"

    async def _lock(self) -> bool:
        kv = self.room.service.kv
        return await kv.incr(self._lock_key(), 1, ttl=LOCK_TTL) == 1

    async def _unlock(self) -> None:
        await self.room.service.kv.delete(self._lock_key())

    async def _fresh_control(self) -> ControlState:
        from asciihub.services.rooms import _read_all

        room = self.room
        name = control_room(room.artwork_id)
        control = copy.deepcopy(room.control)
        try:
            events = await _read_all(room.hub, name, control.seq)
        except LogCompacted:  # the control log was compacted past this copy
            snap = await room.hub.load_snapshot(name)
            control = ControlState.from_json(snap.data) if snap else ControlState()
            events = await _read_all(room.hub, name, control.seq)
        for event in events:
            control.apply(event.seq or 0, event.data)
        return control

    # --- saving -------------------------------------------------------------------
    async def save(self) -> None:
        """Write the room's document as a new version of the artwork (one process)."""
        room = self.room
        state = room.state
        if state is None or state.seq <= room.control.saved_seq:
            return
        if not await self._lock():
            self.soon(0.5)
            return
        try:
            await self._save_locked(state)
        finally:
            await self._unlock()

    async def _save_locked(self, state: EditState) -> None:
        room, service = self.room, self.room.service
        control = await self._fresh_control()
        if control.epoch != room.epoch or state.seq <= control.saved_seq:
            return
        row = await service.row(room.artwork_id)
        if not control.knows(row.sha256):
            await self.new_epoch(row)
            return
        seq = state.seq
        document = state.to_document(fps=row.fps, limits=service.edit_limits.document_limits())
        body: dict[str, Any] = document.to_json()
        payload = {name: body[name] for name in ("frames", "width", "height", "fps")}
        service.saving.add(room.artwork_id)
        try:
            await service.artworks.update(
                service.principal_for_save(row),
                room.artwork_id,
                payload,
                if_match=artwork_etag(row),
            )
        except (PreconditionFailed, Conflict):
            self.soon()  # written meanwhile; the next round decides (save or new epoch)
            return
        finally:
            service.saving.discard(room.artwork_id)
        after = await service.row(room.artwork_id)
        entry = {"t": "saved", "epoch": room.epoch, "seq": seq, "sha256": after.sha256}
        await room.hub.append(control_room(room.artwork_id), entry)
        log.info("event=room_saved room=%s seq=%s", room.artwork_id, seq)
        await self.snapshot()

    async def snapshot(self) -> None:
        """Snapshot the edit state (dropping the log entries it covers)."""
        room = self.room
        state = room.state
        if state is None:
            return
        seq = state.seq
        await room.hub.save_snapshot(
            edit_room(room.artwork_id, room.epoch), Snapshot(seq, state.snapshot())
        )
        # What the log no longer holds is not replayed either: a resume from before
        # the snapshot gets the snapshot.
        while room.recent and room.recent[0][0] <= seq:
            room.recent.popleft()

    # --- epochs -------------------------------------------------------------------
    async def new_epoch(self, row: ArtworkRow) -> None:
        """Start a new edit log from the stored document; every copy reloads."""
        from asciihub.services.rooms import new_epoch

        room, service = self.room, self.room.service
        document = await service.artworks.document_for(row)
        state = EditState.from_document(document, limits=service.edit_limits)
        epoch = new_epoch()
        await room.hub.save_snapshot(
            edit_room(room.artwork_id, epoch), Snapshot(state.seq, state.snapshot())
        )
        entry = {"t": "epoch", "epoch": epoch, "sha256": row.sha256}
        await room.hub.append(control_room(room.artwork_id), entry)
        log.info("event=room_epoch room=%s epoch=%s", room.artwork_id, epoch)

    async def check_replaced(self) -> None:
        """After an outside change: a new epoch when the stored document is not ours."""
        for _ in range(50):
            if await self._lock():
                break
            await asyncio.sleep(0.1)  # another process saves; its entry tells us more
        else:
            return
        try:
            control = await self._fresh_control()
            row = await self.room.service.row(self.room.artwork_id)
            if control.epoch is not None and not control.knows(row.sha256):
                await self.new_epoch(row)
        finally:
            await self._unlock()
