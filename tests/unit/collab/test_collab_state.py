"""EditState.apply: each op kind, its edges, and rendering back to a document."""

from __future__ import annotations

import base64

import pytest
from collab_support import SMALL, Log, small_document, small_state, text_of

from asciihub.engine.document import (
    DocumentLimits,
    build_document,
    document_from_texts,
    parse_document,
)
from asciihub.errors import InvalidInput, TooLarge
from asciihub.services.collab import EditLimits, EditState, LogEntry


def test_from_document_names_and_orders_frames_and_round_trips() -> None:
    document = small_document()
    state = EditState.from_document(document, limits=SMALL)
    assert [(f.id, f.key, f.duration_ms) for f in state.frames()] == [
        ("f0", "a0", 100),
        ("f1", "a1", 120),
    ]
    assert state.seq == 0
    assert (state.width, state.height) == (5, 3)
    assert state.to_document(fps=document.fps) == document
    register = state.cell("f1", 0, 1)
    assert (
        register is not None
        and register.fg == "#030405"
        and register.user == ""
        and register.seq == 0
    )


def test_from_document_refuses_a_document_over_the_limits() -> None:
    with pytest.raises(InvalidInput) as caught:
        EditState.from_document(document_from_texts(["x" * 9]), limits=SMALL)
    assert caught.value.code == "document_too_large"


def test_stroke_writes_registers_in_log_order() -> None:
    log = Log(small_state())
    effect = log.add(
        {
            "kind": "stroke",
            "frame": "f0",
            "cells": [
                [0, 0, "X", "#FF0000", None],
                [0, 0, "Y", None, "#000000"],
                [2, 4, "Z", None, None],
            ],
        },
        "u1",
    )
    assert effect.kind == "stroke"
    assert [c.to_json() for c in effect.cells] == [
        ["f0", 0, 0, "Y", None, "#000000"],
        ["f0", 2, 4, "Z", None, None],
    ]
    log.add({"kind": "stroke", "frame": "f0", "cells": [[0, 0, "W", None, None]]}, "u2")
    register = log.state.cell("f0", 0, 0)
    assert register is not None and (register.ch, register.user, register.seq) == ("W", "u2", 2)
    assert text_of(log.state, "f0") == "Wbcde\nfghij\nklmnZ"


def test_stroke_outside_the_size_or_frame_is_a_noop() -> None:
    log = Log(small_state())
    partial = log.add(
        {
            "kind": "stroke",
            "frame": "f0",
            "cells": [[0, 5, "X", None, None], [0, 1, "Y", None, None]],
        }
    )
    assert [c.col for c in partial.cells] == [1]
    outside = log.add({"kind": "stroke", "frame": "f0", "cells": [[3, 0, "X", None, None]]})
    assert (outside.kind, outside.reason, outside.cells) == ("noop", "out_of_bounds", [])
    unknown = log.add({"kind": "stroke", "frame": "zz", "cells": [[0, 0, "X", None, None]]})
    assert (unknown.kind, unknown.reason) == ("noop", "unknown_frame")
    log.add({"kind": "frame_update", "id": "f1", "deleted": True})
    gone = log.add({"kind": "stroke", "frame": "f1", "cells": [[0, 0, "X", None, None]]})
    assert (gone.kind, gone.reason) == ("noop", "frame_deleted")


def test_duplicates_gaps_and_junk() -> None:
    state = small_state()
    op = {"kind": "stroke", "frame": "f0", "cells": [[0, 0, "X", None, None]]}
    assert state.apply(LogEntry(1, "u1", "c1", 5, op)).kind == "stroke"
    again = state.apply(LogEntry(2, "u1", "c1", 5, {"kind": "resize", "width": 1, "height": 1}))
    assert (again.kind, again.cells, again.props, again.seq) == ("duplicate", [], {}, 2)
    assert state.apply(LogEntry(3, "u1", "c1", 4, op)).kind == "duplicate"
    assert state.width == 5 and state.last_op_id("c1") == 5
    with pytest.raises(ValueError, match="does not follow 3"):
        state.apply(LogEntry(5, "u1", "c1", 6, op))
    junk = state.apply(LogEntry(4, "u1", "c1", 6, {"kind": "stroke", "cells": 3}))
    assert (junk.kind, junk.reason) == ("noop", "invalid_op")
    assert state.seq == 4


