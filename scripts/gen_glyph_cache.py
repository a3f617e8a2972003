"""Write the engine's cached glyph bitmaps: printable ASCII in the bundled font at 24x12.

``python scripts/gen_glyph_cache.py`` rasterises the glyphs as
``asciihub.engine.glyphs.glyph_bitmaps`` does and saves them as ``uint8`` (95, 24, 12)
next to the font, so a process does not rasterise them again at start. A unit test
checks the file against a fresh rasterisation.
"""

from __future__ import annotations

import numpy as np

from asciihub.engine.charsets import PRINTABLE_ASCII
from asciihub.engine.glyphs import CACHE_PATH, render_bitmaps


def main() -> None:
    """Rasterise and save the cache."""
    bitmaps = render_bitmaps(PRINTABLE_ASCII, 24, 12)
    np.save(CACHE_PATH, np.round(bitmaps * 255).astype(np.uint8), allow_pickle=False)
    print(f"wrote {CACHE_PATH}")


if __name__ == "__main__":
    main()
