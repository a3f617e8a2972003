"""How text art looks on a display, for the engine bench: glyph rendering, ANSI parsing,
blur, SSIM/PSNR, CIELAB and CIEDE2000.

Everything works in linear light. A text is drawn cell by cell with the bundled
monospace font (cells of CELL_W x CELL_H pixels); a coloured cell shows
``bg + coverage * (fg - bg)``, as a terminal mixes the glyph's ink over its background.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = Path(__file__).parents[1] / "src/asciihub/engine/fonts/DejaVuSansMono.ttf"
CELL_W, CELL_H = 8, 16
PRINTABLE = "".join(chr(code) for code in range(32, 127))
DEFAULT_FG = (229, 229, 229)
DEFAULT_BG = (0, 0, 0)
XTERM16 = [
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
    (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
    (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
]  # fmt: skip
_SGR = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")
_CUBE = (0, 95, 135, 175, 215, 255)


def xterm256(index: int) -> tuple[int, int, int]:
    """The RGB of an xterm 256-colour index."""
    if index < 16:
        return XTERM16[index]
    if index >= 232:
        grey = 8 + 10 * (index - 232)
        return grey, grey, grey
    index -= 16
    return _CUBE[index // 36], _CUBE[index // 6 % 6], _CUBE[index % 6]


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] to linear light (float64)."""
    out: np.ndarray = np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)
    return out


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    """Linear light to sRGB in [0, 1] (float64)."""
    v = np.clip(values, 0.0, 1.0)
    out: np.ndarray = np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055)
    return out


class Renderer:
    """Characters to ink-coverage tiles of CELL_H x CELL_W, drawn with the bundled font."""

    def __init__(self) -> None:
        self.font = ImageFont.truetype(str(FONT), size=round(CELL_W * 4 / 0.6021))
        self.tiles: dict[str, np.ndarray] = {}
        self.white = float(max(self.tile(c).mean() for c in PRINTABLE))

    def tile(self, char: str) -> np.ndarray:
        """The coverage tile of one character, float64 (CELL_H, CELL_W).

        Braille is drawn from its dot bits (2 x 2 pixel dots centred in 2 x 4 sub-cells),
        as the bundled font has no braille.
        """
        if char not in self.tiles and 0x2800 <= ord(char) <= 0x28FF:
            self.tiles[char] = _braille_tile(ord(char) - 0x2800)
        if char not in self.tiles:
            big = Image.new("L", (CELL_W * 4, CELL_H * 4))
            ascent, descent = self.font.getmetrics()
            if char.strip():
                ImageDraw.Draw(big).text(
                    (0, (CELL_H * 4 - ascent - descent) / 2), char, fill=255, font=self.font
                )
            self.tiles[char] = np.asarray(big.reduce(4), dtype=np.float64) / 255.0
        return self.tiles[char]

    def white_of(self, alphabet: str) -> float:
        """Mean coverage of the densest glyph of printable ASCII and ``alphabet``."""
        return max([self.white, *(float(self.tile(c).mean()) for c in set(alphabet))])

    def coverage(self, grid: list[str]) -> np.ndarray:
        """Lines of characters to float64 (rows * CELL_H, columns * CELL_W) coverage."""
        cols = max(len(line) for line in grid)
        chars = sorted({c for line in grid for c in line} | {" "})
        lookup = {c: i for i, c in enumerate(chars)}
        stack = np.stack([self.tile(c) for c in chars])
        index = np.array([[lookup[c] for c in line.ljust(cols)] for line in grid])
        tiles = stack[index]
        rows = len(grid)
        image: np.ndarray = tiles.transpose(0, 2, 1, 3).reshape(rows * CELL_H, cols * CELL_W)
        return image

    def render(self, text: str) -> np.ndarray:
        """Mono text to float64 (rows * CELL_H, columns * CELL_W) coverage in [0, 1]."""
        return self.coverage(text.split("\n"))

    def render_color(self, cells: tuple[list[str], np.ndarray, np.ndarray]) -> np.ndarray:
        """Parsed cells to linear RGB float64 (rows * CELL_H, columns * CELL_W, 3)."""
        grid, fg, bg = cells
        cover = self.coverage(grid)[..., None]
        fg_lin = srgb_to_linear(fg / 255.0).repeat(CELL_H, 0).repeat(CELL_W, 1)
        bg_lin = srgb_to_linear(bg / 255.0).repeat(CELL_H, 0).repeat(CELL_W, 1)
        image: np.ndarray = bg_lin + cover * (fg_lin - bg_lin)
        return image


