"""Blocks and braille on photos, two colours per cell, document version 2, palettes."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from asciihub.engine import convert
from asciihub.engine.color import ansi16_index, ansi256_index, colorize_text
from asciihub.engine.dither import diffuse_cells
from asciihub.engine.document import FORMAT_VERSION, build_document, parse_document
from asciihub.errors import InvalidInput

FIXTURES = Path(__file__).parents[2] / "fixtures" / "engine"


def mid_grey_photo() -> Image.Image:
    """A soft mid-grey gradient with some texture, like a mid-tone photo."""
    rng = np.random.default_rng(7)
    rows, cols = np.mgrid[0:120, 0:200]
    base = 100 + 40 * np.sin(cols / 23.0) * np.cos(rows / 17.0) + rng.normal(0, 6, (120, 200))
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), mode="L").convert("RGB")


@pytest.mark.parametrize("style", ["blocks", "braille"])
@pytest.mark.parametrize("color", ["none", "truecolor"])
@pytest.mark.parametrize("dither", ["auto", "none", "ordered"])
def test_blocks_and_braille_are_not_blank_on_mid_tones(style: str, color: str, dither: str) -> None:
    frame = convert(mid_grey_photo(), width=40, style=style, color=color, dither=dither)
    cells = [c for c in frame.text if c != "\n"]
    blank = " " if style == "blocks" else "\u2800"
    drawn = sum(c != blank for c in cells) / len(cells)
    assert drawn > 0.3


def test_blocks_in_colour_split_a_cell_into_its_two_colours() -> None:
    image = Image.new("RGB", (2, 2), (0, 0, 255))
    image.putpixel((0, 0), (255, 0, 0))
    image.putpixel((1, 0), (255, 0, 0))
    frame = convert(image, width=1, height=1, style="blocks", color="truecolor")
    assert frame.text in ("▀", "▄")
    assert frame.colors is not None and frame.backgrounds is not None
    pair = {frame.colors, frame.backgrounds}
    assert pair == {bytes([255, 0, 0]), bytes([0, 0, 255])}


def test_fg_layer_has_no_backgrounds() -> None:
    frame = convert(mid_grey_photo(), width=20, style="shape", color="truecolor", color_layers="fg")
    assert frame.colors is not None
    assert frame.backgrounds is None
    with pytest.raises(InvalidInput):
        convert(mid_grey_photo(), width=20, color="truecolor", color_layers="both")


def test_fgbg_document_round_trips_as_version_2() -> None:
    frame = convert(mid_grey_photo(), width=24, style="blocks", color="truecolor")
    doc = build_document(
        [{"text": frame.text, "colors": frame.colors, "backgrounds": frame.backgrounds}]
    )
    data = doc.to_json()
    assert data["version"] == FORMAT_VERSION == 2
    assert base64.b64decode(data["frames"][0]["backgrounds"]) == frame.backgrounds
    again = parse_document(data)
    assert again == doc
    assert again.frames[0].backgrounds == frame.backgrounds


def test_version_1_documents_are_still_read() -> None:
    red = base64.b64encode(bytes([255, 0, 0]) * 2).decode()
    v1 = {
        "format": "asciihub.artwork",
        "version": 1,
        "width": 2,
        "height": 1,
        "fps": 10,
        "frames": [{"text": "ab", "duration_ms": 100, "colors": red}],
    }
    doc = parse_document(v1)
    assert doc.frames[0].colors == bytes([255, 0, 0]) * 2
    assert doc.frames[0].backgrounds is None
    with pytest.raises(InvalidInput):
        parse_document({**v1, "frames": [{"text": "ab", "backgrounds": red}]})


def test_bad_backgrounds_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        build_document([{"text": "ab", "backgrounds": base64.b64encode(b"xyz").decode()}])
    assert "backgrounds" in caught.value.message


def test_ansi_draws_backgrounds() -> None:
    frame = convert(mid_grey_photo(), width=10, style="blocks", color="truecolor")
    text = colorize_text(frame.text, frame.colors, "truecolor", backgrounds=frame.backgrounds)
    assert "\x1b[48;2;" in text and "\x1b[38;2;" in text
    assert "\x1b[48;5;" in colorize_text(
        frame.text, frame.colors, "ansi256", backgrounds=frame.backgrounds
    )


def test_palettes_pick_the_perceptually_nearest_entry() -> None:
    colours = np.array(
        [[255, 0, 0], [0, 0, 0], [128, 128, 128], [255, 255, 255], [0, 0, 255], [95, 135, 175]],
        dtype=np.uint8,
    )
    assert ansi256_index(colours).tolist() == [196, 16, 244, 231, 21, 67]
    assert ansi16_index(colours[:5]).tolist() == [9, 0, 8, 15, 4]
    # A muted red is nearest the grey (127, 127, 127) in RGB distance; in OKLab its hue
    # makes the xterm red (205, 0, 0) the better match.
    assert ansi16_index(np.array([[150, 60, 60]], dtype=np.uint8)).tolist() == [1]


def test_diffuse_cells_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(3)
    cells = rng.random((5, 7, 4), dtype=np.float32)
    levels = np.array([0.0, 0.4, 1.0], dtype=np.float32)

    def choose(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = np.abs(batch.mean(axis=1)[:, None] - levels[None, :]).argmin(axis=1)
        return index, levels[index]

    work = cells.mean(axis=2).astype(np.float64)
    expected = np.zeros((5, 7), dtype=np.intp)
    for r in range(5):
        for c in range(7):
            value = min(max(work[r, c], 0.0), 1.0)
            index = int(np.abs(value - levels).argmin())
            expected[r, c] = index
            error = work[r, c] - levels[index]
            for dr, dc, w in ((0, 1, 7), (1, -1, 3), (1, 0, 5), (1, 1, 1)):
                if 0 <= r + dr < 5 and 0 <= c + dc < 7:
                    work[r + dr, c + dc] += error * w / 16
    assert diffuse_cells(cells, choose).tolist() == expected.tolist()


def test_explicit_colour_reaches_a_pipe(tmp_path: Path) -> None:
    code = "from asciihub.cli import main; main()"
    args = ["convert", str(FIXTURES / "gradient.png"), "-w", "16", "--color", "truecolor"]
    env = {"PATH": "/usr/bin:/bin", "ASCIIHUB_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b[38;2;" in done.stdout and "\x1b[48;2;" in done.stdout
    plain = subprocess.run(
        [sys.executable, "-c", code, *args[:4]], capture_output=True, text=True, env=env, timeout=60
    )
    assert "\x1b" not in plain.stdout


def test_raster_frames_fill_cell_backgrounds() -> None:
    from asciihub.engine.document import Frame
    from asciihub.render.raster import cell_size, frame_image

    frame = Frame(text="  ", colors=bytes(6), backgrounds=bytes([255, 0, 0, 0, 0, 255]))
    image = frame_image(frame, 2, 1, font_size=16)
    cell_w, cell_h = cell_size(16)
    assert image.getpixel((cell_w // 2, cell_h // 2)) == (255, 0, 0)
    assert image.getpixel((cell_w + cell_w // 2, cell_h // 2)) == (0, 0, 255)


def test_artwork_page_carries_colours_for_the_player() -> None:
    from asciihub.web.pages import _player_data

    red = base64.b64encode(bytes([255, 0, 0]) * 2).decode()
    coloured = {"text": "ab", "duration_ms": 100, "colors": red, "backgrounds": red}
    plain = {"text": "cd", "duration_ms": 100, "colors": None, "backgrounds": None}
    data = _player_data({"width": 2, "height": 1, "fps": 10.0, "frames": [coloured, plain]})
    assert data["frames"][0] == coloured
    assert data["frames"][1] == {"text": "cd", "duration_ms": 100}


def test_raster_draws_braille_as_dots() -> None:
    from asciihub.engine.document import Frame
    from asciihub.render.raster import frame_image

    full = np.asarray(frame_image(Frame(text="\u28ff"), 1, 1, font_size=16), dtype=np.int32)
    empty = np.asarray(frame_image(Frame(text="\u2800"), 1, 1, font_size=16), dtype=np.int32)
    one = np.asarray(frame_image(Frame(text="\u2801"), 1, 1, font_size=16), dtype=np.int32)
    lit = lambda image: int((image.sum(axis=-1) > 300).sum())  # noqa: E731
    assert lit(empty) == 0
    assert 0 < lit(one) * 8 == lit(full)


def test_block_split_matches_a_search_over_every_symbol_mask() -> None:
    # The partial-sum search must pick, per cell, a symbol with the least squared error
    # to its two group means, as a brute-force search over the 8 x 4 masks does, and
    # return those group means as the colours.
    from asciihub.engine.styles.blocks import (
        BLOCK_CODES,
        BLOCK_MASKS,
        block_cells_by_colour,
        cell_stack,
    )

    rng = np.random.default_rng(3)
    rgb = rng.random((6 * 8, 9 * 4, 3)).astype(np.float32)
    codes, fg, bg = block_cells_by_colour(rgb)
    cells = cell_stack(rgb, 8, 4).astype(np.float64)  # rows, cols, 32, 3
    index = np.searchsorted(BLOCK_CODES[np.argsort(BLOCK_CODES)], codes)
    chosen = np.argsort(BLOCK_CODES)[index]
    for r in range(codes.shape[0]):
        for c in range(codes.shape[1]):
            errors = []
            for mask in BLOCK_MASKS.astype(bool):
                ink, ground = cells[r, c][mask], cells[r, c][~mask]
                error = sum(((g - g.mean(axis=0)) ** 2).sum() for g in (ink, ground) if len(g))
                errors.append(error)
            assert errors[chosen[r, c]] <= min(errors) + 1e-4
            mask = BLOCK_MASKS[chosen[r, c]].astype(bool)
            if mask.any() and not mask.all():
                assert np.allclose(fg[r, c], cells[r, c][mask].mean(axis=0), atol=1e-5)
                assert np.allclose(bg[r, c], cells[r, c][~mask].mean(axis=0), atol=1e-5)
    eight_bit = (rgb * 255).astype(np.uint8)
    codes_u8, fg_u8, _ = block_cells_by_colour(eight_bit, scale=1 / 255)
    ref_codes, ref_fg, _ = block_cells_by_colour(eight_bit.astype(np.float32) / 255)
    same = codes_u8 == ref_codes
    assert same.mean() > 0.8  # the rest are exact ties (a pattern and its complement)
    assert np.allclose(fg_u8[same], ref_fg[same], atol=1e-5)


def test_braille_colours_equal_the_least_squares_fit() -> None:
    from asciihub.engine.cells import LUMA, fit_fg, fit_fgbg
    from asciihub.engine.styles.blocks import (
        braille_colours,
        braille_from_lit,
        braille_ink,
        cell_stack,
        split_by_colour,
    )

    rng = np.random.default_rng(4)
    rgb = rng.random((5 * 4, 7 * 2, 3)).astype(np.float32)
    luma = np.asarray(rgb @ LUMA, dtype=np.float32)
    colours = cell_stack(rgb, 4, 2)
    for black in (False, True):
        lit, lit_sum, total, count = split_by_colour(luma, rgb, 4, 2, black_ground=black)
        fg, bg = braille_colours(lit_sum, total, count, 8, black_ground=black)
        ink = braille_ink(braille_from_lit(lit))
        if black:
            assert np.allclose(fg, fit_fg(ink, colours), atol=2e-3)
        else:
            ref_fg, ref_bg = fit_fgbg(ink, colours)
            assert np.allclose(fg, ref_fg, atol=2e-3)
            assert np.allclose(bg, ref_bg, atol=2e-3)


def test_chunked_products_and_histogram_percentiles_match_numpy() -> None:
    from asciihub.engine.adjust import TONE_EXPONENT, perceptual_tone, perceptual_tone_bytes
    from asciihub.engine.matmul import rows_matmul
    from asciihub.engine.resize import SRGB_TO_LINEAR, linear_to_srgb

    rng = np.random.default_rng(5)
    left = rng.random((5000, 16)).astype(np.float32)
    right = rng.random((16, 25)).astype(np.float32)
    assert np.allclose(rows_matmul(left, right), left @ right, rtol=1e-5)
    plane = (rng.random((90, 160)) ** 2.2).astype(np.float32)
    encoded = linear_to_srgb(plane)
    low, high = np.percentile(encoded, (1, 99))
    expected = np.clip((encoded - low) / (high - low), 0, 1) ** TONE_EXPONENT
    assert np.abs(perceptual_tone(plane) - expected).max() < 2e-3
    pixels = rng.integers(0, 256, (90, 160), dtype=np.uint8)
    encoded = pixels / np.float32(255)
    low, high = np.percentile(encoded, (1, 99))
    expected = np.clip((encoded - low) / (high - low), 0, 1) ** TONE_EXPONENT
    assert np.abs(perceptual_tone_bytes(pixels) - expected).max() < 1e-5
    assert np.abs(perceptual_tone(SRGB_TO_LINEAR[pixels]) - expected).max() < 2e-3
