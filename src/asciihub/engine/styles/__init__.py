"""The styles: each maps linear-light samples to a grid of code points.

A style function takes ``float32`` samples shaped (rows * sub_rows, columns *
sub_cols) in [0, 1] and returns ``uint32`` code points shaped (rows, columns).
"""

from asciihub.engine.styles.blocks import braille_codes, quadrant_codes
from asciihub.engine.styles.edges import edge_codes
from asciihub.engine.styles.ramp import ramp_codes
from asciihub.engine.styles.shape import shape_codes

__all__ = ["braille_codes", "edge_codes", "quadrant_codes", "ramp_codes", "shape_codes"]
