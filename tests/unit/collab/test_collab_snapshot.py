"""Snapshots: versioned JSON that round-trips exactly and is read as untrusted input."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from collab_support import Log, small_state
from hypothesis import given, settings
from hypothesis import strategies as st

from asciihub.errors import InvalidInput
from asciihub.services.collab import EditState, LogEntry


def _busy_state() -> EditState:
    """A state with every kind of register, a tombstone, clipped cells and undo stacks."""
    log = Log(small_state())
    log.add({"kind": "stroke", "frame": "f0", "cells": [[0, 0, "X", "#ff0000", "#000001"]]}, "u1")
    log.add({"kind": "frame_add", "id": "n1", "key": "a0V", "duration_ms": 7, "text": "hey"}, "u2")
    log.add({"kind": "frame_add", "id": "n2", "key": "a3", "duration_ms": 8, "copy_of": "f1"}, "u2")
    log.add({"kind": "stroke", "frame": "n2", "cells": [[2, 4, "z", None, None]]}, "u1")
    log.add({"kind": "frame_update", "id": "n1", "deleted": True}, "u1")
    log.add({"kind": "resize", "width": 3, "height": 2}, "u2")
    log.add({"kind": "undo"}, "u1")
    log.add({"kind": "stroke", "frame": "f0", "cells": [[1, 1, "é", None, None]]}, "u3")
    return log.state


def test_snapshot_round_trips_exactly_through_json() -> None:
    state = _busy_state()
    snapshot = state.snapshot()
    assert snapshot["version"] == 1 and snapshot["seq"] == 8
    text = json.dumps(snapshot)
    again = EditState.from_snapshot(json.loads(text))
    assert json.dumps(again.snapshot()) == text
    assert again.digest() == state.digest()
    assert again.seq == state.seq
    assert again.to_document(fps=5) == state.to_document(fps=5)
    # Undo stacks and de-duplication survive too.
    op = {"kind": "undo"}
    assert (
        again.apply(LogEntry(9, "u2", "c-u2", 9, op)).to_json()
        == state.apply(LogEntry(9, "u2", "c-u2", 9, op)).to_json()
    )
    assert again.apply(LogEntry(10, "u1", "c-u1", 1, op)).kind == "duplicate"


def _set(path: list[Any], value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


BAD = [
    _set(["version"], 2),
    _set(["seq"], -1),
    _set(["seq"], 1),  # registers were written after seq 1
    _set(["limits", "max_width"], 0),
    _set(["width"], [0, "", 0]),
    _set(["width"], [9, "", 0]),  # over max_width 8
    _set(["height"], ["3", "", 0]),
    _set(["frames"], []),
    _set(["frames", 0, "id"], "bad id"),
    _set(["frames", 0, "key"], ["a00", "", 0]),
    _set(["frames", 0, "duration_ms"], [0, "", 0]),
    _set(["frames", 0, "duration_ms"], [600_001, "", 0]),
    _set(["frames", 0, "deleted"], [1, "", 0]),
    _set(["frames", 0, "base", "rows", 0], "ab\x1bde"),
    _set(["frames", 0, "base", "rows", 0], "abc"),
    _set(["frames", 0, "base", "cols"], 9),
    _set(["frames", 1, "base", "fg"], "AAAA"),
    _set(["frames", 1, "base", "fg"], "***"),
    _set(["frames", 0, "cells", 0], [0, 0, "XY", None, None, "u1", 1]),
    _set(["frames", 0, "cells", 0], [0, 8, "X", None, None, "u1", 1]),
    _set(["frames", 0, "cells", 0], [0, 0, "X", "#GGGGGG", None, "u1", 1]),
    _set(["frames", 0, "cells", 1], [0, 0, "X", None, None, "u1", 1]),  # a repeated cell
    _set(["clients"], [["c1", 1, 1], ["c1", 2, 2]]),
    _set(["clients", 0], ["c1", "one", 1]),
    _set(["stacks", 0, 1, "undo", 0, 0], ["q", "f0"]),
    _set(["stacks", 0, 1, "undo", 0, 0], ["f", "f0", "title", ["x", "", 0], 1]),
    _set(["stacks", 0, 1, "undo"], [[["p", "width", [3, "", 0], 1]]] * 5),  # deeper than 4
    _set(["stacks", 0, 1, "redo"], [[]]),
    lambda data: data.pop("stacks"),
    lambda data: data.update(extra=True),
    lambda data: data["frames"].append(copy.deepcopy(data["frames"][0])),
    lambda data: [frame.update(deleted=[True, "", 0]) for frame in data["frames"]],
]


@pytest.mark.parametrize("change", BAD)
def test_malformed_snapshots_are_refused(change: Any) -> None:
    data = json.loads(json.dumps(_busy_state().snapshot()))
    change(data)
    with pytest.raises(InvalidInput) as caught:
        EditState.from_snapshot(data)
    assert caught.value.code == "invalid_snapshot"
    assert caught.value.message.startswith("snapshot ")


@pytest.mark.parametrize("data", [None, [], "x", {"version": 1}, {"version": "1"}])
def test_non_snapshots_are_refused(data: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        EditState.from_snapshot(data)
    assert caught.value.code == "invalid_snapshot"


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 10),
    st.just(10**9),
    st.text(max_size=4),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_BASE = json.loads(json.dumps(_busy_state().snapshot()))
_ALL_PATHS = _paths(_BASE)


@settings(max_examples=200)
@given(st.sampled_from(_ALL_PATHS), _VALUES, st.booleans())
def test_any_mutation_is_refused_or_gives_a_working_state(
    path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    data = copy.deepcopy(_BASE)
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    try:
        state = EditState.from_snapshot(data)
    except InvalidInput as error:
        code = error.code
        assert code == "invalid_snapshot"
        return
    snapshot = state.snapshot()
    assert EditState.from_snapshot(json.loads(json.dumps(snapshot))).snapshot() == snapshot
    state.to_document(fps=10)
    state.digest()
    for frame in state.frames(include_deleted=True):
        op = {"kind": "stroke", "frame": frame.id, "cells": [[0, 0, "s", None, None]]}
        state.apply(LogEntry(state.seq + 1, "u9", "fresh", state.seq + 1, op))
    state.to_document(fps=10)
    for user in ("u1", "u2", "u3"):
        state.apply(LogEntry(state.seq + 1, user, f"fresh-{user}", 1, {"kind": "undo"}))
        state.apply(LogEntry(state.seq + 1, user, f"fresh-{user}", 2, {"kind": "redo"}))
