"""Per-user undo and redo: only the user's own writes that are still there."""

from __future__ import annotations

from typing import Any

from collab_support import SMALL, Log, ops_for, small_document, small_state, text_of
from hypothesis import given, settings
from hypothesis import strategies as st

from asciihub.services.collab import EditLimits, EditState


def _stroke(*cells: tuple[int, int, str]) -> dict[str, Any]:
    return {
        "kind": "stroke",
        "frame": "f0",
        "cells": [[r, c, ch, None, None] for r, c, ch in cells],
    }


def test_undo_restores_a_stroke_and_redo_brings_it_back() -> None:
    log = Log(small_state())
    log.add(_stroke((0, 0, "X"), (0, 1, "Y")), "u1")
    undo = log.add({"kind": "undo"}, "u1")
    assert undo.kind == "undo"
    assert [(c.col, c.ch) for c in undo.cells] == [(0, "a"), (1, "b")]
    assert text_of(log.state, "f0").startswith("abcde")
    register = log.state.cell("f0", 0, 0)
    assert register is not None and (register.user, register.seq) == ("", 0)
    redo = log.add({"kind": "redo"}, "u1")
    assert [(c.col, c.ch) for c in redo.cells] == [(0, "X"), (1, "Y")]
    assert log.add({"kind": "redo"}, "u1").reason == "nothing_to_redo"


def test_undo_never_touches_another_users_later_work() -> None:
    log = Log(small_state())
    log.add(_stroke((0, 0, "X"), (0, 1, "Y")), "u1")
    log.add(_stroke((0, 1, "Z")), "u2")
    undo = log.add({"kind": "undo"}, "u1")
    assert [(c.col, c.ch) for c in undo.cells] == [(0, "a")]
    assert text_of(log.state, "f0").startswith("aZcde")
    # u2 writes (0, 0) after the undo; u1's redo leaves it alone.
    log.add(_stroke((0, 0, "W")), "u2")
    redo = log.add({"kind": "redo"}, "u1")
    assert (redo.kind, redo.reason) == ("noop", "nothing_to_redo")
    assert text_of(log.state, "f0").startswith("WZcde")


def test_undo_is_per_user_across_tabs() -> None:
    log = Log(small_state())
    log.add(_stroke((0, 0, "X")), "u1", client="tab-a")
    log.add(_stroke((1, 0, "Y")), "u2")
    log.add(_stroke((2, 0, "Z")), "u1", client="tab-b")
    log.add({"kind": "undo"}, "u1", client="tab-a")  # undoes tab-b's stroke: same user
    assert text_of(log.state, "f0") == "Xbcde\nYghij\nklmno"
    log.add({"kind": "undo"}, "u1", client="tab-b")
    assert text_of(log.state, "f0") == "abcde\nYghij\nklmno"
    assert log.add({"kind": "undo"}, "u1").reason == "nothing_to_undo"
    assert log.add({"kind": "undo"}, "nobody").reason == "nothing_to_undo"


def test_a_new_edit_clears_redo_and_fully_overwritten_entries_are_skipped() -> None:
    log = Log(small_state())
    log.add(_stroke((0, 0, "1")), "u1")
    log.add(_stroke((0, 1, "2")), "u1")
    log.add({"kind": "undo"}, "u1")
    log.add(_stroke((0, 2, "3")), "u1")
    assert log.add({"kind": "redo"}, "u1").reason == "nothing_to_redo"
    log.add(_stroke((0, 0, "B")), "u2")  # covers u1's first stroke completely
    log.add({"kind": "undo"}, "u1")  # undoes "3"
    skipped = log.add({"kind": "undo"}, "u1")  # "1" is gone under u2's B: nothing to do
    assert (skipped.kind, skipped.reason) == ("noop", "nothing_to_undo")
    assert text_of(log.state, "f0").startswith("Bbcde")


