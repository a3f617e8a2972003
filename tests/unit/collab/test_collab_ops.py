"""validate_op: structure, sizes and codes; and the JSON of entries and effects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asciihub.errors import InvalidInput
from asciihub.services.collab import (
    CellChange,
    EditLimits,
    Effect,
    FrameChange,
    LogEntry,
    validate_op,
)

LIMITS = EditLimits(max_width=10, max_height=5, max_frames=3, max_cells_per_op=3, max_text_chars=40)


def test_valid_ops_come_back_normalised() -> None:
    stroke = {"kind": "stroke", "frame": "f0", "cells": [[0, 9, "é", "#FFaa00", None]]}
    assert validate_op(stroke, limits=LIMITS)["cells"] == [[0, 9, "é", "#ffaa00", None]]
    add = {
        "kind": "frame_add",
        "id": "k-1_x",
        "key": "a1",
        "duration_ms": 99.6,
        "text": "ab\r\ncd\n",
    }
    assert validate_op(add, limits=LIMITS) == {
        "kind": "frame_add",
        "id": "k-1_x",
        "key": "a1",
        "duration_ms": 100,
        "text": "ab\ncd\n",
    }
    copy = {"kind": "frame_add", "id": "k2", "key": "a2", "duration_ms": 5, "copy_of": "f0"}
    assert validate_op(copy, limits=LIMITS) == copy
    update = {"kind": "frame_update", "id": "f0", "deleted": True, "key": "Zz"}
    assert validate_op(update, limits=LIMITS) == update
    assert validate_op({"kind": "resize", "width": 10, "height": 5}, limits=LIMITS)["width"] == 10
    assert validate_op({"kind": "undo"}, limits=LIMITS) == {"kind": "undo"}
    assert validate_op({"kind": "redo"}, limits=LIMITS) == {"kind": "redo"}


def _stroke(*cells: Any) -> dict[str, Any]:
    return {"kind": "stroke", "frame": "f0", "cells": list(cells)}


@pytest.mark.parametrize(
    ("op", "code", "words"),
    [
        ("stroke", "invalid_op", "JSON object"),
        ({"frame": "f0"}, "unknown_op_kind", "one of"),
        ({"kind": "paint"}, "unknown_op_kind", "stroke, frame_add"),
        ({"kind": "stroke", "frame": "f0"}, "invalid_op", "missing cells"),
        ({"kind": "undo", "all": True}, "invalid_op", "unknown fields: all"),
        (_stroke(), "invalid_op", "non-empty"),
        (_stroke(*[[0, 0, "a", None, None]] * 4), "too_many_cells", "limit is 3"),
        (_stroke([0, 0, "a", None]), "invalid_op", "[row, col, ch, fg, bg]"),
        (_stroke([5, 0, "a", None, None]), "size_out_of_range", "0 to 4"),
        (_stroke([0, 10, "a", None, None]), "size_out_of_range", "0 to 9"),
        (_stroke([0, -1, "a", None, None]), "size_out_of_range", "col"),
        (_stroke([True, 0, "a", None, None]), "size_out_of_range", "row"),
        (_stroke([0, 0, "ab", None, None]), "invalid_character", "exactly one"),
        (_stroke([0, 0, "\n", None, None]), "invalid_character", "printable"),
        (_stroke([0, 0, "\x1b", None, None]), "control_character", "U+001B"),
        (_stroke([0, 0, "\u202e", None, None]), "control_character", "control"),
        (_stroke([0, 0, "a", "red", None]), "invalid_color", "#rrggbb"),
        (_stroke([0, 0, "a", None, "#12345"]), "invalid_color", "bg"),
        (
            {"kind": "stroke", "frame": "f 0", "cells": [[0, 0, "a", None, None]]},
            "invalid_frame_id",
            "frame id",
        ),
        (
            {"kind": "frame_add", "id": "x" * 65, "key": "a1", "duration_ms": 1},
            "invalid_frame_id",
            "64",
        ),
        (
            {"kind": "frame_add", "id": "x", "key": "a10", "duration_ms": 1},
            "invalid_order_key",
            "end in 0",
        ),
        (
            {"kind": "frame_add", "id": "x", "key": 3, "duration_ms": 1},
            "invalid_order_key",
            "string",
        ),
        (
            {"kind": "frame_add", "id": "x", "key": "a1", "duration_ms": 0},
            "invalid_op",
            "1 to 600000",
        ),
        (
            {"kind": "frame_add", "id": "x", "key": "a1", "duration_ms": True},
            "invalid_op",
            "milliseconds",
        ),
        (
            {
                "kind": "frame_add",
                "id": "x",
                "key": "a1",
                "duration_ms": 9,
                "text": "a",
                "copy_of": "f0",
            },
            "invalid_op",
            "not both",
        ),
        (
            {"kind": "frame_add", "id": "x", "key": "a1", "duration_ms": 9, "text": "a" * 41},
            "text_too_long",
            "limit is 40",
        ),
        (
            {"kind": "frame_add", "id": "x", "key": "a1", "duration_ms": 9, "text": "a\n" * 6},
            "text_too_long",
            "6 lines",
        ),
        (
            {"kind": "frame_add", "id": "x", "key": "a1", "duration_ms": 9, "text": "a" * 11},
            "text_too_long",
            "11 characters",
        ),
        (
            {"kind": "frame_add", "id": "x", "key": "a1", "duration_ms": 9, "text": "a\tb"},
            "control_character",
            "U+0009",
        ),
        (
            {"kind": "frame_add", "id": "x", "key": "a1", "duration_ms": 9, "text": 5},
            "invalid_op",
            "string",
        ),
        ({"kind": "frame_update", "id": "f0"}, "invalid_op", "at least one"),
        ({"kind": "frame_update", "id": "f0", "deleted": 1}, "invalid_op", "true or false"),
        ({"kind": "resize", "width": 11, "height": 5}, "size_out_of_range", "1 to 10"),
        ({"kind": "resize", "width": 10, "height": 0}, "size_out_of_range", "1 to 5"),
        ({"kind": "resize", "width": 2.0, "height": 2}, "size_out_of_range", "whole number"),
    ],
)
def test_bad_ops_are_refused_with_a_code_and_the_limit(op: Any, code: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_op(op, limits=LIMITS)
    assert caught.value.code == code
    assert words in caught.value.message


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 12)
    | st.floats(allow_nan=True)
    | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
_KINDS = st.sampled_from(["stroke", "frame_add", "frame_update", "resize", "undo", "redo"])
_FIELD_NAMES = st.sampled_from(
    ["frame", "cells", "id", "key", "duration_ms", "text", "copy_of", "deleted", "width", "height"]
)


@settings(max_examples=100)
@given(
    _JSON
    | st.fixed_dictionaries({"kind": _KINDS}, optional={}).flatmap(
        lambda base: st.dictionaries(_FIELD_NAMES, _JSON, max_size=4).map(
            lambda extra: {**extra, **base}
        )
    )
)
def test_any_json_is_accepted_or_refused_with_invalid_input(raw: Any) -> None:
    try:
        op = validate_op(raw, limits=LIMITS)
    except InvalidInput:
        return
    assert validate_op(op, limits=LIMITS) == op  # normalising twice changes nothing
    json.dumps(op)


def test_effect_and_entry_json_round_trip() -> None:
    effect = Effect(
        seq=3,
        user_id="u1",
        client_id="c1",
        op_id=7,
        kind="frame_add",
        cells=[CellChange("k1", 0, 2, "x", "#ff0000", None)],
        frames=[FrameChange("k1", "a1", 100, False)],
        props={"width": 4},
    )
    data = json.loads(json.dumps(effect.to_json()))
    assert data["cells"] == [["k1", 0, 2, "x", "#ff0000", None]]
    assert "reason" not in data
    assert Effect.from_json(data) == effect
    noop = Effect(4, "u1", "c1", 8, "noop", reason="unknown_frame")
    assert Effect.from_json(noop.to_json()) == noop
    entry = LogEntry(5, "u1", "c1", 9, {"kind": "undo"})
    assert LogEntry.from_json(json.loads(json.dumps(entry.to_json()))) == entry


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("seq"),
        lambda d: d.update(seq=0),
        lambda d: d.update(kind="paint"),
        lambda d: d.update(extra=1),
        lambda d: d.update(cells=[["k1", 0, 2, "xy", None, None]]),
        lambda d: d.update(cells=[["k1", -1, 2, "x", None, None]]),
        lambda d: d.update(frames=[{"id": "k1", "key": "a1", "duration_ms": 0, "deleted": False}]),
        lambda d: d.update(props={"depth": 3}),
        lambda d: d.update(props={"width": 0}),
        lambda d: d.update(user_id=""),
        lambda d: d.update(reason=5),
    ],
)
def test_malformed_effects_are_refused(change: Any) -> None:
    data = Effect(
        3, "u1", "c1", 7, "stroke", cells=[CellChange("k1", 0, 2, "x", None, None)]
    ).to_json()
    change(data)
    with pytest.raises(InvalidInput) as caught:
        Effect.from_json(data)
    assert caught.value.code == "invalid_effect"


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"seq": 1, "user_id": "u", "client_id": "c", "op_id": 1},
        {"seq": 0, "user_id": "u", "client_id": "c", "op_id": 1, "op": {}},
        {"seq": 1, "user_id": "u", "client_id": "c", "op_id": -1, "op": {}},
        {"seq": 1, "user_id": 3, "client_id": "c", "op_id": 1, "op": {}},
        {"seq": 1, "user_id": "u", "client_id": "c", "op_id": 1, "op": []},
    ],
)
def test_malformed_entries_are_refused(data: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        LogEntry.from_json(data)
    assert caught.value.code == "invalid_entry"


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(InvalidInput):
        EditLimits(max_width=0)
    assert EditLimits.from_json(LIMITS.to_json()) == LIMITS
    with pytest.raises(InvalidInput):
        EditLimits.from_json({**LIMITS.to_json(), "max_width": "9"})


@settings(max_examples=40)
@given(st.lists(_JSON, min_size=1, max_size=4))
def test_apply_is_total_for_any_op(ops: list[Any]) -> None:
    """Whatever a log holds, applying it gives an effect, never an exception."""
    from collab_support import small_state

    state = small_state()
    for seq, op in enumerate(ops, start=1):
        effect = state.apply(LogEntry(seq, "u1", "c1", seq, op))
        assert effect.kind == "noop" or validate_op(op, limits=state.limits)["kind"] == effect.kind
    state.to_document(fps=10)
