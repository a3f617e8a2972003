"""Pre-processing on linear-light samples: levels, contrast, gamma, sharpening, invert.

Every function takes and returns ``float32`` (rows, columns) in [0, 1] and is a pure
function of its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from asciihub.errors import InvalidInput

Plane = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Adjustments:
    """Pre-processing options; the defaults leave the image as it is."""

    gamma: float = 1.0
    auto_levels: bool = False
    contrast: float = 1.0
    sharpen: float = 0.0
    invert: bool = False

    def check(self) -> None:
        """Raise ``InvalidInput`` when a value is out of its range."""
        checks = (
            ("gamma", self.gamma, 0.1, 10.0),
            ("contrast", self.contrast, 0.0, 10.0),
            ("sharpen", self.sharpen, 0.0, 10.0),
        )
        for name, value, low, high in checks:
            if not low <= value <= high:
                message = f"{name} {value} must be between {low} and {high}"
                raise InvalidInput(message, code="invalid_option")


def auto_levels(plane: Plane, *, low_pct: float = 1.0, high_pct: float = 99.0) -> Plane:
    """Stretch the 1st..99th percentile of ``plane`` to [0, 1]."""
    low, high = np.percentile(plane, (low_pct, high_pct))
    if high - low < 1e-6:
        return plane
    return np.asarray(np.clip((plane - low) / (high - low), 0.0, 1.0), dtype=np.float32)


def contrast(plane: Plane, amount: float) -> Plane:
    """Scale ``plane``'s distance from its mean by ``amount`` (1 leaves it as it is)."""
    mean = float(plane.mean())
    return np.asarray(np.clip((plane - mean) * amount + mean, 0.0, 1.0), dtype=np.float32)


def gamma(plane: Plane, value: float) -> Plane:
    """Raise ``plane`` to ``1 / value`` (above 1 brightens the mid-tones)."""
    return np.power(plane, 1.0 / value, dtype=np.float32)


def sharpen(plane: Plane, amount: float) -> Plane:
    """Unsharp mask with a 3x3 box: ``plane + amount * (plane - blur(plane))``."""
    padded = np.pad(plane, 1, mode="edge")
    rows, cols = plane.shape
    blur = np.zeros_like(plane)
    for dr in range(3):
        for dc in range(3):
            blur += padded[dr : dr + rows, dc : dc + cols]
    blur /= 9.0
    return np.clip(plane + amount * (plane - blur), 0.0, 1.0).astype(np.float32)


def apply_adjustments(plane: Plane, options: Adjustments) -> Plane:
    """Apply every adjustment in a fixed order: levels, contrast, gamma, sharpen, invert."""
    out = plane
    if options.auto_levels:
        out = auto_levels(out)
    if options.contrast != 1.0:
        out = contrast(out, options.contrast)
    if options.gamma != 1.0:
        out = gamma(out, options.gamma)
    if options.sharpen > 0.0:
        out = sharpen(out, options.sharpen)
    if options.invert:
        out = (1.0 - out).astype(np.float32)
    return out


def percentiles_of_index(
    index: npt.NDArray[np.intp], values: Plane, pcts: tuple[float, float]
) -> tuple[float, float]:
    """``np.percentile`` (linear interpolation) of ``values[index]``, from a histogram."""
    return _percentiles(np.bincount(index.ravel(), minlength=len(values)), values, pcts)


def _percentiles(
    counts: npt.NDArray[np.intp], values: Plane, pcts: tuple[float, float]
) -> tuple[float, float]:
    cum = np.cumsum(counts)
    total = int(cum[-1])
    out: list[float] = []
    for pct in pcts:
        position = pct / 100.0 * (total - 1)
        rank = int(np.floor(position))
        below = values[int(np.searchsorted(cum, rank, side="right"))]
        above = values[int(np.searchsorted(cum, min(rank + 1, total - 1), side="right"))]
        out.append(float(below + (above - below) * (position - rank)))
    return out[0], out[1]


