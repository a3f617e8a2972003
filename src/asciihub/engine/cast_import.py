"""asciicast v2 and v3 recordings (``.cast``) played through a terminal into frames.

Every output event (``"o"``) is fed to a pyte screen of the header's size; the screen
after the last event of one instant becomes a frame, shown until the next event.
Pauses longer than the idle limit (the smaller of the recording's
``idle_time_limit`` and the caller's cap) are shortened to it, as players do. Equal
consecutive screens merge into one frame. Input, marker and unknown events are
skipped; resize events (``"r"``) are skipped too: the artwork keeps the header's
size. Refusals raise ``InvalidInput`` or ``TooLarge`` naming the rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from asciihub.engine.document import MAX_DURATION_MS, DocumentLimits
from asciihub.engine.terminal import ScreenFrame, new_screen, read_screen
from asciihub.errors import InvalidInput, TooLarge

LAST_FRAME_MS = 1000  # how long the last frame shows when the recording says nothing


@dataclass(frozen=True)
class CastFrame:
    """A frame read from a recording."""

    text: str
    duration_ms: int
    colors: bytes | None = None


@dataclass
class CastRecording:
    """What an import makes of a recording: its size, title and frames."""

    width: int
    height: int
    title: str | None
    frames: list[CastFrame] = field(default_factory=list)


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_cast")


def _header(line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        message = "the first line of a .cast file must be its JSON header"
        raise _bad(message) from None
    if not isinstance(header, dict) or header.get("version") not in (2, 3):
        message = "only asciicast version 2 and 3 recordings can be imported"
        raise _bad(message)
    return header


def _size(header: dict[str, Any], limits: DocumentLimits) -> tuple[int, int]:
    width: Any
    height: Any
    if header["version"] == 3:
        term = header.get("term")
        width, height = (term.get("cols"), term.get("rows")) if isinstance(term, dict) else (0, 0)
    else:
        width, height = header.get("width"), header.get("height")
    for name, value, cap in (
        ("width", width, limits.max_width),
        ("height", height, limits.max_height),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            message = f"the recording's {name} must be a positive integer, not {value!r}"
            raise _bad(message)
        if value > cap:
            message = f"the recording is {value} cells in {name}; the limit is {cap}"
            raise TooLarge(message, code="cast_too_large")
    return int(width), int(height)


def _events(lines: Iterator[str], version: int) -> Iterator[tuple[float, str, str]]:
    """(seconds since the start, code, data) of every event, in order."""
    clock = 0.0
    for number, line in enumerate(lines, start=2):
        if not line.strip() or (version == 3 and line.startswith("#")):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            message = f"line {number} of the recording is not a JSON event"
            raise _bad(message) from None
        if (
            not isinstance(event, list)
            or len(event) < 3
            or isinstance(event[0], bool)
            or not isinstance(event[0], int | float)
            or not isinstance(event[1], str)
        ):
            message = f"line {number} of the recording is not a [time, code, data] event"
            raise _bad(message)
        moment = float(event[0])
        if moment < 0 or moment != moment:
            message = f"line {number} of the recording has a negative time"
            raise _bad(message)
        clock = clock + moment if version == 3 else max(clock, moment)
        yield clock, event[1], event[2] if isinstance(event[2], str) else ""


def idle_cap(header: dict[str, Any], cap_seconds: float) -> float:
    """The pause limit in seconds: the recording's own, never above ``cap_seconds``."""
    own = header.get("idle_time_limit")
    if isinstance(own, int | float) and not isinstance(own, bool) and own > 0:
        return min(float(own), cap_seconds)
    return cap_seconds


def read_cast(
    text: str, *, limits: DocumentLimits | None = None, idle_limit: float = 3.0
) -> CastRecording:
    """Frames of an asciicast v2/v3 recording (``text`` is the whole file)."""
    limits = limits or DocumentLimits()
    lines = iter(text.splitlines())
    first = next(lines, "")
    header = _header(first)
    width, height = _size(header, limits)
    title = header.get("title") if isinstance(header.get("title"), str) else None
    cap = idle_cap(header, idle_limit)
    screen, stream = new_screen(width, height)
    recording = CastRecording(width=width, height=height, title=title)
    pending = False  # the screen changed since the last frame was emitted
    shown_at = 0.0  # when the pending screen appeared, on the capped clock
    capped = last = 0.0
    for moment, code, data in _events(lines, header["version"]):
        capped += min(moment - last, cap)
        last = moment
        if code != "o":
            continue
        if pending and capped > shown_at:
            _emit(recording, read_screen(screen), capped - shown_at, limits)
            pending = False
        stream.feed(data)
        if not pending:
            shown_at, pending = capped, True
    if pending:
        duration = header.get("duration")
        # Until the last event (an exit, a marker), else for LAST_FRAME_MS.
        end = capped if capped > shown_at else capped + LAST_FRAME_MS / 1000
        if isinstance(duration, int | float) and not isinstance(duration, bool):
            end = capped + min(max(float(duration) - last, 0.0), cap)
        _emit(recording, read_screen(screen), max(end - shown_at, 0.001), limits)
    if not recording.frames:
        message = "the recording has no output events, so there is nothing to show"
        raise _bad(message)
    return recording


def _emit(
    recording: CastRecording, frame: ScreenFrame, seconds: float, limits: DocumentLimits
) -> None:
    duration = max(1, min(round(seconds * 1000), MAX_DURATION_MS))
    frames = recording.frames
    if frames and frames[-1].text == frame.text and frames[-1].colors == frame.colors:
        merged = min(frames[-1].duration_ms + duration, MAX_DURATION_MS)
        frames[-1] = CastFrame(frame.text, merged, frame.colors)
        return
    if len(frames) >= limits.max_frames:
        message = (
            f"the recording makes more than {limits.max_frames} frames, the most an artwork "
            "may have; cut it shorter or raise max_frames"
        )
        raise TooLarge(message, code="too_many_frames")
    frames.append(CastFrame(frame.text, duration, frame.colors))
