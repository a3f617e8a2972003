"""Shared builders and hypothesis strategies for the collaborative editing tests."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import strategies as st

from asciihub.engine.document import build_document
from asciihub.services.collab import EditLimits, EditState, LogEntry, StateView, key_between

# Small limits keep random runs dense: many ops hit the same cells and frames.
SMALL = EditLimits(
    max_width=8,
    max_height=6,
    max_frames=4,
    max_cells_per_op=6,
    max_text_chars=400,
    max_undo_depth=4,
)
CHARS = "ab#*. "
COLORS = [None, "#ff0000", "#00ff00", "#0000ff"]


def small_document() -> Any:
    """Two 5x3 frames, the second with colours."""
    colors = base64.b64encode(bytes(range(45))).decode("ascii")
    return build_document(
        [
            {"text": "abcde\nfghij\nklmno", "duration_ms": 100},
            {"text": "ABCDE\nFGHIJ\nKLMNO", "duration_ms": 120, "colors": colors},
        ]
    )


def small_state() -> EditState:
    """A fresh state of ``small_document`` under ``SMALL`` limits."""
    return EditState.from_document(small_document(), limits=SMALL)


class Log:
    """Feeds entries to a state with consecutive seqs."""

    def __init__(self, state: EditState) -> None:
        self.state = state
        self.entries: list[LogEntry] = []
        self.op_ids: dict[str, int] = {}

    def add(self, op: dict[str, Any], user: str = "u1", client: str | None = None) -> Any:
        """Append ``op`` by ``user`` (client defaults to ``c-<user>``) and apply it."""
        client = client or f"c-{user}"
        op_id = self.op_ids.get(client, 0) + 1
        self.op_ids[client] = op_id
        entry = LogEntry(self.state.seq + 1, user, client, op_id, op)
        self.entries.append(entry)
        return self.state.apply(entry)


def text_of(view: StateView, frame_id: str) -> str:
    """A frame's visible text (width x height, lines joined by newlines)."""
    lines = []
    for row in range(view.height):
        line = ""
        for col in range(view.width):
            register = view.cell(frame_id, row, col)
            assert register is not None
            line += register.ch
        lines.append(line)
    return "\n".join(lines)


def _cell(draw: Any, limits: EditLimits) -> list[Any]:
    # One draw per cell (decoded below) keeps generation cheap.
    code = draw(st.integers(0, limits.max_height * limits.max_width * len(CHARS) * 16 - 1))
    code, row = divmod(code, limits.max_height)
    code, col = divmod(code, limits.max_width)
    code, ch = divmod(code, len(CHARS))
    fg, bg = divmod(code, 4)
    return [row, col, CHARS[ch], COLORS[fg], COLORS[bg]]


def _new_key(draw: Any, view: StateView) -> str:
    keys = [frame.key for frame in view.frames(include_deleted=True)]
    keys = sorted(set(keys))
    spot = draw(st.integers(0, len(keys)))
    before = keys[spot - 1] if spot > 0 else None
    after = keys[spot] if spot < len(keys) else None
    return key_between(before, after)


def random_op(draw: Any, view: StateView, tag: str, limits: EditLimits = SMALL) -> dict[str, Any]:
    """A random valid op made against ``view`` (ids of new frames start with ``tag``)."""
    ids = [frame.id for frame in view.frames(include_deleted=True)] + ["ghost"]
    kind = draw(
        st.sampled_from(
            ["stroke"] * 6
            + ["frame_add", "frame_update", "frame_update", "resize"]
            + ["undo"] * 2
            + ["redo"]
        )
    )
    if kind == "stroke":
        count = draw(st.integers(1, limits.max_cells_per_op))
        return {
            "kind": "stroke",
            "frame": draw(st.sampled_from(ids)),
            "cells": [_cell(draw, limits) for _ in range(count)],
        }
    if kind == "frame_add":
        op: dict[str, Any] = {
            "kind": "frame_add",
            "id": draw(st.one_of(st.integers(0, 99).map(lambda n: f"{tag}{n}"), st.just(ids[0]))),
            "key": _new_key(draw, view),
            "duration_ms": draw(st.integers(1, 500)),
        }
        extra = draw(st.sampled_from(["none", "text", "copy"]))
        if extra == "text":
            line = st.text(alphabet=CHARS, max_size=limits.max_width)
            op["text"] = "\n".join(draw(st.lists(line, min_size=1, max_size=limits.max_height)))
        elif extra == "copy":
            op["copy_of"] = draw(st.sampled_from(ids))
        return op
    if kind == "frame_update":
        op = {"kind": "frame_update", "id": draw(st.sampled_from(ids))}
        fields = draw(st.sets(st.sampled_from(["key", "duration_ms", "deleted"]), min_size=1))
        if "key" in fields:
            op["key"] = _new_key(draw, view)
        if "duration_ms" in fields:
            op["duration_ms"] = draw(st.integers(1, 500))
        if "deleted" in fields:
            op["deleted"] = draw(st.booleans())
        return op
    if kind == "resize":
        return {
            "kind": "resize",
            "width": draw(st.integers(1, limits.max_width)),
            "height": draw(st.integers(1, limits.max_height)),
        }
    return {"kind": kind}


def ops_for(
    view: StateView, tag: str, limits: EditLimits = SMALL
) -> st.SearchStrategy[dict[str, Any]]:
    """``random_op`` as one strategy (one draw per op keeps runs fast)."""

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        return random_op(draw, view, tag, limits)

    return build()
