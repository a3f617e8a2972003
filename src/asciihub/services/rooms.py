"""Artwork rooms: one live copy per process, fed by the room logs of the binding.

A :class:`LiveRoom` holds the server-authoritative :class:`EditState` of one artwork on
this process and the sockets (:class:`RoomPeer`) connected to it here. Ops are
validated, appended raw to the edit log (persisted before anyone sees them) and
applied by *every* process in seq order from its feed; the resulting effect is what
sockets get, so every copy agrees. See :mod:`asciihub.services.room_control` for the
two logs, docs/realtime.md for the messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from asciihub.errors import AsciihubError, Forbidden, InvalidInput, NotFound, Unavailable
from asciihub.realtime.protocol import RoomEvent, RoomHub, Snapshot
from asciihub.services.artworks import ArtworkService
from asciihub.services.collab import EditLimits, EditState, LogEntry, validate_op
from asciihub.services.principals import Principal
from asciihub.services.room_chat import PAGE as CHAT_PAGE
from asciihub.services.room_chat import chat_json, chat_page, chat_room, parse_chat
from asciihub.services.room_chat_images import ChatImageLimits, ChatImageService
from asciihub.services.room_control import (
    ControlState,
    control_room,
    edit_room,
    parse_playback,
)
from asciihub.services.room_feed import RoomFeed
from asciihub.services.room_saver import RoomSaver
from asciihub.settings import Settings
from asciihub.storage.kv.protocol import KVStore
from asciihub.storage.metadata.protocol import ArtworkRow

log = logging.getLogger(__name__)

CLOSE_EPOCH = 4409
REPLAY_KEEP = 2000


def encode(message: dict[str, Any]) -> str:
    """A message as JSON text."""
    return orjson.dumps(message).decode()


class RoomPeer(Protocol):
    """A socket in a room, as the room sees it."""

    member_id: str
    user_id: str
    presence_key: str
    role: str
    client_id: str

    def send_text(self, text: str) -> bool:
        """Queue a message that must arrive (a full queue closes the socket)."""
        ...

    def send_volatile(self, text: str) -> None:
        """Queue a message that may be dropped when the reader lags."""
        ...

    def close(self, code: int, reason: str = "") -> None:
        """Close the socket soon."""
        ...


@dataclass(frozen=True)
class RoomLimits:
    """The room settings the service needs."""

    max_connections: int = 5000
    presence_ttl: float = 30.0
    presence_debounce: float = 0.25
    cursor_interval: float = 0.033
    save_debounce: float = 2.0
    snapshot_every: int = 500
    chat_max_chars: int = 2000


def _now_ms() -> int:
    return int(time.time() * 1000)


class LiveRoom:
    """One artwork's room on this process."""

    def __init__(self, service: RoomService, artwork_id: str) -> None:
        self.service = service
        self.hub = service.hub
        self.artwork_id = artwork_id
        self.control = ControlState()
        self.state: EditState | None = None
        self.epoch = ""
        self.fps = 10.0
        self.peers: dict[str, RoomPeer] = {}
        self.recent: deque[tuple[int, str]] = deque(maxlen=REPLAY_KEEP)
        self.refs = 0
        self.viewers = {"count": 0, "editors": 0}
        self._control_feed: RoomFeed | None = None
        self._edit_feed: RoomFeed | None = None
        self._chat_feed: RoomFeed | None = None
        self.chat_recent: deque[dict[str, Any]] = deque(maxlen=CHAT_PAGE)
        self._recount: asyncio.TimerHandle | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self.saver = RoomSaver(self)

    # --- opening --------------------------------------------------------------------
    async def open(self) -> None:
        """Fold the control log, adopt (or start) an epoch, load its edit state."""
        room = control_room(self.artwork_id)
        snap = await self.hub.load_snapshot(room)
        if snap is not None:
            self.control = ControlState.from_json(snap.data)
        for event in await _read_all(self.hub, room, self.control.seq):
            self.control.apply(event.seq or 0, event.data)
        row = await self.service.row(self.artwork_id)
        self.fps = row.fps
        if self.control.epoch is None or not self.control.knows(row.sha256):
            await self.saver.new_epoch(row)
            for event in await _read_all(self.hub, room, self.control.seq):
                self.control.apply(event.seq or 0, event.data)
        await self._load_epoch()
        self._control_feed = RoomFeed(
            self.hub,
            room,
            after=self.control.seq,
            on_entry=self._on_control,
            on_ephemeral=self._on_ephemeral,
            on_compacted=self._reload_control,
        )
        await self._control_feed.start()
        recent = await chat_page(self.hub, self.artwork_id, None)
        self.chat_recent.extend(recent)
        self._chat_feed = RoomFeed(
            self.hub,
            chat_room(self.artwork_id),
            after=int(recent[-1]["seq"]) if recent else 0,
            on_entry=self._on_chat,
        )
        await self._chat_feed.start()
        self._heartbeat = asyncio.create_task(self._beat())
        if self.state is not None and self.state.seq > self.control.saved_seq:
            self.saver.soon(0.0)  # edits acknowledged before a restart: write them now

    async def _load_epoch(self) -> None:
        epoch = self.control.epoch or ""
        if self._edit_feed is not None:
            await self._edit_feed.close()
        snap = await self.hub.load_snapshot(edit_room(self.artwork_id, epoch))
        if snap is None:
            message = f"room {self.artwork_id}: epoch {epoch} has no base snapshot"
            raise NotFound(message, code="room_epoch_missing")
        self.state = EditState.from_snapshot(snap.data)
        self.epoch = epoch
        self.recent.clear()
        # Catch up before anyone is welcomed, so a welcome shows every acknowledged edit.
        for event in await _read_all(self.hub, edit_room(self.artwork_id, epoch), snap.seq):
            await self._on_edit(event)
        self._edit_feed = RoomFeed(
            self.hub,
            edit_room(self.artwork_id, epoch),
            after=self.state.seq,
            on_entry=self._on_edit,
            on_compacted=self._reload,
        )
        await self._edit_feed.start()

    async def _reload(self) -> None:
        """The feed fell behind a compaction: start again from the snapshot."""
        snap = await self.hub.load_snapshot(edit_room(self.artwork_id, self.epoch))
        if snap is None or self._edit_feed is None:
            return
        for peer in list(self.peers.values()):
            peer.close(CLOSE_EPOCH, "resync")
        self.peers.clear()
        self.state = EditState.from_snapshot(snap.data)
        self.recent.clear()
        self._edit_feed.reset(self.state.seq)

    # --- feeds ------------------------------------------------------------------------
    async def _on_edit(self, event: RoomEvent) -> None:
        state = self.state
        if state is None or event.seq is None:
            return
        data = event.data
        entry = LogEntry(
            seq=event.seq,
            user_id=str(data.get("u", "")),
            client_id=str(data.get("c", "")),
            op_id=int(data.get("i", 0)),
            op=dict(data.get("op") or {}),
        )
        try:
            effect = state.apply(entry)
        except ValueError:
            log.warning("event=room_out_of_step room=%s seq=%s", self.artwork_id, event.seq)
            await self._reload()
            return
        text = encode({"type": "effect", **effect.to_json()})
        self.recent.append((event.seq, text))
        for peer in list(self.peers.values()):
            peer.send_text(text)
        self.saver.soon()
        if event.seq % self.service.limits.snapshot_every == 0:
            await self.saver.snapshot()

    async def _on_control(self, event: RoomEvent) -> None:
        seq = event.seq or 0
        kind = self.control.apply(seq, event.data)
        if kind == "epoch" and self.control.epoch != self.epoch:
            await self._epoch_replaced()
        elif kind == "play":
            self._send_playback()
        if seq % self.service.limits.snapshot_every == 0:
            # Compact the control log like the edit log: every process folds the same
            # entries to the same state, so whichever writes the snapshot writes this one.
            await self.hub.save_snapshot(
                control_room(self.artwork_id), Snapshot(seq, self.control.to_json())
            )

    async def _epoch_replaced(self) -> None:
        text = encode({"type": "reset", "epoch": self.control.epoch})
        for peer in list(self.peers.values()):
            peer.send_text(text)
            peer.close(CLOSE_EPOCH, "document_replaced")
        self.peers.clear()  # stale clients reload; none may see the new epoch's edits
        await self._load_epoch()

    def _send_playback(self) -> None:
        text = encode({"type": "playback", **self.control.playback, "server_time": _now_ms()})
        for peer in list(self.peers.values()):
            peer.send_text(text)

    async def _reload_control(self) -> None:
        """The control feed fell behind a compaction: fold on from the snapshot."""
        snap = await self.hub.load_snapshot(control_room(self.artwork_id))
        if snap is None or self._control_feed is None:
            return
        playback = self.control.playback
        self.control = ControlState.from_json(snap.data)
        self._control_feed.reset(self.control.seq)
        if self.control.epoch != self.epoch:
            await self._epoch_replaced()
        elif self.control.playback != playback:
            self._send_playback()

    def _on_ephemeral(self, event: RoomEvent) -> None:
        data = event.data
        if data.get("k") == "presence":
            self._schedule_recount()
        elif data.get("k") == "cursor":
            sender = data.get("member_id")
            text = encode({"type": "cursor", **{k: v for k, v in data.items() if k != "k"}})
            for member_id, peer in list(self.peers.items()):
                if member_id != sender:
                    peer.send_volatile(text)

    # --- presence ---------------------------------------------------------------------
    def _schedule_recount(self) -> None:
        if self._recount is not None:
            return
        loop = asyncio.get_running_loop()
        self._recount = loop.call_later(
            self.service.limits.presence_debounce,
            lambda: self.service.spawn(self._count()),
        )

    async def _count(self) -> None:
        self._recount = None
        members = await self.hub.members(control_room(self.artwork_id))
        people = {m.user_id for m in members}
        editors = {m.user_id for m in members if m.data.get("role") == "editor"}
        viewers = {"count": len(people), "editors": len(editors)}
        if viewers == self.viewers:
            return
        self.viewers = viewers
        text = encode({"type": "viewers", **viewers})
        for peer in list(self.peers.values()):
            peer.send_text(text)

    async def _beat(self) -> None:
        ttl = self.service.limits.presence_ttl
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                for peer in list(self.peers.values()):
                    await self._present(peer)
                await self._count()
            except AsciihubError as exc:
                log.warning(
                    "event=room_heartbeat_failed room=%s code=%s", self.artwork_id, exc.code
                )

    async def _present(self, peer: RoomPeer) -> None:
        await self.hub.join(
            control_room(self.artwork_id),
            peer.member_id,
            peer.presence_key,
            ttl=self.service.limits.presence_ttl,
            data={"role": peer.role},
        )

    # --- sockets ----------------------------------------------------------------------
    async def join(self, peer: RoomPeer, epoch: Any, last_seq: Any) -> None:
        """Welcome a socket: missed effects when it can resume, else the snapshot."""
        if len(self.peers) >= self.service.limits.max_connections:
            message = "this room is full (room_max_connections); try again later"
            raise Unavailable(message, code="room_full")
        await self._present(peer)
        state = self.state
        assert state is not None
        welcome: dict[str, Any] = {
            "type": "welcome",
            "v": 1,
            "artwork_id": self.artwork_id,
            "epoch": self.epoch,
            "seq": state.seq,
            "role": peer.role,
            "member_id": peer.member_id,
            "user_id": peer.user_id,
            "client_id": peer.client_id,
            "playback": self.control.playback,
            "server_time": _now_ms(),
        }
        replay = self._replay(epoch, last_seq, state.seq)
        if replay is None:
            welcome["resync"] = "snapshot"
            welcome["snapshot"] = state.snapshot()
        else:
            welcome["resync"] = "replay"
            welcome["replay_from"] = last_seq
        welcome["chat"] = list(self.chat_recent)
        peer.send_text(encode(welcome))
        for text in replay or ():
            peer.send_text(text)
        self.peers[peer.member_id] = peer
        await self.hub.publish(control_room(self.artwork_id), {"k": "presence"})
        self._schedule_recount()

    def _replay(self, epoch: Any, last_seq: Any, current: int) -> list[str] | None:
        if epoch != self.epoch or isinstance(last_seq, bool) or not isinstance(last_seq, int):
            return None
        if last_seq == current:
            return []
        if last_seq > current or not self.recent or self.recent[0][0] > last_seq + 1:
            return None
        return [text for seq, text in self.recent if seq > last_seq]

    async def leave(self, peer: RoomPeer) -> None:
        """A socket went away (cleanly or not)."""
        self.peers.pop(peer.member_id, None)
        with contextlib.suppress(AsciihubError):
            await self.hub.leave(control_room(self.artwork_id), peer.member_id)
            await self.hub.publish(control_room(self.artwork_id), {"k": "presence"})
        if peer.role == "editor" and not any(p.role == "editor" for p in self.peers.values()):
            self.saver.soon(0.0)  # the last editor left: write the document now

    async def submit(self, peer: RoomPeer, message: dict[str, Any]) -> None:
        """An editing op: check it, then append it raw to the edit log."""
        if peer.role != "editor":
            message_text = "you may only watch this artwork (a view link or not the owner)"
            raise Forbidden(message_text, code="read_only")
        op_id = message.get("op_id")
        if isinstance(op_id, bool) or not isinstance(op_id, int) or op_id < 0:
            message_text = "an op needs op_id: a whole number, increasing per client"
            raise InvalidInput(message_text, code="invalid_op")
        op = validate_op(message.get("op"), limits=self.service.edit_limits)
        entry = {"u": peer.user_id, "c": peer.client_id, "i": op_id, "op": op}
        await self.hub.append(edit_room(self.artwork_id, self.epoch), entry)

    async def playback(self, peer: RoomPeer, message: dict[str, Any]) -> None:
        """The host changes the shared playback (play, pause, seek, speed)."""
        if peer.role != "editor":
            message_text = "only the owner or an edit link holder hosts the playback"
            raise Forbidden(message_text, code="not_host")
        await self.hub.append(control_room(self.artwork_id), parse_playback(message, _now_ms()))

    async def cursor(self, peer: RoomPeer, message: dict[str, Any]) -> None:
        """Share a cursor or selection (ephemeral, never logged)."""
        data = {
            "k": "cursor",
            "member_id": peer.member_id,
            "user_id": peer.user_id,
            "frame": message.get("frame"),
            "row": message.get("row"),
            "col": message.get("col"),
            "selection": message.get("selection"),
        }
        if len(orjson.dumps(data)) > 1024:
            message_text = "a cursor message is at most 1 KiB"
            raise InvalidInput(message_text, code="invalid_cursor")
        await self.hub.publish(control_room(self.artwork_id), data)

    async def _on_chat(self, event: RoomEvent) -> None:
        item = chat_json(event)
        self.chat_recent.append(item)
        text = encode({"type": "chat", **item})
        for peer in list(self.peers.values()):
            peer.send_text(text)

    async def chat(self, peer: RoomPeer, message: dict[str, Any]) -> None:
        """Keep a chat message in the room's chat log (every member gets it)."""
        is_guest = peer.user_id.startswith("guest:")
        image = None
        if message.get("image") is not None and not is_guest:
            found = await self.service.chat_images.attachment(
                peer.user_id, self.artwork_id, message.get("image")
            )
            image = found.to_json()
        entry = parse_chat(
            peer.user_id, is_guest, message, self.service.limits.chat_max_chars, image
        )
        await self.hub.append(chat_room(self.artwork_id), entry)

    async def chat_history(self, peer: RoomPeer, message: dict[str, Any]) -> None:
        """Send an older page of chat (``before`` a seq)."""
        before = message.get("before")
        if isinstance(before, bool) or not isinstance(before, int) or before < 1:
            text = "chat_history needs before: the seq of the oldest message you have"
            raise InvalidInput(text, code="invalid_chat")
        page = await chat_page(self.hub, self.artwork_id, before)
        peer.send_text(encode({"type": "chat_history", "before": before, "messages": page}))

    async def close(self) -> None:
        """Stop the feeds and timers (after a last save)."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._recount is not None:
            self._recount.cancel()
        await self.saver.flush()
        for feed in (self._control_feed, self._edit_feed, self._chat_feed):
            if feed is not None:
                await feed.close()


async def _read_all(hub: RoomHub, room: str, after: int) -> list[RoomEvent]:
    found: list[RoomEvent] = []
    while True:
        page = await hub.read(room, after, limit=1000)
        found.extend(page)
        if len(page) < 1000:
            return found
        after = page[-1].seq or after


class RoomService:
    """The artwork rooms of this process."""

    def __init__(
        self,
        hub: RoomHub,
        artworks: ArtworkService,
        kv: KVStore,
        *,
        limits: RoomLimits,
        edit_limits: EditLimits,
        chat_images: ChatImageService | None = None,
    ) -> None:
        self.hub = hub
        self.artworks = artworks
        self.chat_images = chat_images or ChatImageService(
            objects=artworks.objects, artworks=artworks, limits=ChatImageLimits()
        )
        self.kv = kv
        self.limits = limits
        self.edit_limits = edit_limits
        self.rooms: dict[str, LiveRoom] = {}
        self.saving: set[str] = set()
        self._opening: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Any) -> None:
        """Run a coroutine in the background, logging (not raising) its errors."""

        async def guarded() -> None:
            try:
                await work
            except AsciihubError as exc:
                log.warning("event=room_task_failed code=%s", exc.code)
            except Exception:  # a background task of a room must not die silently
                log.exception("event=room_task_crashed")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def row(self, artwork_id: str) -> ArtworkRow:
        """The artwork's metadata row (NotFound if it is gone)."""
        row = await self.artworks.artworks.get(artwork_id)
        if row is None:
            message = "no artwork with this id"
            raise NotFound(message, code="artwork_not_found")
        return row

    async def enter(self, artwork_id: str) -> LiveRoom:
        """The live room of ``artwork_id`` on this process, opened if needed."""
        lock = self._opening.setdefault(artwork_id, asyncio.Lock())
        async with lock:
            room = self.rooms.get(artwork_id)
            if room is None:
                room = LiveRoom(self, artwork_id)
                await room.open()
                self.rooms[artwork_id] = room
            room.refs += 1
            return room

    async def release(self, room: LiveRoom) -> None:
        """A socket left; close the room when it was the last one here."""
        room.refs -= 1
        if room.refs > 0:
            return
        lock = self._opening.setdefault(room.artwork_id, asyncio.Lock())
        async with lock:
            if room.refs <= 0 and self.rooms.get(room.artwork_id) is room:
                del self.rooms[room.artwork_id]
                await room.close()
        if room.artwork_id not in self.rooms and not lock.locked():
            self._opening.pop(room.artwork_id, None)

    async def document_changed(self, artwork_id: str) -> None:
        """An artwork was changed outside its room (PATCH, restore): start a new epoch."""
        if artwork_id in self.saving:
            return  # this process's own room save
        if not await self.hub.last_seq(control_room(artwork_id)):
            return  # no room was ever opened
        probe = LiveRoom(self, artwork_id)
        await probe.saver.check_replaced()

    def principal_for_save(self, row: ArtworkRow) -> Principal:
        """The room writes versions in the owner's name (editors were checked on entry)."""
        return Principal(user_id=row.user_id)

    async def close(self) -> None:
        """Save and close every room of this process."""
        for room in list(self.rooms.values()):
            with contextlib.suppress(AsciihubError):
                await room.close()
        self.rooms.clear()
        for task in list(self._tasks):
            task.cancel()


