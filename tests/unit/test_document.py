"""The artwork document: normalisation, limits and refusals."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asciihub.engine.document import (
    FORMAT_TAG,
    DocumentLimits,
    build_document,
    parse_document,
)
from asciihub.errors import InvalidInput, TooLarge


def test_ragged_lines_are_padded_to_the_widest() -> None:
    doc = build_document([{"text": "ab\nabcd\n"}, {"text": "x"}])
    assert (doc.width, doc.height) == (4, 2)
    assert doc.frames[0].text == "ab  \nabcd"
    assert doc.frames[1].text == "x   \n    "


def test_duration_defaults_from_fps() -> None:
    doc = build_document([{"text": "a"}], fps=4)
    assert doc.frames[0].duration_ms == 250
    assert doc.fps == 4.0


def test_crlf_is_folded() -> None:
    assert build_document([{"text": "a\r\nb"}]).frames[0].text == "a\nb"


@pytest.mark.parametrize("char", ["\x1b", "\t", "\x00", "\x7f", "\u202e", "\x85", "\r"])
def test_control_characters_are_refused(char: str) -> None:
    with pytest.raises(InvalidInput) as info:
        build_document([{"text": f"ok{char}ok"}])
    assert info.value.code == "control_character"
    assert "frames[0].text" in info.value.message


def test_explicit_size_pads_and_must_fit() -> None:
    doc = build_document([{"text": "ab"}], width=5, height=3)
    assert doc.frames[0].text.split("\n") == ["ab   ", "     ", "     "]
    with pytest.raises(InvalidInput):
        build_document([{"text": "abcdef"}], width=3)


def test_limits_are_enforced() -> None:
    limits = DocumentLimits(max_frames=2, max_width=10, max_height=2, max_chars=1000)
    with pytest.raises(TooLarge):
        build_document([{"text": "a"}] * 3, limits=limits)
    with pytest.raises(TooLarge):
        build_document([{"text": "x" * 11}], limits=limits)
    with pytest.raises(TooLarge):
        build_document([{"text": "a\nb\nc"}], limits=limits)


def test_colors_must_match_the_grid() -> None:
    good = base64.b64encode(bytes(range(6))).decode()
    doc = build_document([{"text": "ab", "colors": good}])
    assert doc.frames[0].colors == bytes(range(6))
    with pytest.raises(InvalidInput):
        build_document([{"text": "abc", "colors": good}])
    with pytest.raises(InvalidInput):
        build_document([{"text": "ab", "colors": "not base64!"}])


@pytest.mark.parametrize(
    "frames",
    [None, [], "text", [{"text": 3}], [{"no": "text"}], [{"text": "a", "extra": 1}]],
)
def test_malformed_frames_are_refused(frames: object) -> None:
    with pytest.raises(InvalidInput):
        build_document(frames)


@pytest.mark.parametrize("duration", [0, -5, 10**9, "10", True, float("nan")])
def test_bad_durations_are_refused(duration: object) -> None:
    with pytest.raises(InvalidInput):
        build_document([{"text": "a", "duration_ms": duration}])


def test_round_trip_through_json() -> None:
    doc = build_document([{"text": "ab\ncd", "duration_ms": 40}, {"text": "x"}], fps=12)
    data = doc.to_json()
    assert data["format"] == FORMAT_TAG and data["version"] == 2
    assert parse_document(data) == doc


def test_parse_refuses_other_formats_and_versions() -> None:
    data = build_document([{"text": "a"}]).to_json()
    with pytest.raises(InvalidInput):
        parse_document({**data, "format": "other"})
    with pytest.raises(InvalidInput) as info:
        parse_document({**data, "version": 99})
    assert info.value.code == "unsupported_version"


printable = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf")), max_size=30)


@given(st.lists(st.lists(printable, min_size=1, max_size=6), min_size=1, max_size=4))
def test_every_frame_is_a_full_grid(frames: list[list[str]]) -> None:
    doc = build_document([{"text": "\n".join(lines)} for lines in frames])
    for frame in doc.frames:
        lines = frame.text.split("\n")
        assert len(lines) == doc.height
        assert all(len(line) == doc.width for line in lines)
    for lines, frame in zip(frames, doc.frames, strict=True):
        for given_line, stored in zip(lines, frame.text.split("\n"), strict=False):
            assert stored.rstrip(" ") == given_line.rstrip(" ")


@given(st.text(max_size=40))
def test_text_check_never_crashes(text: str) -> None:
    try:
        doc = build_document([{"text": text}])
    except (InvalidInput, TooLarge):
        return
    assert "\x1b" not in doc.frames[0].text
