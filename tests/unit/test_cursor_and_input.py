"""Cursors, ids and artwork request checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asciihub.engine.document import DocumentLimits
from asciihub.errors import InvalidInput
from asciihub.services.artwork_input import InputLimits, parse_create, parse_patch
from asciihub.services.cursor import decode_cursor, encode_cursor
from asciihub.services.ids import is_valid_id, new_id, new_secret
from asciihub.storage.metadata.protocol import ArtworkRow

LIMITS = InputLimits(document=DocumentLimits())


def _row(**changes: object) -> ArtworkRow:
    base = dict(
        id=new_id(),
        user_id="u",
        title=None,
        prompt=None,
        r2_key="k",
        visibility="public",
        views=3,
        created_at=datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
        updated_at=datetime(2026, 1, 2, tzinfo=UTC),
        width=1,
        height=1,
        frame_count=1,
        fps=10.0,
        duration_ms=100,
        etag="e",
        sha256="s" * 64,
        size=1,
    )
    base.update(changes)
    return ArtworkRow(**base)  # type: ignore[arg-type]


def test_ids_are_128_bit_and_unique() -> None:
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(is_valid_id(i) and len(i) == 22 for i in ids)
    assert len(new_secret()) >= 43


def test_ids_never_start_with_a_dash() -> None:
    # A leading "-" makes a command line read the id as an option; about one random
    # draw in 64 has one, so 5,000 ids without the rule would show it.
    ids = [new_id() for _ in range(5000)]
    assert not [i for i in ids if i.startswith("-")]
    assert {i[0] for i in ids} >= {"_", "A", "z", "0"}


def test_cursor_round_trip() -> None:
    row = _row()
    keyset = decode_cursor(encode_cursor(row, "popular"), "popular")
    assert (keyset.created_at, keyset.id, keyset.views) == (row.created_at, row.id, 3)


def test_cursor_for_another_sort_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        decode_cursor(encode_cursor(_row(), "new"), "popular")
    assert info.value.code == "invalid_cursor"


@given(st.text(max_size=600))
def test_garbage_cursors_are_refused_cleanly(cursor: str) -> None:
    with pytest.raises(InvalidInput) as info:
        decode_cursor(cursor, "new")
    assert info.value.code == "invalid_cursor"


def test_create_defaults_and_tags() -> None:
    data = parse_create(
        {"title": " Cat ", "tags": ["Cats", "#cats", "ascii-art"], "frames": [{"text": "=^.^="}]},
        LIMITS,
    )
    assert data.title == "Cat"
    assert data.visibility == "private"
    assert data.tags == ("cats", "ascii-art")
    assert data.document is not None and data.document.width == 5


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"frames": [{"text": "a"}], "owner": "x"}, "unknown_field"),
        ({"title": "a"}, "missing_field"),
        ({"frames": [{"text": "a"}], "visibility": "secret"}, "invalid_input"),
        ({"frames": [{"text": "a"}], "title": "a\nb"}, "invalid_input"),
        ({"frames": [{"text": "a"}], "title": "x" * 201}, "too_long"),
        ({"frames": [{"text": "a"}], "tags": ["bad tag"]}, "invalid_tag"),
        ({"frames": [{"text": "a"}], "tags": [f"t{i}" for i in range(21)]}, "too_many_tags"),
        ({"frames": [{"text": "a"}], "title": 5}, "invalid_input"),
        ([1, 2], "invalid_input"),
    ],
)
def test_bad_create_requests(payload: object, code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_create(payload, LIMITS)
    assert info.value.code == code


def test_patch_rules() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_patch({}, LIMITS)
    assert info.value.code == "empty_patch"
    with pytest.raises(InvalidInput):
        parse_patch({"fps": 5}, LIMITS)
    cleared = parse_patch({"title": None, "tags": None}, LIMITS)
    assert cleared.clear_title and cleared.tags == ()
    assert parse_patch({"visibility": "public"}, LIMITS).document is None
