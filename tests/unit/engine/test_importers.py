"""Importing asciicast recordings, text and ANSI art (pure engine functions)."""

from __future__ import annotations

import base64
import json
import os
import pty
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import service_missing

from asciihub.engine.ansi_import import read_text_art, strip_sauce
from asciihub.engine.cast_import import read_cast
from asciihub.engine.document import DocumentLimits, build_document
from asciihub.errors import InvalidInput, TooLarge
from asciihub.render.asciicast import cast_bytes

printable = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=6)


@settings(max_examples=60, deadline=None)
@given(
    frames=st.lists(
        st.tuples(
            st.lists(printable, min_size=1, max_size=4),
            st.integers(min_value=1, max_value=2500),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_an_asciicast_export_imports_back_frame_for_frame(frames: list) -> None:
    raw = [{"text": "\n".join(lines), "duration_ms": ms} for lines, ms, _ in frames]
    width = max(max(len(line) for line in lines) for lines, _, _ in frames) or 1
    height = max(len(lines) for lines, _, _ in frames)
    for item, (_, _, coloured) in zip(raw, frames, strict=True):
        if coloured:
            item["colors"] = base64.b64encode(bytes(range(256)) * 200)[
                : (width * height * 3 + 2) // 3 * 4
            ].decode()
            cells = base64.b64decode(item["colors"])[: width * height * 3]
            item["colors"] = base64.b64encode(cells).decode()
    document = build_document(raw, width=max(width, 1), height=height)
    recording = read_cast(cast_bytes(document, title="T").decode(), idle_limit=10.0)
    expected = []
    for frame in document.frames:  # equal neighbours merge, as the importer does
        if expected and expected[-1][0] == frame.text and expected[-1][2] == frame.colors:
            expected[-1] = (frame.text, expected[-1][1] + frame.duration_ms, frame.colors)
        else:
            expected.append((frame.text, frame.duration_ms, frame.colors))
    got = [(f.text, f.duration_ms, f.colors) for f in recording.frames]
    assert got == expected
    assert (recording.width, recording.height, recording.title) == (
        document.width,
        document.height,
        "T",
    )


def test_v3_intervals_markers_comments_and_idle_cap() -> None:
    lines = [
        json.dumps({"version": 3, "term": {"cols": 5, "rows": 2}, "idle_time_limit": 2}),
        "# a comment",
        json.dumps([0.5, "o", "\x1b[32mab"]),
        json.dumps([0.25, "m", "chapter"]),
        json.dumps([0.25, "o", "\x1b[0mc"]),
        json.dumps([30.0, "o", "\r\nxy"]),  # a 30 s pause, capped to the header's 2 s
        json.dumps([1.0, "x", "0"]),
    ]
    recording = read_cast("\n".join(lines), idle_limit=5.0)
    assert [f.text for f in recording.frames] == ["ab   \n     ", "abc  \n     ", "abc  \nxy   "]
    assert [f.duration_ms for f in recording.frames] == [500, 2000, 1000]
    green = recording.frames[0].colors
    assert green is not None and green[:3] == bytes((0, 0xCD, 0)) and green[6:9] != green[:3]


def test_cast_refusals() -> None:
    with pytest.raises(InvalidInput, match="version 2 and 3"):
        read_cast('{"version": 1, "width": 2, "height": 2}')
    with pytest.raises(InvalidInput, match="JSON header"):
        read_cast("not json")
    with pytest.raises(TooLarge, match="limit is 500"):
        read_cast('{"version": 2, "width": 9000, "height": 2}')
    with pytest.raises(InvalidInput, match="no output"):
        read_cast('{"version": 2, "width": 2, "height": 2}\n[0.1, "i", "x"]')
    many = ['{"version": 2, "width": 3, "height": 1}'] + [
        json.dumps([i * 0.1, "o", f"\r{i % 1000:03d}"]) for i in range(20)
    ]
    with pytest.raises(TooLarge, match="more than 10 frames"):
        read_cast("\n".join(many), limits=DocumentLimits(max_frames=10))


def test_a_real_asciinema_recording_imports(tmp_path: Path) -> None:
    if shutil.which("asciinema") is None:
        service_missing("the asciinema CLI is missing (scripts/test.sh installs it)")
    home = tmp_path / "home"
    home.mkdir()
    cast = tmp_path / "rec.cast"
    command = "printf '\\033[31mred\\033[0m plain\\r\\nline two\\r\\n'"
    env = {**os.environ, "HOME": str(home), "SHELL": "/bin/sh", "TERM": "xterm-256color"}
    env.pop("ASCIINEMA_REC", None)
    done = subprocess.run(
        ["asciinema", "rec", "-q", "-c", command, "--overwrite", str(cast)],
        env=env,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    recording = read_cast(cast.read_text())
    last = recording.frames[-1]
    lines = last.text.split("\n")
    assert lines[0].rstrip() == "red plain"
    assert lines[1].rstrip() == "line two"
    assert (recording.width, recording.height) == (len(lines[0]), len(lines))
    assert last.colors is not None
    assert last.colors[:3] == bytes((0xCD, 0, 0))  # "red" in red
    assert last.colors[4 * 3 : 4 * 3 + 3] == bytes((0xDE, 0xDE, 0xD6))  # "plain" default ink

    # And back out: the imported frames exported as a .cast play in `asciinema cat`.
    frames = [{"text": f.text, "duration_ms": f.duration_ms} for f in recording.frames]
    for item, frame in zip(frames, recording.frames, strict=True):
        if frame.colors is not None:
            item["colors"] = base64.b64encode(frame.colors).decode()
    exported = tmp_path / "again.cast"
    exported.write_bytes(cast_bytes(build_document(frames), title="again"))
    primary, secondary = pty.openpty()  # `asciinema cat` opens /dev/tty: give it one
    terminal = os.ttyname(secondary)

    def own_terminal() -> None:  # a new session whose controlling terminal is the pty
        os.setsid()
        os.close(os.open(terminal, os.O_RDWR))

    try:
        played = subprocess.run(
            ["asciinema", "cat", str(exported)],
            env=env,
            stdin=secondary,
            capture_output=True,
            timeout=60,
            preexec_fn=own_terminal,
        )
    finally:
        os.close(primary)
        os.close(secondary)
    assert played.returncode == 0, played.stderr
    assert b"red" in played.stdout and b"line two" in played.stdout
    assert b"\x1b[38;2;205;0;0m" in played.stdout  # the red kept as truecolor


def _sauce(width: int, title: str = "Sunset") -> bytes:
    record = (
        b"SAUCE00"
        + title.encode().ljust(35)
        + b"artist".ljust(20)
        + b"group".ljust(20)
        + b"20261201"
        + struct.pack("<I", 0)
        + bytes((1, 1))
        + struct.pack("<HHHH", width, 3, 0, 0)
        + bytes((1, 0))
        + b"\x00" * 22
    )
    comment = b"COMNT" + b"a comment".ljust(64)
    assert len(record) == 128
    return b"\x1a" + comment + record


def test_cp437_ansi_art_with_sauce() -> None:
    body = b"\x1b[1;33m\xdb\xdb\xb1\x1b[0m sun\r\n\x1b[34m\xb0\xb0\xb0\xb0\x1b[0m\r\n"
    art = read_text_art(body + _sauce(12))
    assert art.title == "Sunset" and art.width == 12
    text, colors = art.frames[0]
    assert text.split("\n") == ["██▒ sun     ", "░░░░        "]
    assert colors is not None and colors[:3] == bytes((0xCD, 0xCD, 0))
    assert colors[12 * 3 : 12 * 3 + 3] == bytes((0, 0, 0xEE))
    assert b"SAUCE" not in strip_sauce(body + _sauce(12))[0]


def test_utf8_ansi_wraps_at_80_columns_and_plain_text_splits_on_form_feeds() -> None:
    art = read_text_art(("\x1b[35m" + "▓" * 85 + "\x1b[0m\n").encode())
    lines = art.frames[0][0].split("\n")
    assert len(lines) == 2 and lines[0] == "▓" * 80 and lines[1].rstrip() == "▓" * 5
    plain = read_text_art(b"one\n\ttab\n\f\ntwo\n")
    assert [text for text, _ in plain.frames] == ["one\n        tab", "two"]
    assert all(colors is None for _, colors in plain.frames)
    with pytest.raises(InvalidInput, match="no text"):
        read_text_art(b"\n\n")