def build_room_service(
    settings: Settings, hub: RoomHub, artworks: ArtworkService, kv: KVStore
) -> RoomService:
    """The room service from Settings; it also hears of outside document changes."""
    service = RoomService(
        hub,
        artworks,
        kv,
        limits=RoomLimits(
            max_connections=settings.room_max_connections,
            presence_ttl=settings.room_presence_ttl,
            presence_debounce=settings.room_presence_debounce,
            cursor_interval=settings.room_cursor_interval,
            save_debounce=settings.room_save_debounce,
            snapshot_every=settings.room_snapshot_every,
            chat_max_chars=settings.room_chat_max_chars,
        ),
        edit_limits=EditLimits.from_document_limits(
            artworks.limits.document, max_cells_per_op=settings.room_max_cells_per_op
        ),
        chat_images=ChatImageService(
            objects=artworks.objects,
            artworks=artworks,
            limits=ChatImageLimits(
                max_bytes=settings.room_chat_image_max_bytes,
                max_pixels=settings.room_chat_image_max_pixels,
            ),
        ),
    )
    earlier = artworks.on_change

    async def changed(artwork_id: str) -> None:
        if earlier is not None:
            await earlier(artwork_id)
        try:
            await service.document_changed(artwork_id)
        except AsciihubError as exc:  # the next save or join notices it too
            log.warning("event=room_change_check_failed id=%s code=%s", artwork_id, exc.code)

    artworks.on_change = changed
    return service


def new_epoch() -> str:
    """A fresh epoch id."""
    return secrets.token_hex(6)


__all__ = [
    "LiveRoom",
    "build_room_service",
    "RoomLimits",
    "RoomPeer",
    "RoomService",
    "Snapshot",
    "new_epoch",
]
