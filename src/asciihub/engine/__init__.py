"""The ASCII engine: pixels and text to character grids, and the artwork document.

Pure logic on numpy and Pillow (PyAV for video, pyfiglet for banners); it imports
nothing else from asciihub but ``errors``. The document names load eagerly; the
converters load on first use, so ``import asciihub.engine`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from asciihub.engine.document import (
    ArtworkDocument,
    DocumentLimits,
    Frame,
    build_document,
    parse_document,
)

if TYPE_CHECKING:
    from asciihub.engine.adjust import Adjustments
    from asciihub.engine.animation import convert_animation
    from asciihub.engine.color import colorize_text
    from asciihub.engine.decode import EngineLimits
    from asciihub.engine.figlet import banner, list_fonts
    from asciihub.engine.procedural import (
        FrameGenerator,
        ProceduralGenerator,
        generate,
        list_scenes,
    )
    from asciihub.engine.still import ConvertOptions, convert

_LAZY = {
    "Adjustments": "asciihub.engine.adjust",
    "ConvertOptions": "asciihub.engine.still",
    "EngineLimits": "asciihub.engine.decode",
    "FrameGenerator": "asciihub.engine.procedural",
    "ProceduralGenerator": "asciihub.engine.procedural",
    "banner": "asciihub.engine.figlet",
    "colorize_text": "asciihub.engine.color",
    "convert": "asciihub.engine.still",
    "convert_animation": "asciihub.engine.animation",
    "generate": "asciihub.engine.procedural",
    "list_fonts": "asciihub.engine.figlet",
    "list_scenes": "asciihub.engine.procedural",
}

__all__ = [
    "Adjustments",
    "ArtworkDocument",
    "ConvertOptions",
    "DocumentLimits",
    "EngineLimits",
    "Frame",
    "FrameGenerator",
    "ProceduralGenerator",
    "banner",
    "build_document",
    "colorize_text",
    "convert",
    "convert_animation",
    "generate",
    "list_fonts",
    "list_scenes",
    "parse_document",
]


def __getattr__(name: str) -> Any:
    """Load a converter on first use."""
    module = _LAZY.get(name)
    if module is None:
        message = f"module 'asciihub.engine' has no attribute {name!r}"
        raise AttributeError(message)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
