"""Model output to frames: escape and control characters stripped, sizes clamped."""

from __future__ import annotations

import re

FRAME_SEPARATOR = "===FRAME==="
"""The line the model is asked to put between frames."""

_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[@-Z\\-_]"  # two-character escapes
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FENCE = re.compile(r"^\s*```[\w-]*\s*$")


def sanitise(text: str) -> str:
    """Drop ANSI escapes, control and bidi characters and code fences; tabs become spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    return "\n".join(line for line in text.split("\n") if not _FENCE.match(line))


def clamp_frame(text: str, *, width: int, height: int) -> str:
    """Cut ``text`` to ``height`` lines of ``width`` cells and pad it to exactly that."""
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    lines = [line.rstrip()[:width].ljust(width) for line in lines[:height]]
    lines += [" " * width] * (height - len(lines))
    return "\n".join(lines)


def split_frames(text: str) -> list[str]:
    """Split sanitised model output on separator lines; empty frames are dropped."""
    parts = re.split(rf"^\s*{re.escape(FRAME_SEPARATOR)}\s*$", text, flags=re.MULTILINE)
    return [part for part in parts if part.strip()]