_BRAILLE_DOTS = ((0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1), (3, 0), (3, 1))


def _braille_tile(mask: int) -> np.ndarray:
    tile = np.zeros((CELL_H, CELL_W))
    sub_h, sub_w = CELL_H // 4, CELL_W // 2
    for bit, (row, col) in enumerate(_BRAILLE_DOTS):
        if mask >> bit & 1:
            top, left = row * sub_h + sub_h // 2 - 1, col * sub_w + sub_w // 2 - 1
            tile[top : top + 2, left : left + 2] = 1.0
    return tile


def _apply_sgr(params: list[int], state: list[tuple[int, int, int] | None]) -> None:
    i = 0
    while i < len(params):
        p = params[i]
        if p == 0:
            state[0] = state[1] = None
        elif p in (38, 48) and i + 1 < len(params):
            slot = 0 if p == 38 else 1
            if params[i + 1] == 5 and i + 2 < len(params):
                state[slot] = xterm256(params[i + 2])
                i += 2
            elif params[i + 1] == 2 and i + 4 < len(params):
                state[slot] = (params[i + 2], params[i + 3], params[i + 4])
                i += 4
        elif p == 39:
            state[0] = None
        elif p == 49:
            state[1] = None
        elif 30 <= p <= 37:
            state[0] = XTERM16[p - 30]
        elif 90 <= p <= 97:
            state[0] = XTERM16[p - 90 + 8]
        elif 40 <= p <= 47:
            state[1] = XTERM16[p - 40]
        elif 100 <= p <= 107:
            state[1] = XTERM16[p - 100 + 8]
        i += 1


