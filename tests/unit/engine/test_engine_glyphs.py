"""The cached glyph bitmaps match a fresh rasterisation of the bundled font."""

from __future__ import annotations

import numpy as np

from asciihub.engine.charsets import PRINTABLE_ASCII
from asciihub.engine.glyphs import _ascii_cache, glyph_bitmaps, render_bitmaps


def test_cache_matches_the_font() -> None:
    cache = _ascii_cache()
    assert cache is not None, "run scripts/gen_glyph_cache.py"
    fresh = render_bitmaps(PRINTABLE_ASCII, 24, 12)
    assert np.abs(cache - fresh).max() < 1e-6


def test_cached_and_rendered_paths_agree_for_a_subset() -> None:
    chars = "@ .x"
    assert np.array_equal(glyph_bitmaps(chars), render_bitmaps(chars, 24, 12))
