"""Every export format read back by an independent reader (PyAV, Pillow, pyte, zipfile)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from asciihub.engine.color import ANSI16_PALETTE, ANSI256_PALETTE, ansi16_index, ansi256_index
from asciihub.engine.document import ArtworkDocument, build_document
from asciihub.engine.terminal import background, new_screen, read_screen
from asciihub.render.exports import EXPORT_FORMATS, RenderOptions, render_export, write_export
from asciihub.render.raster import frame_image

GOLDEN = Path(__file__).parents[2] / "fixtures" / "render" / "golden_frame.png"
OPTIONS = RenderOptions(title="Tiles <&>", timestamp=1_765_843_200, font_size=16)
DURATIONS = [120, 250, 40, 400]


def coloured_document() -> ArtworkDocument:
    """Four 12x3 frames with per-cell ink and backgrounds; frames 2 and 3 identical."""
    frames: list[dict[str, Any]] = []
    for index, duration in enumerate(DURATIONS):
        seed = min(index, 2)
        local = np.random.default_rng(seed)
        chars = local.choice(list("#@*+=:.<&> ab"), size=(3, 12))
        ink = local.integers(80, 256, size=(3, 12, 3), dtype=np.uint8)
        ground = local.integers(0, 60, size=(3, 12, 3), dtype=np.uint8)
        frames.append(
            {
                "text": "\n".join("".join(row) for row in chars),
                "duration_ms": duration,
                "colors": ink.tobytes(),
                "backgrounds": ground.tobytes(),
            }
        )
    return build_document(frames)


DOCUMENT = coloured_document()


@pytest.mark.parametrize("name", list(EXPORT_FORMATS))
def test_every_format_is_deterministic_and_streams_the_same_bytes(name: str) -> None:
    first = render_export(DOCUMENT, name, OPTIONS)
    streamed = io.BytesIO()
    write_export(DOCUMENT, name, OPTIONS, streamed)
    assert first == render_export(DOCUMENT, name, OPTIONS)
    assert first == streamed.getvalue()
    assert len(first) > 0


def test_drawn_and_per_frame_formats_carry_the_limit_flags() -> None:
    drawn = {name for name, fmt in EXPORT_FORMATS.items() if fmt.is_raster}
    animated = {name for name, fmt in EXPORT_FORMATS.items() if fmt.is_animated}
    assert drawn == {"png", "apng", "gif", "mp4", "webm", "zip"}
    assert animated == {"apng", "gif", "mp4", "webm", "svg", "html", "zip"}
    assert {EXPORT_FORMATS[name].module for name in ("mp4", "webm")} == {"av"}
    assert EXPORT_FORMATS["svg"].media_type == "image/svg+xml"
    assert EXPORT_FORMATS["webm"].media_type == "video/webm"


def test_png_export_matches_the_golden_image_within_a_tolerance() -> None:
    drawn = np.asarray(Image.open(io.BytesIO(render_export(DOCUMENT, "png", OPTIONS))))
    golden = np.asarray(Image.open(GOLDEN).convert("RGB"))
    assert drawn.shape == golden.shape
    difference = np.abs(drawn.astype(np.int16) - golden.astype(np.int16))
    assert difference.mean() < 2.0, difference.mean()
    assert (difference > 64).mean() < 0.01


def _decoded_frames(data: bytes) -> list[tuple[Any, np.ndarray]]:
    import av

    with av.open(io.BytesIO(data)) as container:
        return [
            (frame.time, frame.to_ndarray(format="rgb24")) for frame in container.decode(video=0)
        ]


@pytest.mark.parametrize(("name", "codec"), [("mp4", "h264"), ("webm", "vp9")])
def test_videos_decode_with_one_frame_per_artwork_frame_at_its_start(name: str, codec: str) -> None:
    import av

    data = render_export(DOCUMENT, name, OPTIONS)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == codec
        assert stream.width % 2 == 0 and stream.height % 2 == 0
        assert container.duration / 1_000_000 == pytest.approx(sum(DURATIONS) / 1000, abs=0.002)
    frames = _decoded_frames(data)
    starts = np.cumsum([0, *DURATIONS[:-1]]) / 1000
    assert [time for time, _ in frames] == pytest.approx(list(starts))
    expected = np.asarray(frame_image(DOCUMENT.frames[0], 12, 3, font_size=16))
    rows, columns = expected.shape[:2]
    error = np.abs(frames[0][1][:rows, :columns].astype(int) - expected.astype(int)).mean()
    assert error < 12, error


def _pillow_frames(data: bytes) -> list[tuple[int, np.ndarray]]:
    image = Image.open(io.BytesIO(data))
    shown = []
    for index in range(image.n_frames):
        image.seek(index)
        shown.append((int(image.info["duration"]), np.asarray(image.convert("RGB"))))
    return shown


@pytest.mark.parametrize("name", ["gif", "apng"])
def test_gif_and_apng_merge_identical_frames_and_keep_durations(name: str) -> None:
    data = render_export(DOCUMENT, name, OPTIONS)
    image = Image.open(io.BytesIO(data))
    assert image.format == ("GIF" if name == "gif" else "PNG")
    assert image.info.get("loop") == 0
    shown = _pillow_frames(data)
    assert [duration for duration, _ in shown] == [120, 250, 440]
    drawn = [np.asarray(frame_image(DOCUMENT.frames[i], 12, 3)) for i in (0, 1, 2)]
    tolerance = 6 if name == "gif" else 0  # GIF quantises to 256 colours a frame
    for (_, pixels), expected in zip(shown, drawn, strict=True):
        assert np.abs(pixels.astype(int) - expected.astype(int)).mean() <= tolerance


def test_gif_rounds_delays_on_the_running_clock() -> None:
    document = build_document([{"text": str(i), "duration_ms": 33} for i in range(6)])
    shown = _pillow_frames(render_export(document, "gif", OPTIONS))
    assert [duration for duration, _ in shown] == [30, 40, 30, 30, 30, 40]
    assert sum(duration for duration, _ in shown) == 200  # 6 x 33 ms, to the hundredth


def _screens(data: bytes, document: ArtworkDocument) -> list[tuple[Any, np.ndarray]]:
    """Play an ANSI export through pyte, one screen per frame: (screen frame, grounds)."""
    text = data.decode("utf-8")
    parts = text.split("\x1b[H\x1b[2J")
    parts = parts[1:] if document.frame_count > 1 else parts
    shown = []
    for part in parts:
        screen, stream = new_screen(document.width, document.height + 1, newline_returns=True)
        stream.feed(part)
        grounds = np.array(
            [
                [background(screen.buffer[y][x]) or (0, 0, 0) for x in range(document.width)]
                for y in range(document.height)
            ],
            dtype=np.uint8,
        )
        shown.append((read_screen(screen, rows=document.height), grounds))
    return shown


@pytest.mark.parametrize(
    ("name", "palette"),
    [
        ("ansi", None),
        ("ansi256", lambda c: ANSI256_PALETTE[ansi256_index(c)]),
        ("ansi16", lambda c: ANSI16_PALETTE[ansi16_index(c)]),
    ],
)
def test_ansi_played_through_a_terminal_gives_the_text_and_colours(name: str, palette: Any) -> None:
    data = render_export(DOCUMENT, name, OPTIONS)
    screens = _screens(data, DOCUMENT)
    assert len(screens) == DOCUMENT.frame_count
    for frame, (screen, grounds) in zip(DOCUMENT.frames, screens, strict=True):
        assert screen.text == frame.text
        assert frame.colors is not None and frame.backgrounds is not None
        ink = np.frombuffer(frame.colors, dtype=np.uint8).reshape(3, 12, 3)
        ground = np.frombuffer(frame.backgrounds, dtype=np.uint8).reshape(3, 12, 3)
        if palette is not None:
            ink, ground = palette(ink), palette(ground)
        assert screen.colors is not None
        shown = np.frombuffer(screen.colors, dtype=np.uint8).reshape(3, 12, 3)
        assert np.array_equal(shown, ink)
        assert np.array_equal(grounds, ground)


def test_ansi_still_is_plain_lines_without_a_screen_clear() -> None:
    still = build_document([{"text": "ab\ncd"}])
    assert render_export(still, "ansi", OPTIONS) == b"ab\ncd\n"


def test_svg_holds_selectable_escaped_text_and_css_animation() -> None:
    svg = render_export(DOCUMENT, "svg", OPTIONS).decode()
    assert svg.startswith("<svg xmlns=")
    assert "<title>Tiles &lt;&amp;&gt;</title>" in svg
    assert svg.count('<g class="f f') == 3  # the two identical frames are one picture
    assert "@keyframes k2" in svg and "step-end infinite" in svg
    first = DOCUMENT.frames[0].lines[0]
    row = re.search(r"<text y=\"\d+\">(.*?)</text>", svg)
    assert row is not None
    text = re.sub(r"<[^>]+>", "", row.group(1))
    unescaped = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == first
    assert "<rect" in svg and 'fill="#' in svg


def test_html_is_standalone_and_shows_the_first_frame_as_markup() -> None:
    page = render_export(DOCUMENT, "html", OPTIONS).decode()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    screen = re.search(r'<pre id="screen"[^>]*>(.*?)</pre>', page, re.S)
    assert screen is not None
    shown = re.sub(r"<[^>]+>", "", screen.group(1))
    assert shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == (
        DOCUMENT.frames[0].text
    )
    data = re.search(r'<script type="application/json" id="frames">(.*?)</script>', page, re.S)
    assert data is not None and "</" not in data.group(1)
    frames = json.loads(data.group(1))["frames"]
    assert [frame["duration_ms"] for frame in frames] == DURATIONS


def test_zip_manifest_lists_every_member_with_its_size_and_digest() -> None:
    data = render_export(DOCUMENT, "zip", OPTIONS)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        assert names[-1] == "manifest.json"
        assert [item["name"] for item in manifest["files"]] == names[:-1]
        for item in manifest["files"]:
            member = archive.read(item["name"])
            assert item["size"] == len(member)
            assert item["sha256"] == hashlib.sha256(member).hexdigest()
        frames = [name for name in names if name.startswith("frames/")]
        assert frames == [
            "frames/0001.png",
            "frames/0002.png",
            "frames/0003.png",
            "frames/0004.png",
        ]
        assert archive.read("artwork.gif") == render_export(DOCUMENT, "gif", OPTIONS)
        assert archive.read("artwork.svg") == render_export(DOCUMENT, "svg", OPTIONS)
        assert archive.read("frames/0001.png")[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"manifest.json" in archive.read("README.txt")
    assert manifest["document_version"] == 2
    assert manifest["frame_count"] == 4
    assert manifest["formats"] == ["cast", "gif", "json", "png", "readme", "svg", "txt"]


def test_ansi_still_imports_back_through_the_ansi_art_importer() -> None:
    from asciihub.engine.ansi_import import read_text_art

    first = DOCUMENT.frames[0]
    still = build_document(
        [{"text": first.text, "colors": first.colors, "backgrounds": first.backgrounds}]
    )
    art = read_text_art(render_export(still, "ansi", OPTIONS))
    text, colours = art.frames[0]
    lines = text.split("\n")
    assert [line[:12] for line in lines[:3]] == still.frames[0].lines
    assert colours is not None
    width = len(lines[0])
    shown = np.frombuffer(colours, dtype=np.uint8).reshape(-1, width, 3)[:3, :12]
    assert still.frames[0].colors is not None
    assert np.array_equal(shown, np.frombuffer(still.frames[0].colors, np.uint8).reshape(3, 12, 3))
