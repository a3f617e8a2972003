"""A client's copy of a room: confirmed state plus its own pending ops.

The replica keeps two documents. *Confirmed* is the server's state: the snapshot it
started from plus every effect received, in seq order. *View* is what the user sees:
confirmed, with the client's own unconfirmed ops applied on top at once. Each pending
op holds *keys* (a cell, a frame field, a frame's existence, a document property) it
wrote; while a key is held, remote values for it change confirmed but not the view
(Figma's anti-flicker rule). When the server's effect for an op arrives its keys are
released and take the confirmed value, so with nothing pending the view equals
confirmed. Undo and redo are not predicted: their effect shows when it arrives.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ._apply import apply_op
from ._doc import Doc
from ._effects import Effect
from ._grid import Field, FrameRecord, Register
from ._ops import validate_op
from ._render import digest
from ._snapshot import load
from ._state import StateView

Key = tuple[Any, ...]  # ("c", frame, row, col) | ("f", frame, field) | ("x", frame) | ("p", prop)
_FIELDS = ("key", "duration_ms", "deleted")


@dataclass
class _Pending:
    op: dict[str, Any]
    keys: set[Key]


def _op_keys(op: dict[str, Any]) -> set[Key]:
    kind = op["kind"]
    if kind == "stroke":
        return {("c", op["frame"], row, col) for row, col, *_ in op["cells"]}
    if kind == "frame_add":
        return {("x", op["id"])} | {("f", op["id"], name) for name in _FIELDS}
    if kind == "frame_update":
        return {("f", op["id"], name) for name in _FIELDS if name in op}
    if kind == "resize":
        return {("p", "width"), ("p", "height")}
    return set()


def apply_effect(doc: Doc, effect: Effect, held: dict[Key, int] | None = None) -> None:
    """Write an effect's values into ``doc``, except keys in ``held``."""
    held = held or {}
    user, seq = effect.user_id, effect.seq
    for change in effect.frames:
        frame = doc.frames.get(change.id)
        if frame is None:
            doc.frames[change.id] = FrameRecord(
                id=change.id,
                key=Field(change.key, user, seq),
                duration_ms=Field(change.duration_ms, user, seq),
                deleted=Field(change.deleted, user, seq),
                base_user=user,
                base_seq=seq,
            )
            continue
        for name in _FIELDS:
            if ("f", change.id, name) not in held:
                setattr(frame, name, Field(getattr(change, name), user, seq))
    for cell in effect.cells:
        target = doc.frames.get(cell.frame_id)
        if target is not None and ("c", cell.frame_id, cell.row, cell.col) not in held:
            target.cells[(cell.row, cell.col)] = Register(cell.ch, cell.fg, cell.bg, user, seq)
    for name, value in effect.props.items():
        if ("p", name) not in held:
            setattr(doc, name, Field(value, user, seq))


