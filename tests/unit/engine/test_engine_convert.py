"""Still-image conversion: golden outputs, sizes, styles, colour and bad input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from asciihub.engine import EngineLimits, convert
from asciihub.engine.charsets import STYLES
from asciihub.engine.color import colorize_text
from asciihub.errors import InvalidInput, TooLarge, UnsupportedMedia

FIXTURES = Path(__file__).parents[2] / "fixtures" / "engine"
GOLDEN_STYLES = ("simple", "dense", "shape", "edges", "blocks", "braille")


def png_bytes(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


@pytest.mark.parametrize("style", GOLDEN_STYLES)
def test_golden_output(style: str) -> None:
    expected = (FIXTURES / f"gradient.{style}.golden.txt").read_text(encoding="utf-8")
    frame = convert(FIXTURES / "gradient.png", width=24, style=style)
    assert frame.text + "\n" == expected


def test_path_bytes_and_image_agree() -> None:
    path = FIXTURES / "gradient.png"
    by_path = convert(path, width=30)
    assert convert(path.read_bytes(), width=30) == by_path
    assert convert(Image.open(path), width=30) == by_path


@settings(max_examples=40, deadline=None)
@given(
    style=st.sampled_from(sorted(STYLES)),
    columns=st.integers(1, 120),
    rows=st.one_of(st.none(), st.integers(1, 60)),
    size=st.tuples(st.integers(1, 300), st.integers(1, 300)),
)
def test_grid_has_requested_size_and_alphabet(
    style: str, columns: int, rows: int | None, size: tuple[int, int]
) -> None:
    rng = np.random.default_rng(columns * 1000 + size[0])
    image = Image.fromarray(rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8), mode="L")
    frame = convert(image, width=columns, height=rows, style=style)
    lines = frame.text.split("\n")
    assert all(len(line) == columns for line in lines)
    if rows is not None:
        assert len(lines) == rows
    alphabet = set(STYLES[style].alphabet)
    assert set(frame.text) - {"\n"} <= alphabet


def test_custom_ramp_uses_only_its_characters() -> None:
    frame = convert(FIXTURES / "gradient.png", width=40, style="custom", ramp=" .oO@")
    assert set(frame.text) - {"\n"} <= set(" .oO@")
    assert "@" in frame.text
    assert " " in frame.text


def test_tone_is_monotonic_on_a_ramp() -> None:
    ramp = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (8, 1)), mode="L")
    line = convert(ramp, width=64, height=1, style="simple", dither="none").text
    order = " .:-=+*#%@"
    from asciihub.engine.glyphs import calibrated_ramp

    calibrated, _ = calibrated_ramp(order)
    ranks = [calibrated.index(char) for char in line]
    assert ranks == sorted(ranks)
    assert ranks[0] == 0
    assert ranks[-1] == len(calibrated) - 1


def _ink_ranks(text: str, ramp: str) -> list[list[int]]:
    from asciihub.engine.glyphs import calibrated_ramp

    calibrated, _ = calibrated_ramp(ramp)
    return [[calibrated.index(char) for char in line] for line in text.split("\n")]


@pytest.mark.parametrize("style", ["dense", "shape"])
def test_a_smooth_gradient_stays_smooth_by_default(style: str) -> None:
    # A character is too coarse a pixel to dither: with the defaults a gradient must
    # climb the ramp without alternating glyphs (the static of ordered dithering).
    from asciihub.engine.charsets import SHAPE_ALPHABET

    gradient = np.tile(np.linspace(0, 255, 640).astype(np.uint8), (160, 1))
    text = convert(Image.fromarray(gradient, mode="L"), width=80, style=style).text
    ramp = {"dense": STYLES["dense"].alphabet, "simple": STYLES["simple"].alphabet}
    for row in _ink_ranks(text, ramp.get(style, SHAPE_ALPHABET)):
        assert row == sorted(row)
        assert row[0] == 0
        assert len(set(row)) >= 8


def test_simple_is_dithered_by_default_and_still_climbs() -> None:
    # Ten levels leave flat blotches on photos, so simple dithers (ordered) by default;
    # averaged over blocks of columns its ink still climbs a gradient.
    gradient = Image.fromarray(np.tile(np.linspace(0, 255, 640).astype(np.uint8), (160, 1)))
    text = convert(gradient, width=80, style="simple").text
    assert text == convert(gradient, width=80, style="simple", dither="ordered").text
    assert text != convert(gradient, width=80, style="simple", dither="none").text
    ranks = np.array(_ink_ranks(text, STYLES["simple"].alphabet), dtype=float)
    blocks = ranks.reshape(ranks.shape[0], 10, 8).mean(axis=(0, 2))
    assert np.all(np.diff(blocks) > 0)


def test_a_flat_tone_is_one_glyph_and_shadows_are_drawn() -> None:
    # sRGB 40 is 2 % of white in linear light, below the first non-blank glyph; the
    # perceptual tone curve draws it as a sparse glyph, the same in every cell.
    dark = Image.new("L", (200, 100), 40)
    assert set(convert(dark, width=40, tone="linear", dither="none").text) <= {" ", "\n"}
    for style in ("dense", "shape"):
        cells = set(convert(dark, width=40, style=style).text) - {"\n"}
        assert len(cells) == 1
        assert cells != {" "}


PHOTOS = Path(__file__).parents[3] / "bench" / "photos"


@pytest.mark.parametrize("style", ["dense", "shape"])
def test_a_photo_gets_about_as_much_ink_as_jp2a(style: str) -> None:
    # jp2a puts a mean ink coverage of 0.116 on chelsea.jpg at 80 columns (measured
    # with the bundled font); linear tone mapping put 0.055, a dim page with no cat.
    from asciihub.engine.glyphs import ink_coverage

    text = convert(PHOTOS / "chelsea.jpg", width=80, style=style).text
    cells = [char for char in text if char != "\n"]
    alphabet = "".join(sorted(set(cells)))
    coverage = dict(zip(alphabet, ink_coverage(alphabet).tolist(), strict=True))
    mean = sum(coverage[char] for char in cells) / len(cells)
    assert 0.09 < mean < 0.18


def test_dithering_stays_available_and_is_the_default_for_braille_only() -> None:
    mid = Image.new("L", (200, 100), 100)
    glyphs = {
        (style, dither): set(convert(mid, width=40, style=style, dither=dither).text) - {"\n"}
        for style in ("dense", "blocks", "braille")
        for dither in ("auto", "ordered")
    }
    assert all(len(glyphs[style, "ordered"]) >= 2 for style in ("dense", "blocks", "braille"))
    assert len(glyphs["dense", "auto"]) == 1
    assert len(glyphs["blocks", "auto"]) == 1
    assert len(glyphs["braille", "auto"]) >= 2


def test_invert_swaps_dark_and_light() -> None:
    from asciihub.engine import Adjustments

    black = Image.new("L", (40, 40), 0)
    assert set(convert(black, width=10).text) <= {" ", "\n"}
    inverted = convert(black, width=10, adjust=Adjustments(invert=True)).text
    assert " " not in inverted


def test_colors_are_kept_per_cell_and_rendered_as_ansi() -> None:
    red = Image.new("RGB", (40, 20), (255, 0, 0))
    frame = convert(red, width=8, height=4, color="truecolor")
    assert frame.colors == bytes([255, 0, 0]) * 32
    assert "\x1b[38;2;255;0;0m" in colorize_text(frame.text, frame.colors, "truecolor")
    assert "\x1b[38;5;196m" in colorize_text(frame.text, frame.colors, "ansi256")
    assert "\x1b[91m" in colorize_text(frame.text, frame.colors, "ansi16")
    assert convert(red, width=8).colors is None


def test_transparency_is_composited_on_the_background() -> None:
    clear = Image.new("RGBA", (20, 20), (255, 255, 255, 0))
    assert set(convert(clear, width=5).text) <= {" ", "\n"}
    white = convert(clear, width=5, background=(255, 255, 255)).text
    assert " " not in white


def test_exif_orientation_is_applied() -> None:
    tall = Image.new("L", (20, 40), 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: shown as 40 wide by 20 tall
    data = png_bytes(tall, "JPEG", exif=exif.tobytes())
    frame = convert(data, width=40)
    assert len(frame.text.split("\n")) == 10


@pytest.mark.parametrize("dither", ["none", "floyd-steinberg", "ordered"])
def test_dithering_keeps_mean_tone(dither: str) -> None:
    grey = Image.new("L", (200, 200), 128)
    text = convert(grey, width=60, height=30, style="braille", dither=dither, tone="linear").text
    dots = sum(bin(ord(c) - 0x2800).count("1") for c in text if c != "\n")
    share = dots / (60 * 30 * 8)
    expected = ((128 / 255 + 0.055) / 1.055) ** 2.4  # linear light of sRGB 128
    if dither == "none":
        # no dithering: every cell lights its tone's share of dots, rounded
        assert share == round(expected * 8) / 8
    else:
        assert abs(share - expected) < 0.03


def truncated_png() -> bytes:
    data = png_bytes(Image.new("RGB", (64, 64), (10, 200, 30)))
    return data[: len(data) // 2]


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming 10^10 pixels, with a few bytes of data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (b"", InvalidInput, "empty_image"),
        (b"not an image at all", UnsupportedMedia, "unsupported_image"),
        (truncated_png(), InvalidInput, "corrupt_image"),
        (bomb_png(), TooLarge, "image_too_large"),
    ],
    ids=["empty", "garbage", "truncated", "bomb"],
)
def test_bad_input_raises_clear_errors(data: bytes, error: type[Exception], code: str) -> None:
    with pytest.raises(error) as caught:
        convert(data, width=20)
    assert caught.value.code == code  # type: ignore[attr-defined]


def test_pixel_limit_is_a_parameter() -> None:
    data = png_bytes(Image.new("L", (50, 50)))
    with pytest.raises(TooLarge):
        convert(data, width=10, limits=EngineLimits(max_pixels=2000))
    convert(data, width=10, limits=EngineLimits(max_pixels=2500))


def test_unsupported_format_is_refused() -> None:
    data = png_bytes(Image.new("RGB", (8, 8)), "PPM")
    with pytest.raises(UnsupportedMedia):
        convert(data, width=4)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"width": 0}, InvalidInput),
        ({"width": -3}, InvalidInput),
        ({"width": 10_000}, TooLarge),
        ({"width": 10, "height": 10_000}, TooLarge),
        ({"width": 10, "style": "nope"}, InvalidInput),
        ({"width": 10, "color": "purple"}, InvalidInput),
        ({"width": 10, "dither": "random"}, InvalidInput),
        ({"width": 10, "style": "custom"}, InvalidInput),
        ({"width": 10, "style": "custom", "ramp": "\x1b["}, InvalidInput),
    ],
)
def test_bad_options_raise(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        convert(FIXTURES / "gradient.png", **kwargs)  # type: ignore[arg-type]


def test_missing_file() -> None:
    with pytest.raises(InvalidInput) as caught:
        convert("/definitely/not/here.png")
    assert caught.value.code == "file_not_found"


def test_large_jpeg_decodes_in_draft_mode() -> None:
    big = Image.new("RGB", (4000, 3000), (90, 90, 90))
    data = png_bytes(big, "JPEG", quality=70)
    frame = convert(data, width=40)
    assert len(frame.text.split("\n")[0]) == 40
