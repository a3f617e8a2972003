"""Artwork documents to one standalone HTML file: the art and a small player.

Everything is inline (CSS, the player script ``html_player.js``, the frames as JSON)
and a Content-Security-Policy forbids every fetch, so the file opens offline and
asks for nothing. The first frame is written as markup, so it shows without
JavaScript; with it, an animation plays with play/pause, speed, a scrub bar and a
loop switch. Per-cell ink and backgrounds are ``<span>`` runs of equal colours; the
page background and default ink are those of the drawn exports.
"""

from __future__ import annotations

import base64
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from asciihub.engine.document import ArtworkDocument, Frame
from asciihub.render.raster import BACKGROUND, INK
from asciihub.render.svg import FONT_FAMILY, cell_grid, escape, hex_color, runs

PLAYER_SCRIPT = Path(__file__).with_name("html_player.js")
SPEEDS = ("0.25", "0.5", "1", "2", "4")
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'"
)


@lru_cache(maxsize=1)
def player_script() -> str:
    """The player's JavaScript (a file next to this module)."""
    return PLAYER_SCRIPT.read_text(encoding="utf-8")


def _style(font_size: int) -> str:
    return (
        f"html{{background:{hex_color(BACKGROUND)};color:{hex_color(INK)}}}"
        "body{margin:0;padding:16px;font:14px system-ui,sans-serif}"
        f"#screen{{margin:0;font-family:{FONT_FAMILY};font-size:{font_size}px;"
        "line-height:1.2;white-space:pre;display:inline-block}"
        # A background fills the whole line box: an inline one covers only the glyphs'
        # content area and leaves seams between rows at fractional sizes.
        "#screen span[style*=background]{display:inline-block;vertical-align:top;"
        "height:1.2em}"
        "#controls{display:flex;gap:12px;align-items:center;margin-top:12px}"
        "#controls[hidden]{display:none}#scrub{flex:0 1 320px}"
        "button,select{font:inherit}label,#position{white-space:nowrap}"
    )


def frame_spans(frame: Frame, columns: int, rows: int) -> str:
    """The markup of one frame: its lines, with ``<span>`` runs where colours change."""
    lines = frame.lines
    ink = cell_grid(frame.colors, columns, rows)
    ground = cell_grid(frame.backgrounds, columns, rows)
    if ink is None and ground is None:
        return escape(frame.text)
    parts: list[str] = []
    for row, line in enumerate(lines[:rows]):
        keys = [grid[row] for grid in (ink, ground) if grid is not None]
        for start, end in runs(np.concatenate(keys, axis=1)):
            style = []
            if ink is not None:
                style.append(f"color:{hex_color(ink[row, start])}")
            if ground is not None:
                style.append(f"background-color:{hex_color(ground[row, start])}")
            parts.append(f'<span style="{";".join(style)}">{escape(line[start:end])}</span>')
        if row < rows - 1:
            parts.append("\n")
    return "".join(parts)


def _frame_json(frame: Frame) -> str:
    item: dict[str, Any] = {"text": frame.text, "duration_ms": frame.duration_ms}
    if frame.colors is not None:
        item["colors"] = base64.b64encode(frame.colors).decode("ascii")
    if frame.backgrounds is not None:
        item["backgrounds"] = base64.b64encode(frame.backgrounds).decode("ascii")
    # "<" escaped, so no "</script>" or "<!--" can end the data block early.
    return json.dumps(item, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _controls(frame_count: int) -> str:
    options = "".join(
        f'<option value="{speed}"{" selected" if speed == "1" else ""}>{speed}x</option>'
        for speed in SPEEDS
    )
    return (
        '<div id="controls" hidden>'
        '<button id="play" type="button" aria-pressed="false">Play</button>'
        f'<input id="scrub" type="range" min="0" max="{frame_count - 1}" value="0" '
        'aria-label="Frame">'
        f'<label>Speed <select id="speed">{options}</select></label>'
        '<label><input id="loop" type="checkbox" checked> Loop</label>'
        f'<span id="position">1 / {frame_count}</span>'
        "</div>"
    )


def write_html(
    document: ArtworkDocument, out: BinaryIO, *, font_size: int = 16, title: str = ""
) -> None:
    """Write the standalone page of ``document`` to ``out``, one frame at a time."""

    def write(text: str) -> None:
        out.write(text.encode("utf-8"))

    name = escape(title or "Untitled")
    first = frame_spans(document.frames[0], document.width, document.height)
    write(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="asciihub">\n<title>{name}</title>\n'
        f"<style>{_style(font_size)}</style>\n</head>\n<body>\n"
        f'<figure style="margin:0">\n<pre id="screen" data-frame="0">{first}</pre>\n'
        f"{_controls(document.frame_count)}\n</figure>\n"
    )
    header = json.dumps({"width": document.width, "height": document.height})
    write(f'<script type="application/json" id="frames">{header[:-1]},"frames":[')
    for index, frame in enumerate(document.frames):
        write(("," if index else "") + _frame_json(frame))
    write("]}</script>\n")
    write(f"<script>\n{player_script()}</script>\n</body>\n</html>\n")


def html_bytes(document: ArtworkDocument, *, font_size: int = 16, title: str = "") -> bytes:
    """The page of :func:`write_html`, in memory."""
    buffer = io.BytesIO()
    write_html(document, buffer, font_size=font_size, title=title)
    return buffer.getvalue()