def parse_ansi(text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """ANSI text to (lines, fg uint8 (rows, cols, 3), bg uint8 (rows, cols, 3))."""
    lines: list[str] = []
    fgs: list[list[tuple[int, int, int]]] = []
    bgs: list[list[tuple[int, int, int]]] = []
    state: list[tuple[int, int, int] | None] = [None, None]
    for raw in text.strip("\n").split("\n"):
        chars: list[str] = []
        fg_row: list[tuple[int, int, int]] = []
        bg_row: list[tuple[int, int, int]] = []
        pos = 0
        for match in [*_SGR.finditer(raw), None]:
            end = match.start() if match else len(raw)
            for char in raw[pos:end]:
                if char == "\r":
                    continue
                chars.append(char)
                fg_row.append(state[0] or DEFAULT_FG)
                bg_row.append(state[1] or DEFAULT_BG)
            if match is None:
                break
            pos = match.end()
            if match.group(2) == "m":
                params = [int(p) if p else 0 for p in match.group(1).split(";")]
                _apply_sgr(params, state)
        lines.append("".join(chars))
        fgs.append(fg_row)
        bgs.append(bg_row)
    cols = max(len(line) for line in lines)
    fg = np.zeros((len(lines), cols, 3), dtype=np.uint8)
    bg = np.zeros((len(lines), cols, 3), dtype=np.uint8)
    fg[...] = DEFAULT_FG
    bg[...] = DEFAULT_BG
    for r, (f_row, b_row) in enumerate(zip(fgs, bgs, strict=True)):
        if f_row:
            fg[r, : len(f_row)] = f_row
            bg[r, : len(b_row)] = b_row
    return [line.ljust(cols) for line in lines], fg, bg


def strip_ansi(text: str) -> str:
    """Text with escape sequences removed and trailing blank lines dropped."""
    plain = _SGR.sub("", text)
    return "\n".join(line.rstrip("\r") for line in plain.strip("\n").split("\n"))


def source_linear(path: Path, shape: tuple[int, int], *, color: bool = False) -> np.ndarray:
    """The photo in linear light, box-resampled to ``shape`` (rows, columns)[, 3]."""
    image = Image.open(path).convert("RGB" if color else "L")
    linear = srgb_to_linear(np.asarray(image, dtype=np.float64) / 255.0).astype(np.float32)
    planes = [linear] if not color else [linear[..., k] for k in range(3)]
    out = [
        np.asarray(
            Image.fromarray(p, mode="F").resize((shape[1], shape[0]), Image.Resampling.BOX),
            dtype=np.float64,
        )
        for p in planes
    ]
    return out[0] if not color else np.stack(out, axis=-1)


def gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (reflect padding) through the FFT, float64 (rows, columns[, k])."""
    if image.ndim == 3:
        return np.stack([gaussian(image[..., k], sigma) for k in range(image.shape[2])], -1)
    pad = int(3 * sigma) + 1
    padded = np.pad(image, pad, mode="reflect")
    fy = np.fft.fftfreq(padded.shape[0])[:, None]
    fx = np.fft.rfftfreq(padded.shape[1])[None, :]
    transfer = np.exp(-2 * np.pi**2 * sigma**2 * (fx**2 + fy**2))
    out = np.fft.irfft2(np.fft.rfft2(padded) * transfer, s=padded.shape)
    return out[pad:-pad, pad:-pad]


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Gaussian window, sigma 1.5, data range 1)."""
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = gaussian(a, 1.5), gaussian(b, 1.5)
    var_a = gaussian(a * a, 1.5) - mu_a**2
    var_b = gaussian(b * b, 1.5) - mu_b**2
    cov = gaussian(a * b, 1.5) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float((num / den).mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB for data range 1."""
    mse = float(np.mean((a - b) ** 2))
    return float(10 * np.log10(1.0 / max(mse, 1e-12)))


def fitted_scores(render: np.ndarray, source: np.ndarray, sigma: float) -> tuple[float, float]:
    """(SSIM, PSNR) after fitting the blurred render's gain and offset to the source."""
    r, s = gaussian(render, sigma), gaussian(source, sigma)
    design = np.stack([r.ravel(), np.ones(r.size)], axis=1)
    (gain, offset), *_ = np.linalg.lstsq(design, s.ravel(), rcond=None)
    fitted = np.clip(gain * r + offset, 0.0, 1.0)
    return ssim(fitted, s), psnr(fitted, s)


def displayed_scores(
    render: np.ndarray, source: np.ndarray, sigma: float, white: float
) -> tuple[float, float]:
    """(SSIM, PSNR) as displayed: white is a cell of the densest glyph, black an empty cell.

    No fitting. The blur happens in linear light (the eye integrates light); the
    comparison happens on sRGB-encoded values, as an eye judges lightness.
    """
    r = linear_to_srgb(np.clip(gaussian(render, sigma) / white, 0.0, 1.0))
    s = linear_to_srgb(gaussian(source, sigma))
    return ssim(r, s), psnr(r, s)


# --- colour ----------------------------------------------------------------------------

_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE = _RGB_TO_XYZ.sum(axis=1)


def linear_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Linear sRGB float64 (..., 3) to CIELAB (D65) float64 (..., 3)."""
    xyz = np.clip(rgb, 0.0, 1.0) @ _RGB_TO_XYZ.T / _WHITE
    delta = 6 / 29
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta**2) + 4 / 29)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of two CIELAB arrays (..., 3), float64 (...)."""
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dlp, dcp = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    lpm, cpm = (l1 + l2) / 2, (c1p + c2p) / 2
    hsum = h1p + h2p
    hpm = np.where(np.abs(h1p - h2p) > 180, np.where(hsum < 360, hsum + 360, hsum - 360), hsum) / 2
    hpm = np.where(c1p * c2p == 0, hsum, hpm)
    t = (
        1
        - 0.17 * np.cos(np.radians(hpm - 30))
        + 0.24 * np.cos(np.radians(2 * hpm))
        + 0.32 * np.cos(np.radians(3 * hpm + 6))
        - 0.20 * np.cos(np.radians(4 * hpm - 63))
    )
    d_theta = 30 * np.exp(-(((hpm - 275) / 25) ** 2))
    rc = 2 * np.sqrt(cpm**7 / (cpm**7 + 25.0**7))
    sl = 1 + 0.015 * (lpm - 50) ** 2 / np.sqrt(20 + (lpm - 50) ** 2)
    sc = 1 + 0.045 * cpm
    sh = 1 + 0.015 * cpm * t
    rt = -np.sin(np.radians(2 * d_theta)) * rc
    out: np.ndarray = np.sqrt(
        (dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp / sh) ** 2 + rt * (dcp / sc) * (dhp / sh)
    )
    return out


def color_scores(render: np.ndarray, source: np.ndarray, sigma: float) -> tuple[float, float]:
    """(mean CIEDE2000, SSIM of L*/100) of blurred linear RGB render against the source."""
    r = linear_to_lab(gaussian(render, sigma))
    s = linear_to_lab(gaussian(source, sigma))
    return float(ciede2000(r, s).mean()), ssim(r[..., 0] / 100, s[..., 0] / 100)


def to_image(linear: np.ndarray) -> Image.Image:
    """Linear light (rows, columns[, 3]) to an 8-bit sRGB image."""
    pixels = np.clip(linear_to_srgb(linear) * 255 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, mode="RGB" if pixels.ndim == 3 else "L")