def test_undo_redo_n_times_returns_to_the_state_before() -> None:
    log = Log(small_state())
    for n in range(4):
        log.add(_stroke((n % 3, n, str(n))), "u1")
        log.add(_stroke((2, n, "o")), "u2")
    before = log.state.digest()
    for _ in range(3):
        log.add({"kind": "undo"}, "u1")
    assert log.state.digest() != before
    for _ in range(3):
        log.add({"kind": "redo"}, "u1")
    assert log.state.digest() == before


def test_undo_depth_is_bounded() -> None:
    log = Log(small_state())
    for n in range(SMALL.max_undo_depth + 2):
        log.add(_stroke((0, n % 5, str(n))), "u1")
    stacks = log.state.snapshot()["stacks"]
    assert stacks[0][0] == "u1" and len(stacks[0][1]["undo"]) == SMALL.max_undo_depth
    for _ in range(SMALL.max_undo_depth):
        assert log.add({"kind": "undo"}, "u1").kind == "undo"
    assert log.add({"kind": "undo"}, "u1").reason == "nothing_to_undo"


def test_frame_ops_and_resize_are_undoable() -> None:
    log = Log(small_state())
    log.add({"kind": "frame_add", "id": "n1", "key": "a2", "duration_ms": 10, "text": "new"}, "u1")
    undone = log.add({"kind": "undo"}, "u1")
    assert [f.to_json() for f in undone.frames] == [
        {"id": "n1", "key": "a2", "duration_ms": 10, "deleted": True}
    ]
    assert [f.id for f in log.state.frames()] == ["f0", "f1"]
    log.add({"kind": "redo"}, "u1")
    assert text_of(log.state, "n1").startswith("new")
    log.add({"kind": "frame_update", "id": "f0", "deleted": True, "key": "a3"}, "u2")
    log.add({"kind": "frame_update", "id": "f0", "duration_ms": 999}, "u1")  # u1's later work
    back = log.add({"kind": "undo"}, "u2")
    assert back.frames[0].to_json() == {
        "id": "f0",
        "key": "a0",
        "duration_ms": 999,
        "deleted": False,
    }
    log.add({"kind": "resize", "width": 2, "height": 2}, "u2")
    log.add({"kind": "resize", "width": 3, "height": 2}, "u1")
    resize = log.add({"kind": "undo"}, "u2")  # u1 changed the width since: only height returns
    assert resize.props == {"height": 3}
    assert (log.state.width, log.state.height) == (3, 3)


def test_undo_keeps_the_last_frame_and_the_frame_limit() -> None:
    state = EditState.from_document(
        small_document(), limits=EditLimits(max_width=8, max_height=6, max_frames=2)
    )
    log = Log(state)
    log.add({"kind": "frame_update", "id": "f0", "deleted": True}, "u1")
    log.add({"kind": "frame_add", "id": "n1", "key": "a5", "duration_ms": 10}, "u2")
    # Bringing f0 back would make three live frames: nothing u1 can undo.
    assert log.add({"kind": "undo"}, "u1").reason == "nothing_to_undo"
    log.add({"kind": "frame_update", "id": "n1", "deleted": True}, "u2")
    log.add({"kind": "frame_update", "id": "f1", "deleted": True}, "u2")  # refused: last frame
    assert [f.id for f in log.state.frames()] == ["f1"]
    # Undoing u2's frame_add would delete n1, which is already deleted by u2: the
    # newest entry (n1's delete) is undone first and brings n1 back.
    assert log.add({"kind": "undo"}, "u2").frames[0].deleted is False


@settings(max_examples=30)
@given(st.data())
def test_undo_all_then_redo_all_is_the_identity_for_one_user(data: Any) -> None:
    """With no one else editing in between, n undos then n redos change nothing."""
    log = Log(small_state())
    for _ in range(data.draw(st.integers(1, 12))):
        op = data.draw(ops_for(log.state, tag="x"))
        if op["kind"] not in ("undo", "redo"):
            log.add(op, data.draw(st.sampled_from(["u1", "u2"])))
    before = log.state.digest()
    undos = 0
    while log.add({"kind": "undo"}, "u1").kind == "undo":
        undos += 1
    for _ in range(undos):
        assert log.add({"kind": "redo"}, "u1").kind == "redo"
    assert log.state.digest() == before
