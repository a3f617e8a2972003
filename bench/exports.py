"""Bench the drawn exports: thumbnails per second, and GIF, MP4 and WebM encodes.

``python -m bench exports [--frames 100,600,1000] [--formats gif,mp4,webm] [--thumbnails 200]``

* Thumbnails of 80x24 artworks (photos converted in truecolour with cell backgrounds,
  and plain text), per second, against the baseline of the previous renderer measured
  in the same run (Pillow ``ImageDraw.text`` per run of equal colour, PNG ``optimize``).
* Every encoder on N frames of 120x40 cells (a converted photo panning, so every frame
  differs) at font size 16 (1200x760 pixels), each in a fresh interpreter that writes
  to a file: wall time and peak RSS (``ru_maxrss``), and that peak less the RSS once
  the document is built (the document itself grows with the frames: about 34 MB at
  1,000 frames of 120x40 with colours and backgrounds). The middle count defaults to
  ``export_max_frames``. PyAV is imported before the clock starts (a worker has it).
* Baseline: the ``ffmpeg`` CLI encoding the same frames, written once as a PNG
  sequence beforehand, with the MP4 export's libx264 settings (``-preset veryfast
  -crf 20 -tune animation -bf 0``, yuv420p). Its time counts the ffmpeg run only
  (reading the PNGs and encoding); the export's time counts everything (drawing every
  frame, converting, encoding, muxing). "x ffmpeg" is ffmpeg's time over ours: the
  export's speed as a share of ffmpeg's (target >= 0.8).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._tools import ROOT, option, print_table

PHOTOS = ROOT / "bench" / "photos"

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from bench.exports import panning_document
from asciihub.render.exports import RenderOptions, write_export

import asciihub.render.video
if sys.argv[1] in ("mp4", "webm"):
    import av  # a worker has it loaded: not part of one export's time

name, count, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
document = panning_document(count)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
with open(path, "wb") as out:
    write_export(document, name, RenderOptions(font_size=16), out)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_kib": peak, "before_kib": before}}))
"""

