"""Collaborative editing of an artwork: ops, their order, their effects, undo.

The model is Figma's, not a CRDT: the room's log puts every op in one order (``seq``
1, 2, 3 ...), and every holder of the state (each API process, the saver, each client)
applies the entries in that order with the same deterministic, total function
(``EditState.apply``). Every cell (character, fg, bg) is a last-writer-wins register in
log order that remembers who wrote it and at which seq; so is every frame field and
the document's width and height.

Ops (what a client sends; ``validate_op`` checks their structure)
=================================================================

``stroke`` — one undo unit writing many cells of one frame::

    {"kind": "stroke", "frame": "f0",
     "cells": [[2, 5, "#", "#ff8800", null], [2, 6, "#", null, "#000000"]]}

Each cell is ``[row, col, ch, fg, bg]``: ``ch`` one printable character (the document's
text rules, no newline), ``fg``/``bg`` ``"#rrggbb"`` (stored lower-case) or ``null``
(the default ink / paper). At most ``max_cells_per_op`` cells; row and col below
``max_height``/``max_width``. A cell outside the *current* width and height is skipped
(a noop if every cell is); if a cell repeats, its last value wins.

``frame_add`` — a new frame with a client-made id and an order key::

    {"kind": "frame_add", "id": "k3x9", "key": "a1V", "duration_ms": 100, "text": "hi\\n:)"}
    {"kind": "frame_add", "id": "k3xa", "key": "a2", "duration_ms": 80, "copy_of": "f0"}

``id`` is 1-64 of ``A-Z a-z 0-9 _ -``; ``key`` an order key (``key_between``);
``duration_ms`` 1-600000. ``text`` (optional, lines clipped to the current size) or
``copy_of`` (optional, an exact copy of another frame's cells, clipped ones too), not
both; otherwise the frame is blank.

``frame_update`` — change a frame's key (a move), duration or deleted flag::

    {"kind": "frame_update", "id": "f0", "key": "a0V"}
    {"kind": "frame_update", "id": "f2", "duration_ms": 250, "deleted": true}

A deleted frame keeps its cells (a tombstone) and comes back with ``deleted: false``.

``resize`` — the document's width and height (1 up to the limits)::

    {"kind": "resize", "width": 120, "height": 40}

Only the dimensions that differ from the current ones are written (each is its own
register); a resize that changes nothing is a noop (``unchanged``). A resize never
destroys cells: cells beyond the size are kept and only clipped when a document is
rendered, so a shrink and a grow bring them back.

``undo`` / ``redo`` — the sender's own newest edit::

    {"kind": "undo"}
    {"kind": "redo"}

Each applied ``stroke``, ``frame_add``, ``frame_update`` and ``resize`` is one undo
entry of its user (at most ``max_undo_depth`` kept; a new one clears that user's redo
stack). Undo puts back the earlier value of each register the entry wrote *only if the
register still holds that write* (same seq), so another person's later work is never
touched; redo does the same the other way. Undoing ``frame_add`` deletes the frame,
undoing a delete brings the frame back. An entry with nothing left to restore is
dropped and the next older one is tried. Undo stacks live in the state and its
snapshot.

When an op no longer fits the state it becomes a ``noop`` effect, never an error:
``reason`` is ``unknown_frame``, ``frame_deleted``, ``out_of_bounds``, ``frame_exists``,
``too_many_frames`` (over ``max_frames`` live frames, or ``2 * max_frames`` frames
counting deleted ones), ``document_too_large`` (over the ``max_text_chars`` budget),
``last_frame`` (the last live frame cannot be deleted), ``unchanged`` (a resize to
the current size), ``nothing_to_undo``,
``nothing_to_redo`` or ``invalid_op`` (an entry that fails ``validate_op``).

Log entries
===========

``LogEntry(seq, user_id, client_id, op_id, op)``; ``op_id`` grows strictly per client,
and an entry whose op id is not above the last one applied for its client is a
``duplicate`` (no change), so resent ops are harmless::

    {"seq": 7, "user_id": "u1", "client_id": "tab-3", "op_id": 12, "op": {"kind": "undo"}}

Effects (what is broadcast; ``Effect.to_json``)
===============================================

The concrete result of one entry, so a browser needs no undo logic::

    {"seq": 7, "user_id": "u1", "client_id": "tab-3", "op_id": 12, "kind": "stroke",
     "cells": [["f0", 2, 5, "#", "#ff8800", null]],
     "frames": [],
     "props": {}}
    {"seq": 8, "user_id": "u2", "client_id": "tab-9", "op_id": 3, "kind": "frame_add",
     "cells": [["k3x9", 0, 0, "h", null, null], ["k3x9", 0, 1, "i", null, null],
               ["k3x9", 1, 0, ":", null, null], ["k3x9", 1, 1, ")", null, null]],
     "frames": [{"id": "k3x9", "key": "a1V", "duration_ms": 100, "deleted": false}],
     "props": {}}
    {"seq": 9, "user_id": "u1", "client_id": "tab-3", "op_id": 13, "kind": "resize",
     "cells": [], "frames": [], "props": {"width": 120, "height": 40}}
    {"seq": 10, "user_id": "u2", "client_id": "tab-9", "op_id": 4, "kind": "noop",
     "cells": [], "frames": [], "props": {}, "reason": "frame_deleted"}
    {"seq": 11, "user_id": "u1", "client_id": "tab-3", "op_id": 14, "kind": "undo",
     "cells": [], "frames": [], "props": {"width": 80, "height": 24}}
    {"seq": 12, "user_id": "u1", "client_id": "tab-3", "op_id": 14, "kind": "duplicate",
     "cells": [], "frames": [], "props": {}}

``kind`` is the op's kind (``undo``/``redo`` list the cells, frames and properties they
restored), ``noop`` (with ``reason``) or ``duplicate``. ``cells`` are
``[frame_id, row, col, ch, fg, bg]`` with the cell's value after the entry; a
``frame_add`` lists its frame's non-blank cells; ``frames`` carry every field of each
touched frame; ``props`` the width and height that changed.

Order keys
==========

``key_between(a, b)`` makes a base-62 key strictly between two keys (None: no
neighbour), as in the ``fractional-indexing`` scheme: ``key_between(None, None) ==
"a0"``, appending gives ``a1``, ``a2`` ...; see ``_keys``. Frames sort by (key, id).

Snapshots
=========

``EditState.snapshot()`` is JSON (``"version": 1``) holding the seq, the limits, every
register with its writer and seq, the last op id per client (the newest 10,000
clients) and the undo stacks; ``snapshot -> from_snapshot -> snapshot`` is identical.
``from_snapshot`` checks its input as untrusted (``InvalidInput``, code
``invalid_snapshot``, the message naming the bad field). ``digest()`` is the sha256 of
the canonical JSON of the *content* only (size, frames with their fields, cells, also
of deleted frames and of cells clipped by the size); writers, seqs and undo stacks
are not content, so a replica built from effects has the same digest as the server.

Frames of an artwork get ids ``f0``, ``f1``, ... and keys ``a0``, ``a1``, ...;
foreground colours map to the document's ``colors`` (frames without any colour get
none; uncoloured cells of a coloured frame get the default ink ``#deded6``); background
colours are kept in the state and snapshots and mapped to the document only in
``_render``.

Clients
=======

``Replica(snapshot, client_id=..., user_id=...)`` is a client's copy. ``local(op)``
validates and applies the op to the *view* at once and returns ``(op_id, op)`` to send
(op ids continue after the snapshot's last one for the client); the op stays in
``pending()`` until the server's effect with its (client_id, op_id) arrives through
``receive(effect)`` (in seq order; an old seq is ignored, a gap raises ``ValueError``).
An echo also settles older pending ops of the client, since the server would now
refuse them as duplicates. While a cell, frame field or property has a pending local
write the view keeps the local value and ignores remote ones; once settled it takes
the confirmed (server-ordered) value. ``reject(op_id)`` drops an op the server
refused; ``resync(snapshot)`` starts again from a snapshot and keeps only the pending
ops it lacks. ``view()`` and ``confirmed()`` give read access (``width``, ``height``,
``frames()``, ``cell(frame, row, col)``, ``to_document(fps=...)``, ``digest()``);
``confirmed_digest()`` equals the server's ``digest()`` at the same seq, and with
nothing pending the view equals the confirmed state. Undo and redo are not predicted.
"""

from __future__ import annotations

from ._effects import CellChange, Effect, FrameChange, LogEntry
from ._grid import Register
from ._keys import MAX_KEY_CHARS, key_between
from ._limits import EditLimits
from ._ops import OP_KINDS, validate_op
from ._replica import Replica
from ._snapshot import SNAPSHOT_VERSION
from ._state import EditState, StateView

__all__ = [
    "MAX_KEY_CHARS",
    "OP_KINDS",
    "SNAPSHOT_VERSION",
    "CellChange",
    "EditLimits",
    "EditState",
    "Effect",
    "FrameChange",
    "LogEntry",
    "Register",
    "Replica",
    "StateView",
    "key_between",
    "validate_op",
]
