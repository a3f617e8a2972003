"""Character sets: the tone ramps, the printable ASCII alphabet, blocks and braille.

Ramps run from the least ink to the most (light ink on a dark background). The tone
styles do not trust the listed order: :mod:`asciihub.engine.glyphs` measures each
character's real ink coverage in the bundled font and sorts by it.
"""

from __future__ import annotations

from dataclasses import dataclass

SIMPLE_RAMP = " .:-=+*#%@"
"""A short ramp of ten characters."""

DENSE_RAMP = " .,:;rcxoeadO08BM"
"""The default ramp: sparse punctuation, then round lower-case and upper-case letters
in steps of ink measured in the bundled font. Glyphs of one shape family read as tone;
a ramp mixing shapes (``r*!|/(>)~^``) reads as noise."""

CLASSIC_RAMP = " .'`^\",:;Il!i><~+_-?][}{1)(|\\/tfjrxnuvczXYUJCLQ0OZmwqpdbkhao*#MW&8%B@$"
"""The classic ramp of about seventy characters (``style="custom", ramp=CLASSIC_RAMP``)."""

SHAPE_ALPHABET = DENSE_RAMP
"""The glyphs the mono ``shape`` style matches: the default ramp's shape family. With
every printable character, the 4 x 2 matching picks ``|``, ``I`` and ``Q`` on photo
texture, which reads as static."""

PRINTABLE_ASCII = "".join(chr(code) for code in range(32, 127))
"""Every printable ASCII character, space first: the alphabet of the shape style."""

EDGE_GLYPHS = "-/|\\_"
"""Line glyphs the edges style draws: horizontal, rising, vertical, falling, low."""

# Quadrant blocks indexed by bits: 1 top-left, 2 top-right, 4 bottom-left, 8 bottom-right.
QUADRANT_BLOCKS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
"""The sixteen quadrant block characters, indexed by their 4-bit pattern."""

BRAILLE_BASE = 0x2800
"""Code point of the empty braille cell; a dot pattern adds its 8-bit mask."""

# Bit of each dot in a 2x4 braille cell, as (row, column) -> bit.
BRAILLE_BITS = ((0, 3), (1, 4), (2, 5), (6, 7))
"""Braille dot bits, indexed [row][column] for the 4 rows by 2 columns of a cell."""

BRAILLE_ALPHABET = "".join(chr(BRAILLE_BASE + mask) for mask in range(256))
"""Every braille pattern, indexed by its dot mask."""


@dataclass(frozen=True)
class StyleInfo:
    """What a style is called, what it draws with and how it reads the pixels."""

    name: str
    alphabet: str
    description: str
    sub_rows: int
    sub_cols: int


STYLES: dict[str, StyleInfo] = {
    "simple": StyleInfo("simple", SIMPLE_RAMP, "a short ramp of ten characters, by tone", 1, 1),
    "dense": StyleInfo("dense", DENSE_RAMP, "seventeen glyphs of one shape family, by tone", 1, 1),
    "shape": StyleInfo(
        "shape",
        PRINTABLE_ASCII,
        "per cell, the printable ASCII glyph whose bitmap best matches the pixels",
        4,
        2,
    ),
    "edges": StyleInfo(
        "edges",
        DENSE_RAMP + EDGE_GLYPHS,
        "line glyphs (/ \\ | - _) along edges, over the dense ramp's tone fill",
        4,
        2,
    ),
    "blocks": StyleInfo(
        "blocks",
        QUADRANT_BLOCKS + "▁▂▃▅▆▇▎▊▔",
        "Unicode quadrant blocks, 2x2 per cell (in colour also eighth and quarter blocks)",
        2,
        2,
    ),
    "braille": StyleInfo("braille", BRAILLE_ALPHABET, "braille dots, 2x4 per cell", 4, 2),
}
"""Every built-in style by name (a custom ramp is given as ``ramp=``)."""

COLOR_MODES = ("none", "ansi16", "ansi256", "truecolor")
"""Colour modes for terminal output."""

DITHER_MODES = ("auto", "none", "floyd-steinberg", "ordered")
"""Dithering modes for the tone, edges, blocks, braille and shape styles (``auto``:
ordered for braille and simple, none for the others)."""

TONE_MODES = ("perceptual", "linear")
"""Tone curves from a cell's light to the light shown in mono: ``perceptual`` (the default: the
sRGB-encoded value, stretched between its 1st and 99th percentile) or ``linear``
(linear light, no stretch)."""
