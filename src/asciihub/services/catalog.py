"""What the make page offers: styles with samples, scenes, banner fonts, export formats.

Also the banner preview behind ``POST /api/banner``: FIGlet text drawn by the engine,
checked here so a bad font or an over-long text is a clear 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from asciihub.errors import InvalidInput, TooLarge

BANNER_FIELDS = frozenset({"text", "font", "width", "align", "border"})
FEATURED_FONTS = (
    "standard",
    "slant",
    "big",
    "banner3",
    "block",
    "bubble",
    "digital",
    "doom",
    "isometric1",
    "lean",
    "mini",
    "script",
    "shadow",
    "small",
    "smslant",
    "speed",
    "starwars",
    "larry3d",
)


@dataclass(frozen=True)
class StyleSample:
    """A style's name, what it does and a few rows drawn with it."""

    name: str
    description: str
    sample: str


def _sample_image() -> Any:
    """A small shaded sphere on a dark ground: enough tone and edge to tell styles apart."""
    import numpy as np
    from PIL import Image

    rows, cols = np.mgrid[0:96, 0:192].astype(np.float32)
    dx, dy = (cols - 96) / 84, (rows - 48) / 42
    inside = dx * dx + dy * dy < 1.0
    nz = np.sqrt(np.clip(1.0 - dx * dx - dy * dy, 0.0, 1.0))
    light = np.clip(0.25 + 0.9 * (0.75 * nz - 0.45 * dx - 0.45 * dy), 0.0, 1.0)
    ground = 0.08 + 0.12 * (rows / 96)
    gray = (np.where(inside, light, ground) * 255).astype(np.uint8)
    return Image.fromarray(gray, mode="L")


@lru_cache(maxsize=1)
def style_samples() -> tuple[StyleSample, ...]:
    """Every built-in style with a 24-column sample (computed once per process)."""
    from asciihub.engine.charsets import STYLES
    from asciihub.engine.still import convert

    image = _sample_image()
    return tuple(
        StyleSample(name, info.description, convert(image, width=24, style=name).text)
        for name, info in STYLES.items()
    )


@lru_cache(maxsize=1)
def scene_list() -> tuple[tuple[str, str], ...]:
    """The generator's procedural scenes: (name, description)."""
    from asciihub.engine.procedural import list_scenes

    return tuple((name, description) for name, description, _keywords in list_scenes())


@lru_cache(maxsize=1)
def font_list() -> tuple[str, ...]:
    """Banner fonts: the featured ones first, then every other installed font."""
    from asciihub.engine.figlet import list_fonts

    installed = list_fonts()
    featured = tuple(name for name in FEATURED_FONTS if name in installed)
    return featured + tuple(name for name in installed if name not in featured)


FORMAT_LABELS = {"ansi": "ANSI", "ansi256": "ANSI 256", "ansi16": "ANSI 16"}
"""Button labels where a format's extension does not tell it apart (all three are .ans)."""


@lru_cache(maxsize=1)
def export_formats() -> tuple[tuple[str, str], ...]:
    """Export formats this build can render: (name, label for a button)."""
    import importlib.util

    from asciihub.render.exports import EXPORT_FORMATS

    return tuple(
        (item.name, FORMAT_LABELS.get(item.name, item.extension.upper()))
        for item in EXPORT_FORMATS.values()
        if item.module is None or importlib.util.find_spec(item.module) is not None
    )


def color_modes() -> tuple[str, ...]:
    """Colour modes a conversion accepts."""
    from asciihub.engine.charsets import COLOR_MODES

    return COLOR_MODES


def dither_modes() -> tuple[str, ...]:
    """Dithering modes a conversion accepts (the first is the engine's default)."""
    from asciihub.engine.charsets import DITHER_MODES

    return DITHER_MODES


def tone_modes() -> tuple[str, ...]:
    """Tone curves a conversion accepts (the first is the engine's default)."""
    from asciihub.engine.charsets import TONE_MODES

    return TONE_MODES


def render_banner(payload: Any, max_width: int) -> dict[str, Any]:
    """Check a banner request and draw it: ``{"text", "width", "height", "font"}``."""
    from asciihub.engine.figlet import MAX_BANNER_TEXT, banner

    if not isinstance(payload, dict):
        message = 'send {"text", "font"?, "width"?, "align"?, "border"?}'
        raise InvalidInput(message, code="invalid_body")
    unknown = sorted(set(payload) - BANNER_FIELDS)
    if unknown:
        message = (
            f"unknown fields: {', '.join(unknown)}; allowed: {', '.join(sorted(BANNER_FIELDS))}"
        )
        raise InvalidInput(message, code="unknown_field")
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        message = "text must be a non-empty string"
        raise InvalidInput(message, code="invalid_text")
    if len(text) > MAX_BANNER_TEXT:
        message = f"the text is {len(text)} characters; a banner takes at most {MAX_BANNER_TEXT}"
        raise TooLarge(message, code="text_too_long")
    font = payload.get("font", "standard")
    if font not in font_list():
        message = f"unknown font {font!r}; GET the make page or run `asciihub fonts` for the list"
        raise InvalidInput(message, code="invalid_font")
    width = payload.get("width", 80)
    if (
        isinstance(width, bool)
        or not isinstance(width, int)
        or not 10 <= width <= min(max_width, 1000)
    ):
        message = f"width must be a whole number from 10 to {min(max_width, 1000)}"
        raise InvalidInput(message, code="invalid_width")
    align, border = payload.get("align", "left"), payload.get("border", "none")
    if not isinstance(align, str) or not isinstance(border, str):
        message = "align and border must be strings"
        raise InvalidInput(message, code="invalid_option")
    frame = banner(text, font=font, width=width, align=align, border=border)
    lines = frame.text.split("\n")
    return {
        "text": frame.text,
        "width": max(len(line) for line in lines),
        "height": len(lines),
        "font": font,
    }