@dataclass
class ToneWindow:
    """The perceptual tone's percentiles, smoothed from frame to frame of a video.

    Stretching every frame on its own percentiles makes a static scene pump when a
    small bright or dark thing comes and goes (past 1 % of the frame it moves the 1st
    or 99th percentile all the way). Here each frame moves the window by ``rate`` of the
    way to its own percentiles, twice over (an exponential moving average of one: a
    thing blinking every other frame leaves a ripple of a fraction of a percent of the
    range, where a single average leaves a few percent). A scene cut takes the
    new frame's percentiles at once: a cut is when the frame's histogram of encoded
    values (32 bins) differs from the previous frame's by more than ``cut`` of its
    mass (total variation distance), which a moving object or noise does not reach.
    One per video or animation.
    """

    rate: float = 0.15
    cut: float = 0.3
    low: float | None = None
    high: float | None = None
    smooth: tuple[float, float] | None = None
    histogram: npt.NDArray[np.float64] | None = None

    def update(
        self, low: float, high: float, histogram: npt.NDArray[np.float64]
    ) -> tuple[float, float]:
        """The window to stretch this frame with, given its percentiles and histogram.

        ``histogram`` is the frame's share of values per bin (summing to 1).
        """
        previous, self.histogram = self.histogram, histogram
        changed = previous is None or 0.5 * float(np.abs(histogram - previous).sum()) > self.cut
        if changed or self.low is None or self.high is None or self.smooth is None:
            self.low, self.high = low, high
            self.smooth = (low, high)
            return low, high
        self.low += self.rate * (low - self.low)
        self.high += self.rate * (high - self.high)
        smooth_low, smooth_high = self.smooth
        smooth_low += self.rate * (self.low - smooth_low)
        smooth_high += self.rate * (self.high - smooth_high)
        self.smooth = (smooth_low, smooth_high)
        return self.smooth


_WINDOW_BINS = 32

TONE_EXPONENT = 1.4
"""The stretched encoded value is raised to this before it becomes ink coverage.

At 1 (the encoded value itself) mid-tones show as bright as a page can make them but
the displayed light overshoots the photo's (a cell's coverage adds up as light); at
about 2.2 it is linear light again, a dim page. 1.4 raised all six mono scores of the
bench (fitted and as displayed, both blurs) on ``dense``, five on ``braille`` and four
on ``shape``, and keeps a photo's mean ink near jp2a's (docs/engine.md has the figures).
"""


def stretch_index(
    index: npt.NDArray[np.intp],
    values: Plane,
    *,
    window: ToneWindow | None = None,
    low_pct: float = 1.0,
    high_pct: float = 99.0,
) -> Plane:
    """``values[index]`` stretched so its percentiles (or ``window``'s) become 0 and 1."""
    counts = np.bincount(index.ravel(), minlength=len(values))
    low, high = _percentiles(counts, values, (low_pct, high_pct))
    if window is not None:
        bins = np.minimum((values * _WINDOW_BINS).astype(np.intp), _WINDOW_BINS - 1)
        share = np.bincount(bins, weights=counts, minlength=_WINDOW_BINS) / max(index.size, 1)
        low, high = window.update(low, high, share)
    if high - low < 0.02:
        table = values
    else:
        table = np.clip((values - np.float32(low)) / np.float32(high - low), 0.0, 1.0)
    table = np.power(table, np.float32(TONE_EXPONENT))
    return np.asarray(table.astype(np.float32)[index], dtype=np.float32)


_BYTE_VALUES = np.arange(256, dtype=np.float32) / np.float32(255.0)


def perceptual_tone_bytes(
    encoded: npt.NDArray[np.uint8], *, window: ToneWindow | None = None
) -> Plane:
    """:func:`perceptual_tone` of sRGB-encoded ``uint8`` values (a decoded video frame)."""
    return stretch_index(encoded.astype(np.intp), _BYTE_VALUES, window=window)


def perceptual_tone(
    plane: Plane,
    *,
    low_pct: float = 1.0,
    high_pct: float = 99.0,
    window: ToneWindow | None = None,
) -> Plane:
    """Linear light to the light a text style should show: ``float32`` in [0, 1].

    The light is sRGB-encoded (close to perceived lightness), stretched so that its
    ``low_pct`` and ``high_pct`` percentiles become 0 and 1 (for a video, ``window``
    smooths them over frames) and raised to ``TONE_EXPONENT``. Glyphs cover at most
    about a quarter of a cell, so shown linearly a photo's mid-tones land on sparse
    punctuation; mapped perceptually they land mid-ramp, and a person reads the tone. A
    flat plane is only encoded.
    """
    from asciihub.engine.resize import srgb_encode_table, srgb_index

    return stretch_index(
        srgb_index(plane), srgb_encode_table(), window=window, low_pct=low_pct, high_pct=high_pct
    )
