"""The server-authoritative editing state of one artwork room."""

from __future__ import annotations

from typing import Any

from asciihub.engine.document import ArtworkDocument, DocumentLimits
from asciihub.errors import InvalidInput

from ._apply import apply_op
from ._doc import Changes, Doc
from ._effects import CellChange, Effect, FrameChange, LogEntry
from ._grid import FrameRecord, Register
from ._limits import EditLimits, frame_chars
from ._ops import validate_op
from ._render import digest, doc_from_document, doc_to_document
from ._snapshot import MAX_TRACKED_CLIENTS, Clients, dump, load


def frame_change(frame: FrameRecord) -> FrameChange:
    """A frame's fields as an effect's frame change."""
    return FrameChange(frame.id, frame.key.value, frame.duration_ms.value, frame.deleted.value)


def build_effect(doc: Doc, entry: LogEntry, kind: str, changes: Changes) -> Effect:
    """The effect of ``entry``: the current values of everything ``changes`` lists."""
    cells = []
    for frame_id, row, col in changes.cells:
        register = doc.frames[frame_id].cell(row, col)
        cells.append(CellChange(frame_id, row, col, register.ch, register.fg, register.bg))
    return Effect(
        seq=entry.seq,
        user_id=entry.user_id,
        client_id=entry.client_id,
        op_id=entry.op_id,
        kind=kind,
        cells=cells,
        frames=[frame_change(doc.frames[frame_id]) for frame_id in changes.frames],
        props={name: getattr(doc, name).value for name in changes.props},
    )


class StateView:
    """Read access to an editing state: size, frames, cells, document, digest."""

    def __init__(self, doc: Doc) -> None:
        self._doc = doc

    @property
    def limits(self) -> EditLimits:
        """The limits this state enforces (kept in its snapshot)."""
        return self._doc.limits

    @property
    def width(self) -> int:
        """Columns of the document (cells beyond are kept, only clipped)."""
        return self._doc.width.value

    @property
    def height(self) -> int:
        """Lines of the document."""
        return self._doc.height.value

    def frames(self, *, include_deleted: bool = False) -> list[FrameChange]:
        """Frames in order-key order (ties by id), as ``FrameChange`` values."""
        return [frame_change(f) for f in self._doc.ordered(include_deleted=include_deleted)]

    def cell(self, frame_id: str, row: int, col: int) -> Register | None:
        """A cell's register (value, writer, seq), or None for an unknown frame."""
        frame = self._doc.frames.get(frame_id)
        return None if frame is None else frame.cell(row, col)

    def to_document(self, *, fps: float, limits: DocumentLimits | None = None) -> ArtworkDocument:
        """Live frames in order-key order, cells clipped to width x height.

        ``limits`` default to the state's own; stricter ones may raise ``TooLarge``.
        """
        limits = limits or self._doc.limits.document_limits()
        return doc_to_document(self._doc, fps=fps, limits=limits)

    def digest(self) -> str:
        """sha256 of the canonical JSON of the content (see ``_render.canonical``)."""
        return digest(self._doc)


class EditState(StateView):
    """Server-authoritative editing state of one artwork room.

    Every holder applies the room's log entries in seq order with ``apply``; equal logs
    give equal states (``digest``) and equal snapshots.
    """

    def __init__(self, doc: Doc, *, seq: int = 0, clients: Clients | None = None) -> None:
        super().__init__(doc)
        self._seq = seq
        self._clients: Clients = dict(clients or {})

    @classmethod
    def from_document(cls, doc: ArtworkDocument, *, limits: EditLimits | None = None) -> EditState:
        """A fresh state (seq 0) of an artwork; frames get ids ``f0``, ``f1``, ...

        Raises ``InvalidInput`` (``document_too_large``) if the document is already
        over ``limits`` (the default ``EditLimits()``).
        """
        limits = limits or EditLimits()
        if (
            doc.width > limits.max_width
            or doc.height > limits.max_height
            or doc.frame_count > limits.max_frames
            or doc.frame_count * frame_chars(doc.width, doc.height) > limits.max_text_chars
        ):
            message = "the artwork is larger than the editing limits allow"
            raise InvalidInput(message, code="document_too_large")
        return cls(doc_from_document(doc, limits))

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> EditState:
        """A state from ``snapshot()`` output; raises ``InvalidInput`` (``invalid_snapshot``)."""
        doc, seq, clients = load(data)
        return cls(doc, seq=seq, clients=clients)

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready snapshot (``"version": 1``) with the last applied seq."""
        return dump(self._doc, self._seq, self._clients)

    @property
    def seq(self) -> int:
        """The last applied seq (0 for a fresh state)."""
        return self._seq

    def last_op_id(self, client_id: str) -> int | None:
        """The newest op id applied for a client, if it is remembered."""
        known = self._clients.get(client_id)
        return None if known is None else known[0]

    def apply(self, entry: LogEntry) -> Effect:
        """Apply the next log entry and return its effect.

        ``entry.seq`` must be ``seq + 1`` (else ``ValueError``). Any other problem
        gives an effect instead of an exception: ``duplicate`` for a (client_id,
        op_id) already applied, ``noop`` with a ``reason`` for an op that is malformed
        or no longer fits the state.
        """
        if entry.seq != self._seq + 1:
            message = f"log entry seq {entry.seq} does not follow {self._seq}"
            raise ValueError(message)
        self._seq = entry.seq
        known = self._clients.get(entry.client_id)
        if known is not None and entry.op_id <= known[0]:
            return build_effect(self._doc, entry, "duplicate", Changes())
        self._remember(entry)
        try:
            op = validate_op(entry.op, limits=self._doc.limits)
        except InvalidInput:
            return _noop(entry, "invalid_op")
        changes, reason = apply_op(self._doc, op, entry.user_id, entry.seq, record=True)
        if reason is not None:
            return _noop(entry, reason)
        return build_effect(self._doc, entry, op["kind"], changes)

    def _remember(self, entry: LogEntry) -> None:
        self._clients[entry.client_id] = (entry.op_id, entry.seq)
        if len(self._clients) > MAX_TRACKED_CLIENTS:
            oldest = min(self._clients, key=lambda name: (self._clients[name][1], name))
            del self._clients[oldest]


def _noop(entry: LogEntry, reason: str) -> Effect:
    return Effect(entry.seq, entry.user_id, entry.client_id, entry.op_id, "noop", reason=reason)