def test_frame_add_blank_text_and_copy() -> None:
    log = Log(
        EditState.from_document(small_document(), limits=EditLimits(max_width=8, max_height=6))
    )
    blank = log.add({"kind": "frame_add", "id": "n1", "key": "a0V", "duration_ms": 50})
    assert blank.kind == "frame_add" and blank.cells == []
    assert [f.to_json() for f in blank.frames] == [
        {"id": "n1", "key": "a0V", "duration_ms": 50, "deleted": False}
    ]
    texted = log.add(
        {
            "kind": "frame_add",
            "id": "n2",
            "key": "a2",
            "duration_ms": 50,
            "text": "hi\n  tool!\nx\ny",
        }
    )
    assert text_of(log.state, "n2") == "hi   \n  too\nx    "
    assert [(c.row, c.col, c.ch) for c in texted.cells][:2] == [(0, 0, "h"), (0, 1, "i")]
    log.add({"kind": "stroke", "frame": "f1", "cells": [[1, 1, "@", None, "#123456"]]})
    copied = log.add(
        {"kind": "frame_add", "id": "n3", "key": "a3", "duration_ms": 70, "copy_of": "f1"}
    )
    assert text_of(log.state, "n3") == text_of(log.state, "f1")
    register = log.state.cell("n3", 1, 1)
    assert register is not None and (register.ch, register.bg, register.fg) == (
        "@",
        "#123456",
        None,
    )
    assert len(copied.cells) == 15
    order = [f.id for f in log.state.frames()]
    assert order == ["f0", "n1", "f1", "n2", "n3"][: len(order)]


def test_frame_add_refusals() -> None:
    log = Log(small_state())
    assert (
        log.add({"kind": "frame_add", "id": "f0", "key": "a5", "duration_ms": 1}).reason
        == "frame_exists"
    )
    assert (
        log.add(
            {"kind": "frame_add", "id": "n", "key": "a5", "duration_ms": 1, "copy_of": "zz"}
        ).reason
        == "unknown_frame"
    )
    log.add({"kind": "frame_add", "id": "n1", "key": "a5", "duration_ms": 1})
    log.add({"kind": "frame_add", "id": "n2", "key": "a6", "duration_ms": 1})
    full = log.add({"kind": "frame_add", "id": "n3", "key": "a7", "duration_ms": 1})
    assert (full.kind, full.reason) == ("noop", "too_many_frames")  # SMALL allows 4 live frames
    # A tiny character budget: 2 frames of 5x3 count 2 * 17 characters.
    tight = EditState.from_document(
        small_document(), limits=EditLimits(max_width=8, max_height=6, max_text_chars=40)
    )
    budget = Log(tight)
    assert (
        budget.add({"kind": "frame_add", "id": "n", "key": "a5", "duration_ms": 1}).reason
        == "document_too_large"
    )
    assert budget.add({"kind": "resize", "width": 7, "height": 3}).reason == "document_too_large"
    narrower = budget.add({"kind": "resize", "width": 4, "height": 3})
    assert (narrower.kind, narrower.props) == ("resize", {"width": 4})
    assert budget.add({"kind": "resize", "width": 4, "height": 3}).reason == "unchanged"


def test_frame_update_moves_renames_nothing_and_keeps_tombstones() -> None:
    log = Log(small_state())
    moved = log.add({"kind": "frame_update", "id": "f1", "key": "Zz"})
    assert [f.id for f in log.state.frames()] == ["f1", "f0"]
    assert moved.frames[0].key == "Zz" and moved.frames[0].duration_ms == 120
    log.add({"kind": "stroke", "frame": "f0", "cells": [[0, 0, "Q", None, None]]})
    log.add({"kind": "frame_update", "id": "f0", "deleted": True, "duration_ms": 300})
    assert [f.id for f in log.state.frames()] == ["f1"]
    assert [f.id for f in log.state.frames(include_deleted=True)] == ["f1", "f0"]
    last = log.add({"kind": "frame_update", "id": "f1", "deleted": True})
    assert (last.kind, last.reason) == ("noop", "last_frame")
    assert log.add({"kind": "frame_update", "id": "zz", "key": "a1"}).reason == "unknown_frame"
    back = log.add({"kind": "frame_update", "id": "f0", "deleted": False})
    assert back.frames[0].to_json() == {
        "id": "f0",
        "key": "a0",
        "duration_ms": 300,
        "deleted": False,
    }
    assert text_of(log.state, "f0").startswith("Qbcde")