FFMPEG_CHILD = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, capture_output=True)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kib": peak}))
"""


def _converted(photo: str, columns: int, rows: int) -> Any:
    from asciihub.engine import convert

    return convert(PHOTOS / photo, width=columns * 2, height=rows, color="truecolor")


def panning_document(count: int, columns: int = 120, rows: int = 40) -> Any:
    """``count`` frames of ``columns`` x ``rows``: a window panning across a converted
    photo twice as wide (every frame differs), 40 ms each."""
    import numpy as np

    from asciihub.engine.document import DocumentLimits, build_document

    wide = _converted("chelsea.jpg", columns, rows)
    lines = wide.text.split("\n")
    width = len(lines[0])
    ink = np.frombuffer(wide.colors, dtype=np.uint8).reshape(rows, width, 3)
    ground = np.frombuffer(wide.backgrounds, dtype=np.uint8).reshape(rows, width, 3)
    frames = []
    for index in range(count):
        left = index % (width - columns)
        frames.append(
            {
                "text": "\n".join(line[left : left + columns] for line in lines),
                "duration_ms": 40,
                "colors": ink[:, left : left + columns].tobytes(),
                "backgrounds": ground[:, left : left + columns].tobytes(),
            }
        )
    limits = DocumentLimits(max_frames=max(count, 1), max_chars=count * (columns + 1) * rows)
    return build_document(frames, limits=limits)


def _old_thumbnail(document: Any) -> bytes:
    """The previous renderer: ImageDraw.text per run of equal colour, PNG optimize."""
    from PIL import Image, ImageDraw

    from asciihub.render.raster import (
        BACKGROUND,
        INK,
        THUMBNAIL_BOX,
        _fit,
        _font,
        cell_size,
        fitting_font_size,
    )

    size = fitting_font_size(document.width, document.height, THUMBNAIL_BOX)
    frame = document.frames[0]
    font = _font(size)
    cell_w, cell_h = cell_size(size)
    pixels = (document.width * cell_w, document.height * cell_h)
    if frame.backgrounds is not None:
        cells = Image.frombytes("RGB", (document.width, document.height), frame.backgrounds)
        image = cells.resize(pixels, Image.Resampling.NEAREST)
    else:
        image = Image.new("RGB", pixels, BACKGROUND)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(frame.lines):
        if frame.colors is None:
            draw.text((0, row * cell_h), line, font=font, fill=INK)
            continue
        start = 0
        offset = row * document.width * 3
        for index in range(1, len(line) + 1):
            here = frame.colors[offset + 3 * index : offset + 3 * index + 3]
            first = frame.colors[offset + 3 * start : offset + 3 * start + 3]
            if index == len(line) or here != first:
                if line[start:index].strip():
                    draw.text((start * cell_w, row * cell_h), line[start:index], font=font,
                              fill=tuple(first))  # fmt: skip
                start = index
    buffer = io.BytesIO()
    _fit(image, THUMBNAIL_BOX).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _thumbnail_rows(count: int) -> list[list[str]]:
    from asciihub.engine.document import build_document
    from asciihub.render.raster import thumbnail_png

    documents = []
    for photo in sorted(path.name for path in PHOTOS.glob("*.jpg")):
        frame = _converted(photo, 40, 24)  # 80 columns: _converted doubles the width
        documents.append(
            build_document(
                [{"text": frame.text, "colors": frame.colors, "backgrounds": frame.backgrounds}]
            )
        )
        documents.append(build_document([{"text": frame.text}]))
    rows = []
    measured: dict[str, float] = {}
    for label, render in (
        ("thumbnail_png", thumbnail_png),
        ("baseline: previous renderer", _old_thumbnail),
    ):
        render(documents[0])  # warm the font and glyph caches
        started = time.perf_counter()
        for index in range(count):
            render(documents[index % len(documents)])
        measured[label] = count / (time.perf_counter() - started)
    base = measured["baseline: previous renderer"]
    for label, rate in measured.items():
        rows.append([label, f"{rate:.0f}", f"{rate / base:.1f}"])
    return rows


def _child(code: str, args: list[str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bench child failed: {done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _png_sequence(count: int, folder: Path) -> None:
    from asciihub.render.raster import frame_image

    document = panning_document(count)
    for index, frame in enumerate(document.frames):
        image = frame_image(frame, document.width, document.height, font_size=16)
        image.save(folder / f"{index:05d}.png", compress_level=1)


def _ffmpeg(count: int, folder: Path) -> dict[str, float]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("the ffmpeg CLI is not installed (Debian's ffmpeg)")
    frames = folder / f"png-{count}"
    frames.mkdir(exist_ok=True)
    _png_sequence(count, frames)
    command = [
        ffmpeg, "-v", "error", "-y", "-framerate", "25", "-i", str(frames / "%05d.png"),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-tune", "animation",
        "-bf", "0", "-pix_fmt", "yuv420p", str(folder / f"ffmpeg-{count}.mp4"),
    ]  # fmt: skip
    result = _child(FFMPEG_CHILD, command)
    shutil.rmtree(frames)
    return result


def main(argv: list[str]) -> int:
    """Run the case; 0 on success."""
    from asciihub.settings import Settings

    default_max = Settings().export_max_frames
    counts = [int(n) for n in option(argv, "frames", f"100,{default_max},1000").split(",")]
    formats = option(argv, "formats", "gif,mp4,webm").split(",")
    thumbnails = int(option(argv, "thumbnails", "200"))

    print_table(
        "thumbnails of 80x24 artworks (6 photos in truecolour with backgrounds, and as plain text)",
        ["renderer", "thumbnails/s", "x baseline"],
        _thumbnail_rows(thumbnails),
    )
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="asciihub-bench-exports-") as name:
        folder = Path(name)
        _ffmpeg(5, folder)  # warm-up: the first run loads ffmpeg's libraries from disk
        for count in counts:
            baseline = _ffmpeg(count, folder)
            results = {"baseline: ffmpeg CLI (mp4, from PNGs)": baseline}
            for fmt in formats:
                out = folder / f"out-{count}.{fmt}"
                results[fmt] = _child(CHILD.format(root=str(ROOT)), [fmt, str(count), str(out)])
                results[fmt]["bytes"] = out.stat().st_size
                out.unlink()
            for label, result in results.items():
                speed = baseline["seconds"] / result["seconds"]
                rows.append(
                    [
                        str(count), label, f"{result['seconds']:.2f}",
                        f"{count / result['seconds']:.0f}", f"{speed:.2f}",
                        f"{result['peak_kib'] / 1024:.0f}",
                        _encoding_mib(result),
                        f"{result.get('bytes', 0) / 1e6:.1f}" if "bytes" in result else "-",
                    ]
                )  # fmt: skip
    print_table(
        "encodes of 120x40 frames at font size 16 (1200x760 px), each in a fresh process",
        [
            "frames",
            "encoder",
            "seconds",
            "frames/s",
            "x ffmpeg",
            "peak RSS MiB",
            "peak - before encode MiB",
            "MB out",
        ],  # fmt: skip
        rows,
    )
    _print_growth(rows, counts, formats)
    return 0


def _encoding_mib(result: dict[str, float]) -> str:
    """Peak RSS over the RSS once the document is built: what encoding added."""
    if "before_kib" not in result:
        return "-"
    return f"{(result['peak_kib'] - result['before_kib']) / 1024:.0f}"


def _print_growth(rows: list[list[str]], counts: list[int], formats: list[str]) -> None:
    """Peak RSS at the largest count over the smallest, per encoder (target < 2)."""
    if len(counts) < 2:
        return
    peaks = {(row[0], row[1]): (float(row[5]), float(row[6])) for row in rows if row[6] != "-"}
    growth = []
    for fmt in formats:
        (large, large_encode), (small, small_encode) = (
            peaks[(str(counts[-1]), fmt)],
            peaks[(str(counts[0]), fmt)],
        )
        growth.append([fmt, f"{large / small:.2f}", f"{large_encode - small_encode:+.0f}"])
    print_table(
        f"peak RSS at {counts[-1]} frames over {counts[0]} frames (target < 2)",
        ["encoder", "ratio", "encoding's share, MiB more"],
        growth,
    )
