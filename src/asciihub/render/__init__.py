"""Renderers: artwork documents to images and other formats, one module a format."""

from asciihub.render.exports import (
    EXPORT_FORMATS,
    ExportFormat,
    RenderOptions,
    render_export,
    write_export,
)
from asciihub.render.raster import card_png, frame_image, thumbnail_png

__all__ = [
    "EXPORT_FORMATS",
    "ExportFormat",
    "RenderOptions",
    "card_png",
    "frame_image",
    "render_export",
    "thumbnail_png",
    "write_export",
]
