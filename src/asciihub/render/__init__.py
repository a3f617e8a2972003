"""Renderers: artwork documents to images and other formats, one module a format."""

from asciihub.render.raster import card_png, frame_image, thumbnail_png

__all__ = ["card_png", "frame_image", "thumbnail_png"]
