"""Tone styles: each cell's light mapped to a ramp calibrated on real ink coverage."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from asciihub.engine.dither import quantise
from asciihub.engine.glyphs import calibrated_ramp
from asciihub.errors import InvalidInput

Codes = npt.NDArray[np.uint32]


def check_ramp(ramp: str) -> str:
    """Return ``ramp`` if it is 2 to 256 printable characters, else raise ``InvalidInput``."""
    if not 2 <= len(ramp) <= 256 or not ramp.isprintable():
        message = "a ramp must be 2 to 256 printable characters, from least ink to most"
        raise InvalidInput(message, code="invalid_ramp")
    if len(set(ramp)) < 2:
        message = "a ramp needs at least two different characters"
        raise InvalidInput(message, code="invalid_ramp")
    return ramp


def ramp_levels(ramp: str) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float32]]:
    """The ramp's code points sorted by ink and their levels (``float32``, 0 to 1)."""
    ordered, coverage = calibrated_ramp(ramp)
    top = float(coverage[-1]) or 1.0
    levels = (coverage - coverage[0]) / max(top - float(coverage[0]), 1e-6)
    codes = np.array([ord(char) for char in ordered], dtype=np.uint32)
    return codes, levels.astype(np.float32)


def ramp_codes(samples: npt.NDArray[np.float32], ramp: str, *, dither: str = "none") -> Codes:
    """Map ``float32`` (rows, columns) linear light to ``uint32`` code points of ``ramp``.

    A cell's light is matched to the character whose measured ink coverage, relative
    to the ramp's densest character, is nearest: the output's tone is linear in light.
    """
    codes, levels = ramp_levels(ramp)
    return codes[quantise(samples, levels, dither)]
