"""Artwork documents to ANSI text for ``cat`` in a terminal (``.ans``, UTF-8).

Each frame's lines carry SGR colour sequences where a cell's ink or background
changes, in one of three colour modes: ``truecolor`` (``ESC[38;2;R;G;Bm``),
``ansi256`` (``ESC[38;5;Nm``, the nearest cube or grey entry) or ``ansi16`` (the
nearest of the 16 xterm colours); every line ends with a reset (``ESC[0m``) and
``\\n``. The sequences come from the engine's terminal output
(:func:`asciihub.engine.color.colorize_text`), the same as ``asciihub convert``'s.

A still is just its lines. In an animation every frame starts with cursor home and
clear screen (``ESC[H ESC[2J``), so ``cat`` shows the frames in turn in place and
leaves the last one on screen; ``cat`` cannot time them (the ``cast`` export can).
"""

from __future__ import annotations

import io
from typing import BinaryIO

from asciihub.engine.color import colorize_text
from asciihub.engine.document import ArtworkDocument, Frame
from asciihub.render.raster import INK

HOME_AND_CLEAR = "\x1b[H\x1b[2J"
ANSI_MODES = ("truecolor", "ansi256", "ansi16")


def frame_text(frame: Frame, mode: str) -> str:
    """One frame's lines with SGR colours in ``mode``, each line ending in a newline."""
    colors = frame.colors
    if colors is None and frame.backgrounds is not None:
        colors = bytes(INK) * (len(frame.backgrounds) // 3)
    if colors is None:
        return frame.text + "\n"
    return colorize_text(frame.text, colors, mode, backgrounds=frame.backgrounds) + "\n"


def write_ansi(document: ArtworkDocument, out: BinaryIO, *, mode: str = "truecolor") -> None:
    """Write every frame in colour mode ``mode`` (one of ``ANSI_MODES``) to ``out``."""
    is_animation = document.frame_count > 1
    for frame in document.frames:
        lead = HOME_AND_CLEAR if is_animation else ""
        out.write((lead + frame_text(frame, mode)).encode("utf-8"))


def ansi_bytes(document: ArtworkDocument, *, mode: str = "truecolor") -> bytes:
    """The ANSI text of :func:`write_ansi`, in memory."""
    buffer = io.BytesIO()
    write_ansi(document, buffer, mode=mode)
    return buffer.getvalue()