class Replica:
    """A client's copy: confirmed state + its own pending ops (for tests, bench, docs)."""

    def __init__(self, snapshot: dict[str, Any], *, client_id: str, user_id: str) -> None:
        self.client_id = client_id
        self.user_id = user_id
        self._pending: dict[int, _Pending] = {}
        self._held: dict[Key, int] = {}
        self._next_op_id = 1
        self.resync(snapshot)

    @property
    def seq(self) -> int:
        """The seq of the last effect received (or of the snapshot)."""
        return self._seq

    def resync(self, snapshot: dict[str, Any]) -> None:
        """Start again from a snapshot, keeping the pending ops it does not include.

        Ops whose op id the snapshot already records for this client are dropped; the
        others are applied again on top of the new view (send ``pending()`` again).
        """
        doc, seq, clients = load(snapshot)
        doc.stacks.clear()
        self._confirmed, self._seq = doc, seq
        self._view = copy.deepcopy(doc)
        done = clients.get(self.client_id, (0, 0))[0]
        self._next_op_id = max(self._next_op_id, done + 1)
        pending = [(op_id, item.op) for op_id, item in self._pending.items() if op_id > done]
        self._pending.clear()
        self._held.clear()
        for op_id, op in pending:
            self._predict(op_id, op)

    def local(self, op: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Validate and apply an own op at once; returns (op_id, op) to send."""
        op = validate_op(op, limits=self._confirmed.limits)
        op_id = self._next_op_id
        self._next_op_id += 1
        self._predict(op_id, op)
        return op_id, op

    def _predict(self, op_id: int, op: dict[str, Any]) -> None:
        keys = _op_keys(op)
        if op["kind"] not in ("undo", "redo"):
            changes, _ = apply_op(self._view, op, self.user_id, -op_id, record=False)
            keys.update(("c", *cell) for cell in changes.cells)
        self._pending[op_id] = _Pending(op, keys)
        for key in keys:
            self._held[key] = self._held.get(key, 0) + 1

    def pending(self) -> list[tuple[int, dict[str, Any]]]:
        """Own ops not yet confirmed, oldest first (resend them after a reconnect)."""
        return [(op_id, item.op) for op_id, item in self._pending.items()]

    def reject(self, op_id: int) -> None:
        """Forget an own op the server refused; the view takes confirmed values back."""
        self._settle(self._release([op_id]))

    def receive(self, effect: Effect) -> None:
        """Apply the next confirmed effect (in seq order; an old seq is ignored).

        An effect of this client settles its op and every older pending op (the
        server de-duplicates by increasing op id, so those can no longer apply).
        Raises ``ValueError`` on a gap in seq: resync from a snapshot then.
        """
        if effect.seq <= self._seq:
            return
        if effect.seq != self._seq + 1:
            message = f"effect seq {effect.seq} does not follow {self._seq}; resync"
            raise ValueError(message)
        self._seq = effect.seq
        apply_effect(self._confirmed, effect)
        released: set[Key] = set()
        if effect.client_id == self.client_id:
            released = self._release([i for i in self._pending if i <= effect.op_id])
        apply_effect(self._view, effect, self._held)
        self._settle(released)

    def _release(self, op_ids: list[int]) -> set[Key]:
        released: set[Key] = set()
        for op_id in op_ids:
            item = self._pending.pop(op_id, None)
            if item is None:
                continue
            for key in item.keys:
                count = self._held[key] - 1
                if count:
                    self._held[key] = count
                else:
                    del self._held[key]
                    released.add(key)
        return released

    def _settle(self, keys: set[Key]) -> None:
        """Give released keys their confirmed value in the view.

        A frame that only the view has (a predicted ``frame_add`` the server refused)
        leaves the view once no pending op mentions it any more.
        """
        confirmed, view = self._confirmed, self._view
        frames: set[str] = set()
        for key in keys:
            tag, name = key[0], key[1]
            if tag == "p":
                setattr(view, name, getattr(confirmed, name))
                continue
            frames.add(name)
            source, target = confirmed.frames.get(name), view.frames.get(name)
            if source is None or target is None or tag == "x":
                continue
            if tag == "f":
                setattr(target, key[2], getattr(source, key[2]))
            else:
                target.cells[(key[2], key[3])] = source.cell(key[2], key[3])
        for name in frames:
            source, target = confirmed.frames.get(name), view.frames.get(name)
            if source is None and target is not None and not self._mentions(name):
                del view.frames[name]
            elif source is not None and target is None:
                view.frames[name] = copy.deepcopy(source)

    def _mentions(self, frame_id: str) -> bool:
        return any(key[0] != "p" and key[1] == frame_id for key in self._held)

    def view(self) -> StateView:
        """What the user sees (read it; do not keep it across calls)."""
        return StateView(self._view)

    def confirmed(self) -> StateView:
        """The server's state as far as received."""
        return StateView(self._confirmed)

    def confirmed_digest(self) -> str:
        """sha256 of the canonical confirmed state (equals ``EditState.digest()``)."""
        return digest(self._confirmed)
