"""Bench case ``engine``: ASCII conversion speed and quality against jp2a and chafa.

``python -m bench engine [--quick] [--quality-only] [--video-only] [--no-color] [--no-sheets]
[--repeat=N]``

Speed: in-process conversion time per photo at 80, 160 and 320 columns, next to the
whole-process time of ``jp2a`` and ``chafa`` on the same files in the same run; a
12-megapixel JPEG at 160 columns; ``asciihub convert`` as a whole process (next to a
bare Python importing numpy and Pillow); video frames per second at 160 columns on one
core for every style (next to decoding alone) and the share of characters a noisy still
changes from frame to frame.

Quality (see ``bench/_engine_quality.py``): mono scores fitted and as displayed, colour
scores as a terminal shows the cells, and sheets of every style and peer drawn as the
artwork page shows them, saved under ``bench/out/``.
"""

from __future__ import annotations

import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

PHOTOS = Path(__file__).parent / "photos"
WIDTHS = (80, 160, 320)
QUALITY_WIDTH = 160
COLOR_WIDTH = 80
OUT = Path(__file__).parent / "out"


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


def timed(func: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``func`` over ``repeat`` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# --- the sections ------------------------------------------------------------------


def speed_table(photos: list[Path], peers: dict[str, str | None], repeat: int) -> None:
    """Print time per conversion at each width, ours in-process, peers whole-process."""
    from asciihub.engine import convert

    rows: dict[str, list[float]] = {}
    cases = [(style, "none") for style in ("dense", "shape", "blocks", "braille")]
    cases += [("blocks", "truecolor"), ("shape", "truecolor")]
    for width in WIDTHS:
        for style, color in cases:
            run = functools.partial(convert, width=width, style=style, color=color)
            for path in photos:
                run(path)  # warm caches
            ms = statistics.mean(timed(functools.partial(run, path), repeat) for path in photos)
            label = style if color == "none" else f"{style} {color}"
            rows.setdefault(f"asciihub {label} (in-process)", []).append(ms)
        per_peer: dict[str, list[float]] = {}
        for path in photos:
            commands = peer_commands(peers, path, width)
            if peers["chafa"]:
                commands["chafa full colour"] = [
                    peers["chafa"], "--format", "symbols", "--colors", "full",
                    "--size", f"{width}x1000", "--animate", "off", "--polite", "on", str(path),
                ]  # fmt: skip
            for name, command in commands.items():
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
    targets = (
        ("dense", "jp2a"),
        ("shape", "chafa"),
        ("blocks truecolor", "chafa full colour"),
    )
    print("targets at each width (ours in-process against the peer's whole process):")
    for ours, peer in targets:
        mine = rows.get(f"asciihub {ours} (in-process)")
        theirs = rows.get(f"{peer} (whole process)")
        if mine is None or theirs is None:
            continue
        verdicts = " ".join(
            f"{w}: {'met' if a <= b else 'MISSED'} ({a / b:.2f}x)"
            for w, a, b in zip(WIDTHS, mine, theirs, strict=True)
        )
        print(f"  {ours} no slower than {peer}: {verdicts}")


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
    bare = [sys.executable, "-c", "import numpy, PIL.Image"]
    floor = timed(lambda: subprocess.run(bare, capture_output=True, check=True), repeat)
    print("\nwhole process, one photo to 160 columns, ms (target: asciihub under 300)")
    print(f"{'asciihub convert':34}{ours:10.1f}  {'met' if ours < 300 else 'MISSED'}")
    print(f"{'python importing numpy and PIL':34}{floor:10.1f}  (the floor of any Python process)")
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


VIDEO_CASES = (
    ("dense", "none"),
    ("simple", "none"),
    ("shape", "none"),
    ("edges", "none"),
    ("blocks", "none"),
    ("braille", "none"),
    ("dense", "truecolor"),
    ("shape", "truecolor"),
    ("blocks", "truecolor"),
    ("braille", "truecolor"),
)


def make_static_video(path: Path, source: Path, frames: int = 60) -> None:
    """Write a 640x360 clip of one still with a little noise in every frame."""
    import av
    import numpy as np
    from av.video.stream import VideoStream

    still = np.asarray(Image.open(source).convert("RGB").resize((640, 360)), dtype=np.float32)
    rng = np.random.default_rng(1)
    with av.open(str(path), "w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=30)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for _ in range(frames):
            pixels = np.clip(still + rng.normal(0.0, 3.0, still.shape), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _decode_fps(clip: Path) -> float:
    """Frames per second of decoding and scaling alone (160 columns' grey samples)."""
    import av

    start = time.perf_counter()
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        count = sum(
            1
            for frame in container.decode(stream)
            if frame.reformat(width=320, height=180, format="gray").to_ndarray().size
        )
    return count / (time.perf_counter() - start)


def _change_ratio(texts: list[str]) -> float:
    """Mean share of characters that change between consecutive frames."""
    pairs = list(zip(texts, texts[1:], strict=False))
    changed = [sum(a != b for a, b in zip(x, y, strict=False)) / max(len(x), 1) for x, y in pairs]
    return statistics.mean(changed) if changed else 0.0


def video_table(photos: list[Path]) -> None:
    """Print video frames per second at 160 columns on one core, and temporal stability.

    The baselines in the same run: decoding and scaling alone (no conversion can beat
    it) and ``dense``. Frames per second are given by wall time and by CPU time (the
    process's, decoding threads included), which a loaded machine disturbs less.
    """
    from asciihub.engine import convert_animation

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        make_video(clip, photos[0])
        static = Path(tmp) / "static.mp4"
        make_static_video(static, photos[0])
        affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        if affinity:
            os.sched_setaffinity(0, {min(affinity)})
        try:
            print("\nvideo 640x360, 240 frames, to 160 columns, one core (decoding included)")
            print("target: at least 120 frames/s; baseline: decoding and scaling alone")
            print(f"{'decode + scale only':34}{_decode_fps(clip):10.1f} frames/s")
            for style, color in VIDEO_CASES:
                start, cpu = time.perf_counter(), time.process_time()
                frames = convert_animation(clip, width=160, style=style, color=color)
                count = sum(1 for _ in frames)
                fps = count / (time.perf_counter() - start)
                cpu_fps = count / max(time.process_time() - cpu, 1e-9)
                label = style if color == "none" else f"{style} {color}"
                verdict = "met" if fps >= 120 else "MISSED"
                print(
                    f"{'asciihub ' + label:34}{fps:10.1f} frames/s ({cpu_fps:6.1f} by CPU time, "
                    f"{count} frames)  {verdict}"
                )
            print("\ntemporal stability: a still with noise (sigma 3/255), 60 frames at 160")
            print("columns: share of characters changing from frame to frame (lower is steadier)")
            for style, _ in VIDEO_CASES[:6]:
                texts = [f.text for f in convert_animation(static, width=160, style=style)]
                print(f"{'asciihub ' + style:34}{_change_ratio(texts):10.3f}")
        finally:
            if affinity:
                os.sched_setaffinity(0, affinity)


def quality_tables(photos: list[Path], peers: dict[str, str | None], *, color: bool) -> None:
    """Print the mono quality table (and the colour one when ``color``)."""
    from bench._engine_quality import color_quality, mono_quality

    mono_quality(photos, peers, QUALITY_WIDTH)
    if color:
        color_quality(photos, peers, COLOR_WIDTH)


def main(argv: list[str]) -> int:
    """Run the engine bench; ``--quick`` uses two photos and fewer repeats.

    ``--quality-only`` skips the speed tables, ``--no-color`` the colour table and
    ``--no-sheets`` the sheets saved under bench/out/; ``--video-only`` runs the video
    table alone.
    """
    quick = "--quick" in argv
    repeat = 3 if quick else 7
    for arg in argv:
        if arg.startswith("--repeat="):
            repeat = int(arg.split("=", 1)[1])
    photos = sorted(PHOTOS.glob("*.jpg"))[: 2 if quick else None]
    peers = ensure_peers()
    for name, where in peers.items():
        if where is None:
            print(f"{name} is not installed; its rows are left out", file=sys.stderr)
    if "--video-only" in argv:
        video_table(photos)
        return 0
    if "--quality-only" not in argv:
        speed_table(photos, peers, repeat)
        big_jpeg_table(photos, peers, repeat)
        startup_table(photos, peers, repeat)
        video_table(photos)
    quality_tables(photos, peers, color="--no-color" not in argv)
    if "--no-sheets" not in argv:
        from bench._engine_quality import save_sheets

        saved = save_sheets(PHOTOS, peers, OUT)
        print(f"\nsheets ({len(saved)}): {OUT}/sheet-*.png")
    return 0
