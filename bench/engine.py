"""Bench case ``engine``: ASCII conversion speed and quality against jp2a and chafa.

``python -m bench engine [--quick] [--sheet FILE] [--repeat N]``

Speed: in-process conversion time per photo at 80, 160 and 320 columns, next to the
whole-process time of ``jp2a`` and ``chafa`` on the same files in the same run; a
12-megapixel JPEG at 160 columns; video frames per second at 160 columns on one core.

Quality: each text output is rendered back to pixels with a monospace font (light ink
on dark, cells of 1:2). Render and source are blurred in linear light with a Gaussian
of one cell width (then half a cell), the render's gain and offset are fitted to the
source by least squares, and SSIM and PSNR are computed. A side-by-side sheet of the
renders is saved for people to look at.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PHOTOS = Path(__file__).parent / "photos"
FONT = Path(__file__).parents[1] / "src/asciihub/engine/fonts/DejaVuSansMono.ttf"
CELL_W, CELL_H = 8, 16
WIDTHS = (80, 160, 320)
QUALITY_WIDTH = 160
OUR_STYLES = ("dense", "simple", "shape", "edges")
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# --- peers -----------------------------------------------------------------------


def ensure_peers() -> dict[str, str | None]:
    """Paths of jp2a and chafa, installing the Debian packages when missing."""
    missing = [name for name in ("jp2a", "chafa") if shutil.which(name) is None]
    if missing and shutil.which("apt-get") and os.geteuid() == 0:
        print(f"installing {', '.join(missing)} with apt-get ...", file=sys.stderr)
        quiet = subprocess.DEVNULL
        subprocess.run(["apt-get", "update", "-qq"], check=False, stdout=quiet, stderr=quiet)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing],
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdout=quiet,
            stderr=quiet,
        )
    return {name: shutil.which(name) for name in ("jp2a", "chafa")}


def peer_commands(peers: dict[str, str | None], path: Path, width: int) -> dict[str, list[str]]:
    """The peer command lines for one photo and width."""
    commands: dict[str, list[str]] = {}
    if peers["jp2a"]:
        commands["jp2a"] = [peers["jp2a"], f"--width={width}", str(path)]
    if peers["chafa"]:
        base = [peers["chafa"], "--format", "symbols", "--symbols", "ascii", "--colors", "none"]
        size = ["--size", f"{width}x1000", "--animate", "off", "--polite", "on"]
        commands["chafa"] = [*base, *size, "--dither", "none", str(path)]
        commands["chafa-ordered"] = [*base, *size, "--dither", "ordered", str(path)]
    return commands


def run_peer(command: list[str]) -> str:
    """Run a peer and return its text output, escape sequences removed."""
    done = subprocess.run(command, capture_output=True, check=True)
    text = _ESCAPES.sub("", done.stdout.decode("utf-8", "replace"))
    return "\n".join(line.rstrip("\r") for line in text.strip("\n").split("\n"))


def timed(func: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``func`` over ``repeat`` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# --- rendering and scores ----------------------------------------------------------


class Renderer:
    """Text to a linear-light image: each cell a CELL_W x CELL_H tile of ink coverage."""

    def __init__(self) -> None:
        self.font = ImageFont.truetype(str(FONT), size=round(CELL_W * 4 / 0.6021))
        self.tiles: dict[str, np.ndarray] = {}

    def tile(self, char: str) -> np.ndarray:
        """The coverage tile of one character, float64 (CELL_H, CELL_W)."""
        if char not in self.tiles:
            big = Image.new("L", (CELL_W * 4, CELL_H * 4))
            ascent, descent = self.font.getmetrics()
            if char.strip():
                ImageDraw.Draw(big).text(
                    (0, (CELL_H * 4 - ascent - descent) / 2), char, fill=255, font=self.font
                )
            self.tiles[char] = np.asarray(big.reduce(4), dtype=np.float64) / 255.0
        return self.tiles[char]

    def render(self, text: str) -> np.ndarray:
        """Render ``text`` to float64 (rows * CELL_H, columns * CELL_W) in [0, 1]."""
        lines = text.split("\n")
        cols = max(len(line) for line in lines)
        chars = sorted({c for line in lines for c in line} | {" "})
        lookup = {c: i for i, c in enumerate(chars)}
        stack = np.stack([self.tile(c) for c in chars])
        index = np.array([[lookup[c] for c in line.ljust(cols)] for line in lines])
        tiles = stack[index]  # rows, cols, CELL_H, CELL_W
        rows = len(lines)
        image: np.ndarray = tiles.transpose(0, 2, 1, 3).reshape(rows * CELL_H, cols * CELL_W)
        return image


def source_linear(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """The photo's luma in linear light, box-resampled to ``shape`` (rows, columns)."""
    gray = np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 255.0
    linear = np.where(gray <= 0.04045, gray / 12.92, ((gray + 0.055) / 1.055) ** 2.4)
    plane = Image.fromarray(linear.astype(np.float32), mode="F")
    resized = plane.resize((shape[1], shape[0]), Image.Resampling.BOX)
    return np.asarray(resized, dtype=np.float64)


def gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (reflect padding) through the FFT, float64 (rows, columns)."""
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


def scores(render: np.ndarray, source: np.ndarray, sigma: float) -> tuple[float, float]:
    """(SSIM, PSNR dB) of the blurred render, contrast-fitted, against the blurred source."""
    r, s = gaussian(render, sigma), gaussian(source, sigma)
    design = np.stack([r.ravel(), np.ones(r.size)], axis=1)
    (gain, offset), *_ = np.linalg.lstsq(design, s.ravel(), rcond=None)
    fitted = np.clip(gain * r + offset, 0.0, 1.0)
    mse = float(np.mean((fitted - s) ** 2))
    return ssim(fitted, s), 10 * np.log10(1.0 / max(mse, 1e-12))


# --- the sections ------------------------------------------------------------------


def speed_table(photos: list[Path], peers: dict[str, str | None], repeat: int) -> None:
    """Print time per conversion at each width, ours in-process, peers whole-process."""
    from asciihub.engine import convert

    rows: dict[str, list[float]] = {}
    for width in WIDTHS:
        for style in ("dense", "shape", "blocks", "braille"):
            for path in photos:
                convert(path, width=width, style=style)  # warm caches
            ms = statistics.mean(
                timed(functools.partial(convert, path, width=width, style=style), repeat)
                for path in photos
            )
            rows.setdefault(f"asciihub {style} (in-process)", []).append(ms)
        per_peer: dict[str, list[float]] = {}
        for path in photos:
            for name, command in peer_commands(peers, path, width).items():
                per_peer.setdefault(name, []).append(
                    timed(functools.partial(subprocess.run, command, capture_output=True), repeat)
                )
        for name, values in per_peer.items():
            rows.setdefault(f"{name} (whole process)", []).append(statistics.mean(values))
    print(f"\nspeed: ms per conversion, mean over {len(photos)} photos (median of {repeat})")
    header = f"{'converter':34}" + "".join(f"{w:>9} col" for w in WIDTHS)
    print(header)
    for name, values in rows.items():
        print(f"{name:34}" + "".join(f"{v:13.1f}" for v in values))


def big_jpeg_table(photos: list[Path], peers: dict[str, str | None], repeat: int) -> None:
    """Print the time to convert a 12-megapixel JPEG to 160 columns."""
    from asciihub.engine import convert

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.jpg"
        Image.open(photos[0]).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC).save(
            big, quality=90
        )
        convert(big, width=160)
        ours = timed(lambda: convert(big, width=160), repeat)
        shape = timed(lambda: convert(big, width=160, style="shape"), repeat)
        print("\n12-megapixel JPEG (4000x3000) to 160 columns, ms")
        print(f"{'asciihub dense (in-process)':34}{ours:10.1f}")
        print(f"{'asciihub shape (in-process)':34}{shape:10.1f}")
        for name, command in peer_commands(peers, big, 160).items():
            ms = timed(functools.partial(subprocess.run, command, capture_output=True), repeat)
            print(f"{name + ' (whole process)':34}{ms:10.1f}")


def startup_table(photos: list[Path], peers: dict[str, str | None], repeat: int) -> None:
    """Print the whole-process time of `asciihub convert` at 160 columns (target < 300 ms)."""
    command = [sys.executable, "-m", "asciihub", "convert", str(photos[0]), "--width", "160"]
    subprocess.run(command, capture_output=True, check=True)
    ours = timed(lambda: subprocess.run(command, capture_output=True, check=True), repeat)
    print("\nwhole process, one photo to 160 columns, ms (target: asciihub under 300)")
    print(f"{'asciihub convert':34}{ours:10.1f}  {'met' if ours < 300 else 'MISSED'}")
    for name, peer in peer_commands(peers, photos[0], 160).items():
        ms = timed(functools.partial(subprocess.run, peer, capture_output=True), repeat)
        print(f"{name:34}{ms:10.1f}")


def make_video(path: Path, source: Path, frames: int = 240) -> None:
    """Write a 640x360 H.264 (or MPEG-4) clip panning across ``source``."""
    import av
    from av.video.stream import VideoStream

    still = Image.open(source).convert("RGB").resize((1280, 720))
    with av.open(str(path), "w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=30)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for index in range(frames):
            x = int(index * 640 / frames)
            crop = still.crop((x, 180, x + 640, 540))
            frame = av.VideoFrame.from_image(crop)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def video_table(photos: list[Path]) -> None:
    """Print video conversion frames per second at 160 columns, on one core."""
    from asciihub.engine import convert_animation

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        make_video(clip, photos[0])
        affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        if affinity:
            os.sched_setaffinity(0, {min(affinity)})
        try:
            print("\nvideo 640x360, 240 frames, to 160 columns, one core (decoding included)")
            for style in ("dense", "shape"):
                start = time.perf_counter()
                count = sum(1 for _ in convert_animation(clip, width=160, style=style))
                fps = count / (time.perf_counter() - start)
                print(f"{'asciihub ' + style:34}{fps:10.1f} frames/s ({count} frames)")
        finally:
            if affinity:
                os.sched_setaffinity(0, affinity)


def quality_table(photos: list[Path], peers: dict[str, str | None], sheet: Path) -> None:
    """Print SSIM/PSNR per converter at 160 columns and save the side-by-side sheet."""
    from asciihub.engine import convert

    renderer = Renderer()
    results: dict[str, list[tuple[float, float, float]]] = {}
    tiles: list[list[Image.Image]] = []
    names: list[str] = []
    for path in photos:
        outputs = {
            f"asciihub {style}": convert(path, width=QUALITY_WIDTH, style=style).text
            for style in OUR_STYLES
        }
        for name, command in peer_commands(peers, path, QUALITY_WIDTH).items():
            outputs[name] = run_peer(command)
        row: list[Image.Image] = []
        for name, text in outputs.items():
            render = renderer.render(text)
            source = source_linear(path, render.shape)
            one = scores(render, source, CELL_W)
            half = scores(render, source, CELL_W / 2)
            results.setdefault(name, []).append((one[0], half[0], one[1]))
            if not row:
                row.append(_to_image(source))
            row.append(_to_image(render))
        tiles.append(row)
        names = ["source", *outputs]
    print(f"\nquality at {QUALITY_WIDTH} columns, mean over {len(photos)} photos (contrast-fitted)")
    print(f"{'converter':24}{'SSIM 1 cell':>13}{'SSIM 1/2 cell':>15}{'PSNR 1 cell':>14}")
    for name, values in sorted(results.items(), key=lambda item: -np.mean(item[1], axis=0)[0]):
        one, half, psnr = np.mean(values, axis=0)
        print(f"{name:24}{one:13.3f}{half:15.3f}{psnr:11.1f} dB")
    _save_sheet(tiles, names, sheet)
    print(f"\nside-by-side sheet: {sheet}")


def _to_image(linear: np.ndarray) -> Image.Image:
    srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.power(linear, 1 / 2.4) - 0.055)
    return Image.fromarray(np.clip(srgb * 255, 0, 255).astype(np.uint8), mode="L")


def _save_sheet(tiles: list[list[Image.Image]], names: list[str], path: Path) -> None:
    width = 420
    heights = [round(width * row[0].height / row[0].width) for row in tiles]
    sheet = Image.new("L", (width * len(names), sum(heights) + 20), 40)
    draw = ImageDraw.Draw(sheet)
    for col, name in enumerate(names):
        draw.text((col * width + 4, 4), name, fill=255)
    top = 20
    for row, height in zip(tiles, heights, strict=True):
        for col, tile in enumerate(row):
            sheet.paste(tile.resize((width, height), Image.Resampling.LANCZOS), (col * width, top))
        top += height
    sheet.save(path)


def main(argv: list[str]) -> int:
    """Run the engine bench; ``--quick`` uses two photos and fewer repeats."""
    quick = "--quick" in argv
    repeat = 3 if quick else 7
    sheet = Path(tempfile.gettempdir()) / "asciihub-bench-engine-sheet.png"
    for arg in argv:
        if arg.startswith("--sheet="):
            sheet = Path(arg.split("=", 1)[1])
        if arg.startswith("--repeat="):
            repeat = int(arg.split("=", 1)[1])
    photos = sorted(PHOTOS.glob("*.jpg"))[: 2 if quick else None]
    peers = ensure_peers()
    for name, where in peers.items():
        if where is None:
            print(f"{name} is not installed; its rows are left out", file=sys.stderr)
    if "--quality-only" not in argv:
        speed_table(photos, peers, repeat)
        big_jpeg_table(photos, peers, repeat)
        startup_table(photos, peers, repeat)
        video_table(photos)
    quality_table(photos, peers, sheet)
    return 0
