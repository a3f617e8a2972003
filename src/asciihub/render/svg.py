"""Artwork documents to SVG: real text you can select and search, animated by CSS.

The picture has the cell grid of the drawn exports (``cell_size(font_size)``): one
``<text>`` per line at the line's baseline, and within it one ``<tspan>`` per run of
cells of the same ink, placed at its first cell and stretched to its cells
(``textLength``), so columns line up in any monospace font. Spaces join the run
before them (their ink does not show). Cell backgrounds are ``<rect>`` runs under the
text. The font is DejaVu Sans Mono when the viewer has it, else the viewer's
monospace (the bundled font is not embedded: its 340 KB would outweigh most art).

An animation holds one ``<g>`` per picture (consecutive identical frames merged);
each is shown by a CSS animation for its share of one playthrough, looping forever
(``step-end`` keyframes on ``visibility``). Every picture but the first also carries
``visibility="hidden"``, so a viewer without CSS animations shows the first one.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from asciihub.engine.document import ArtworkDocument, Frame
from asciihub.render.animated import Shown, shown_frames
from asciihub.render.glyph_tiles import grid_codes
from asciihub.render.raster import BACKGROUND, INK, cell_size, font_ascent

FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"
_XML_SAFE = {38: "&amp;", 60: "&lt;", 62: "&gt;", 0xFFFE: "\ufffd", 0xFFFF: "\ufffd"}


def escape(text: str) -> str:
    """``text`` safe as XML character data (``&``, ``<``, ``>``; XML's non-characters)."""
    return text.translate(_XML_SAFE)


def hex_color(rgb: npt.NDArray[np.uint8] | tuple[int, int, int] | bytes) -> str:
    """``#rrggbb`` of an RGB triple."""
    red, green, blue = (int(value) for value in rgb)
    return f"#{red:02x}{green:02x}{blue:02x}"


def runs(values: npt.NDArray[np.uint8]) -> list[tuple[int, int]]:
    """(start, end) of each run of equal RGB along a (columns, 3) ``uint8`` row."""
    if len(values) == 0:
        return []
    changed = np.any(values[1:] != values[:-1], axis=1)
    starts = np.flatnonzero(np.concatenate([[True], changed]))
    ends = np.concatenate([starts[1:], [len(values)]])
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def cell_grid(data: bytes | None, columns: int, rows: int) -> npt.NDArray[np.uint8] | None:
    """Per-cell RGB bytes as ``uint8`` (rows, columns, 3), or None when absent or misfit."""
    if data is None or len(data) != columns * rows * 3:
        return None
    return np.frombuffer(data, dtype=np.uint8).reshape(rows, columns, 3)


def ink_runs(
    codes: npt.NDArray[np.uint32], ink: npt.NDArray[np.uint8]
) -> list[list[tuple[int, int]]]:
    """Per line, the runs of equal ink, each space taking the ink of the cell before it."""
    columns = codes.shape[1]
    position = np.where(codes == 32, 0, np.arange(columns)[None, :])
    filled = np.take_along_axis(ink, np.maximum.accumulate(position, axis=1)[..., None], axis=1)
    return [runs(row) for row in filled]


def _background_rects(grounds: npt.NDArray[np.uint8], cell: tuple[int, int]) -> Iterator[str]:
    cell_w, cell_h = cell
    for row, line in enumerate(grounds):
        for start, end in runs(line):
            yield (
                f'<rect x="{start * cell_w}" y="{row * cell_h}" width="{(end - start) * cell_w}"'
                f' height="{cell_h}" fill="{hex_color(line[start])}"/>'
            )


def frame_markup(frame: Frame, columns: int, rows: int, font_size: int) -> Iterator[str]:
    """The elements that draw ``frame``: background rects, then one ``<text>`` a line."""
    cell_w, cell_h = cell = cell_size(font_size)
    ascent = font_ascent(font_size)
    lines = [line.ljust(columns)[:columns] for line in frame.lines[:rows]]
    lines += [" " * columns] * (rows - len(lines))
    grounds = cell_grid(frame.backgrounds, columns, rows)
    if grounds is not None:
        yield '<g shape-rendering="crispEdges">'
        yield from _background_rects(grounds, cell)
        yield "</g>"
    ink = cell_grid(frame.colors, columns, rows)
    line_runs = (
        [[(0, columns)]] * rows if ink is None else ink_runs(grid_codes(lines, columns, rows), ink)
    )
    for row, line in enumerate(lines):
        if not line.strip():
            continue
        parts = [f'<text y="{row * cell_h + ascent}">']
        for start, end in line_runs[row]:
            fill = "" if ink is None else f' fill="{hex_color(ink[row, start])}"'
            parts.append(
                f'<tspan x="{start * cell_w}" textLength="{(end - start) * cell_w}"{fill}>'
                f"{escape(line[start:end])}</tspan>"
            )
        parts.append("</text>")
        yield "".join(parts)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.4f}".rstrip("0").rstrip(".") + "%"


def animation_css(shown: list[Shown], total_ms: int) -> str:
    """Keyframes that show picture *i* from its start to its end of each playthrough."""
    rules = [
        f".f{{animation:{total_ms}ms step-end infinite}}",
    ]
    for index, item in enumerate(shown):
        start, end = item.start_ms, item.start_ms + item.duration_ms
        steps = [] if start == 0 else ["0%{visibility:hidden}"]
        steps.append(f"{_percent(start, total_ms)}{{visibility:visible}}")
        if end < total_ms:
            steps.append(f"{_percent(end, total_ms)}{{visibility:hidden}}")
        rules.append(f"@keyframes k{index}{{{''.join(steps)}}}.f{index}{{animation-name:k{index}}}")
    return "\n".join(rules)


def write_svg(
    document: ArtworkDocument, out: BinaryIO, *, font_size: int = 16, title: str = ""
) -> None:
    """Write ``document`` as SVG to ``out``, one picture at a time (see the module)."""
    cell_w, cell_h = cell_size(font_size)
    width, height = document.width * cell_w, document.height * cell_h
    shown = shown_frames(document)

    def write(text: str) -> None:
        out.write(text.encode("utf-8"))

    write(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT_FAMILY}" '
        f'font-size="{font_size}" fill="{hex_color(INK)}" xml:space="preserve">\n'
    )
    write(f"<title>{escape(title or 'Untitled')}</title>\n")
    css = animation_css(shown, document.duration_ms) if len(shown) > 1 else ""
    write(f"<style>text{{white-space:pre}}\n{css}</style>\n")
    write(f'<rect width="{width}" height="{height}" fill="{hex_color(BACKGROUND)}"/>\n')
    for index, item in enumerate(shown):
        hidden = ' visibility="hidden"' if index else ""
        write(f'<g class="f f{index}"{hidden}>\n' if len(shown) > 1 else "<g>\n")
        for element in frame_markup(item.frame, document.width, document.height, font_size):
            write(element + "\n")
        write("</g>\n")
    write("</svg>\n")


def svg_bytes(document: ArtworkDocument, *, font_size: int = 16, title: str = "") -> bytes:
    """The SVG of :func:`write_svg`, in memory."""
    buffer = io.BytesIO()
    write_svg(document, buffer, font_size=font_size, title=title)
    return buffer.getvalue()