def test_resize_clips_and_never_destroys() -> None:
    log = Log(small_state())
    log.add({"kind": "stroke", "frame": "f0", "cells": [[2, 4, "!", "#00ff00", None]]})
    shrink = log.add({"kind": "resize", "width": 2, "height": 1})
    assert shrink.props == {"width": 2, "height": 1}
    document = log.state.to_document(fps=10)
    assert [frame.text for frame in document.frames] == ["ab", "AB"]
    log.add({"kind": "resize", "width": 8, "height": 4})
    assert text_of(log.state, "f0") == "abcde   \nfghij   \nklmn!   \n        "
    grown = log.state.to_document(fps=10)
    assert (grown.width, grown.height) == (8, 4)
    assert parse_document(grown.to_json()) == grown


def test_to_document_colours_only_frames_that_have_them() -> None:
    log = Log(EditState.from_document(document_from_texts(["ab", "cd"]), limits=SMALL))
    log.add({"kind": "stroke", "frame": "f1", "cells": [[0, 1, "D", "#010203", "#0a0b0c"]]})
    document = log.state.to_document(fps=12)
    assert document.frames[0].colors is None
    assert document.frames[1].colors == bytes.fromhex("deded6010203")
    assert document.fps == 12
    assert parse_document(document.to_json()) == document
    # Background colours are kept in the state, its snapshot and the document.
    register = log.state.cell("f1", 0, 1)
    assert register is not None and register.bg == "#0a0b0c"
    assert document.frames[0].backgrounds is None
    assert document.frames[1].backgrounds is not None
    assert document.frames[1].backgrounds[3:6] == bytes.fromhex("0a0b0c")
    assert [0, 1, "D", "#010203", "#0a0b0c", "u1", 1] in log.state.snapshot()["frames"][1]["cells"]


def test_to_document_honours_stricter_limits() -> None:
    state = small_state()
    with pytest.raises(TooLarge):
        state.to_document(fps=10, limits=DocumentLimits(max_frames=1))


def test_a_thousand_cell_stroke_touches_only_its_cells() -> None:
    colors = base64.b64encode(bytes(300 * 200 * 3)).decode()
    big = build_document(
        [{"text": "x" * 300 + "\n" * 199, "colors": colors}], width=300, height=200
    )
    state = EditState.from_document(big)
    cells = [[row, col, "o", "#abcdef", None] for row in range(4) for col in range(250)]
    effect = state.apply(
        LogEntry(1, "u1", "c1", 1, {"kind": "stroke", "frame": "f0", "cells": cells})
    )
    assert len(effect.cells) == 1000
    assert state.snapshot()["frames"][0]["base"]["rows"][0] == "x" * 300
    assert len(state.snapshot()["frames"][0]["cells"]) == 1000


def test_frames_with_equal_keys_are_ordered_by_id() -> None:
    log = Log(small_state())
    log.add({"kind": "frame_add", "id": "b", "key": "a0V", "duration_ms": 1})
    log.add({"kind": "frame_add", "id": "a", "key": "a0V", "duration_ms": 1})  # same key
    assert [f.id for f in log.state.frames()] == ["f0", "a", "b", "f1"]
    assert [f.duration_ms for f in log.state.to_document(fps=10).frames] == [100, 1, 1, 120]


def test_limits_travel_with_the_state() -> None:
    state = small_state()
    assert state.limits == SMALL
    assert EditState.from_snapshot(state.snapshot()).limits == SMALL
    assert SMALL.document_limits() == DocumentLimits(
        max_frames=4, max_width=8, max_height=6, max_chars=400
    )
    assert (
        EditLimits.from_document_limits(DocumentLimits(), max_cells_per_op=7).max_cells_per_op == 7
    )


def test_the_oldest_client_is_forgotten_past_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    import asciihub.services.collab._state as state_module

    monkeypatch.setattr(state_module, "MAX_TRACKED_CLIENTS", 2)
    state = small_state()
    op = {"kind": "frame_update", "id": "f0", "duration_ms": 5}
    for seq, client in enumerate(["c1", "c2", "c3"], start=1):
        state.apply(LogEntry(seq, "u1", client, 1, op))
    assert [state.last_op_id(c) for c in ("c1", "c2", "c3")] == [None, 1, 1]


def test_background_colours_of_a_document_survive_the_room() -> None:
    backgrounds = base64.b64encode(bytes.fromhex("0102030405060708090a0b0c")).decode()
    source = build_document([{"text": "ab\ncd", "backgrounds": backgrounds}])
    state = EditState.from_document(source, limits=SMALL)
    register = state.cell("f0", 1, 0)
    assert register is not None and register.bg == "#070809"
    assert state.to_document(fps=source.fps).frames[0].backgrounds == source.frames[0].backgrounds
