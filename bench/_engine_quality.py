"""The engine bench's quality tables (mono and colour) and the sheets people judge.

Mono: each text is rendered to ink coverage (light ink on dark, cells of 1:2), blurred
by one and half a cell in linear light and scored two ways against the photo's luma:
*fitted* (the render's gain and offset fitted to the source by least squares) and *as
displayed* (no fitting: white is a cell of the densest glyph, black an empty cell).

Colour: each ANSI output is parsed and drawn as a terminal shows it (glyph ink mixing
the foreground over the background), blurred in linear light and compared with the
photo in CIELAB: mean CIEDE2000 and SSIM of L*.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench._display import (
    CELL_W,
    Renderer,
    color_scores,
    displayed_scores,
    fitted_scores,
    parse_ansi,
    source_linear,
    strip_ansi,
)

MONO_STYLES = ("dense", "simple", "shape", "edges", "blocks", "braille")
COLOR_STYLES = ("dense", "shape", "blocks", "braille")
COLOR_MODES = (
    ("truecolor", "fgbg"),
    ("truecolor", "fg"),
    ("ansi256", "fgbg"),
    ("ansi16", "fgbg"),
)
PEER_MODE = {
    ("truecolor", "fgbg"): "chafa full",
    ("truecolor", "fg"): "chafa full fg-only",
    ("ansi256", "fgbg"): "chafa 256",
    ("ansi16", "fgbg"): "chafa 16",
}
SHEET_PHOTOS = ("chelsea.jpg", "astronaut.jpg", "coffee.jpg")
MONO_HEADERS = ("fit 1", "fit 1/2", "fit dB", "disp 1", "disp 1/2", "disp dB")


def _alphabet(style: str) -> str:
    from asciihub.engine.charsets import STYLES

    info = STYLES.get(style)
    return info.alphabet if info else ""


def _run(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, check=True).stdout.decode(
        "utf-8", "replace"
    )


def mono_peer_commands(
    peers: dict[str, str | None], path: Path, width: int
) -> dict[str, list[str]]:
    """Peer command lines for mono ASCII."""
    commands: dict[str, list[str]] = {}
    if peers["jp2a"]:
        commands["jp2a"] = [peers["jp2a"], f"--width={width}", str(path)]
    if peers["chafa"]:
        base = [peers["chafa"], "--format", "symbols", "--symbols", "ascii", "--colors", "none"]
        size = ["--size", f"{width}x1000", "--animate", "off", "--polite", "on"]
        commands["chafa"] = [*base, *size, "--dither", "none", str(path)]
        commands["chafa-ordered"] = [*base, *size, "--dither", "ordered", str(path)]
    return commands


def color_peer_commands(
    peers: dict[str, str | None], path: Path, width: int
) -> dict[str, list[str]]:
    """Peer command lines for colour: chafa's four modes and jp2a --colors."""
    commands: dict[str, list[str]] = {}
    if peers["chafa"]:
        base = [peers["chafa"], "--format", "symbols", "--size", f"{width}x1000"]
        base += ["--animate", "off", "--polite", "on"]
        commands["chafa full"] = [*base, "--colors", "full", str(path)]
        commands["chafa full fg-only"] = [*base, "--colors", "full", "--fg-only", str(path)]
        commands["chafa 256"] = [*base, "--colors", "256", str(path)]
        commands["chafa 16"] = [*base, "--colors", "16", str(path)]
    if peers["jp2a"]:
        commands["jp2a --colors"] = [peers["jp2a"], "--colors", f"--width={width}", str(path)]
    return commands


def mono_outputs(
    path: Path, width: int, peers: dict[str, str | None]
) -> dict[str, tuple[str, str]]:
    """Name -> (plain text, alphabet) for every style and mono peer."""
    from asciihub.engine import convert

    outputs = {
        f"asciihub {style}": (convert(path, width=width, style=style).text, _alphabet(style))
        for style in MONO_STYLES
    }
    for name, command in mono_peer_commands(peers, path, width).items():
        outputs[name] = (strip_ansi(_run(command)), "")
    return outputs


def color_outputs(path: Path, width: int, peers: dict[str, str | None]) -> dict[str, str]:
    """Name -> ANSI text for every style in every colour mode and every colour peer."""
    from asciihub.engine import convert
    from asciihub.engine.color import colorize_text

    outputs: dict[str, str] = {}
    for mode, layers in COLOR_MODES:
        for style in COLOR_STYLES:
            frame = convert(path, width=width, style=style, color=mode, color_layers=layers)
            outputs[f"asciihub {style} {mode} {layers}"] = colorize_text(
                frame.text, frame.colors, mode, backgrounds=frame.backgrounds
            )
    for name, command in color_peer_commands(peers, path, width).items():
        outputs[name] = _run(command)
    return outputs


def _print_rows(
    title: str,
    headers: tuple[str, ...],
    results: dict[str, list[tuple[float, ...]]],
    key: Callable[[np.ndarray], float],
) -> dict[str, np.ndarray]:
    means = {name: np.mean(values, axis=0) for name, values in results.items()}
    print(f"\n{title}")
    print(f"{'converter':34}" + "".join(f"{h:>10}" for h in headers))
    for name, row in sorted(means.items(), key=lambda item: key(item[1])):
        cells = "".join(
            f"{v:10.1f}" if "dB" in h or h.startswith("dE") else f"{v:10.3f}"
            for h, v in zip(headers, row, strict=True)
        )
        print(f"{name:34}{cells}")
    return means


def mono_quality(photos: list[Path], peers: dict[str, str | None], width: int) -> None:
    """Print fitted and as-displayed SSIM/PSNR for every style and peer, and the target."""
    renderer = Renderer()
    results: dict[str, list[tuple[float, ...]]] = {}
    for path in photos:
        for name, (text, alphabet) in mono_outputs(path, width, peers).items():
            render = renderer.render(text)
            source = source_linear(path, render.shape)
            white = renderer.white_of(alphabet)
            fit1, fit_half = (
                fitted_scores(render, source, CELL_W),
                fitted_scores(render, source, CELL_W / 2),
            )
            disp1 = displayed_scores(render, source, CELL_W, white)
            disp_half = displayed_scores(render, source, CELL_W / 2, white)
            row = (fit1[0], fit_half[0], fit1[1], disp1[0], disp_half[0], disp1[1])
            results.setdefault(name, []).append(row)
    means = _print_rows(
        f"mono quality at {width} columns, mean over {len(photos)} photos "
        "(fit: contrast-fitted; disp: as displayed)",
        MONO_HEADERS,
        results,
        key=lambda row: -float(row[3]),
    )
    peer_rows = [row for name, row in means.items() if not name.startswith("asciihub")]
    if not peer_rows:
        return
    best_peer = np.max(peer_rows, axis=0)
    need = np.array([0.02, 0.02, 1.0, 0.02, 0.02, 1.0])
    margins = {
        name: row - best_peer - need for name, row in means.items() if name.startswith("asciihub")
    }
    name, margin = max(margins.items(), key=lambda item: float(np.min(item[1] / need)))
    verdict = "met" if bool(np.all(margin >= 0)) else "MISSED"
    detail = ", ".join(
        f"{h} {m + n:+.3f}" for h, m, n in zip(MONO_HEADERS, margin, need, strict=True)
    )
    print(f"target (one style beats the best peer on all six by 0.02 / 1 dB): {verdict}")
    print(f"  {name} against the best peer per score: {detail}")


def color_quality(photos: list[Path], peers: dict[str, str | None], width: int) -> None:
    """Print CIEDE2000 and SSIM of L* for every style, colour mode and colour peer."""
    renderer = Renderer()
    results: dict[str, list[tuple[float, ...]]] = {}
    for path in photos:
        for name, text in color_outputs(path, width, peers).items():
            cells = parse_ansi(text)
            render = renderer.render_color(cells)
            source = source_linear(path, render.shape[:2], color=True)
            de1, l1 = color_scores(render, source, CELL_W)
            de_half, l_half = color_scores(render, source, CELL_W / 2)
            results.setdefault(name, []).append((de1, l1, de_half, l_half))
    headers = ("dE 1", "SSIM L 1", "dE 1/2", "SSIM L 1/2")
    means = _print_rows(
        f"colour quality at {width} columns, mean over {len(photos)} photos "
        "(as a terminal shows it; CIEDE2000 lower is better)",
        headers,
        results,
        key=lambda row: float(row[0]),
    )
    print("targets (best style per mode against chafa's matching mode):")
    for mode, layers in COLOR_MODES:
        peer = means.get(PEER_MODE[(mode, layers)])
        ours = {n: r for n, r in means.items() if n.endswith(f" {mode} {layers}")}
        if peer is None or not ours:
            continue
        name, row = min(ours.items(), key=lambda item: float(item[1][0]))
        diff = row - peer
        met = diff[0] < 0 and diff[2] < 0 and diff[1] > 0 and diff[3] > 0
        print(
            f"  {mode} {layers}: {name} vs {PEER_MODE[(mode, layers)]}: "
            f"dE 1 {diff[0]:+.2f}, SSIM L 1 {diff[1]:+.3f}, dE 1/2 {diff[2]:+.2f}, "
            f"SSIM L 1/2 {diff[3]:+.3f}  {'met' if met else 'MISSED'}"
        )


# --- sheets ------------------------------------------------------------------------------


def _page_image(text: str, font_size: int, *, color: bool) -> Image.Image:
    """Text (ANSI when ``color``) drawn as the artwork page shows it."""
    from asciihub.engine.document import Frame
    from asciihub.render.raster import frame_image

    if color:
        grid, fg, bg = parse_ansi(text)
        frame = Frame(text="\n".join(grid), colors=fg.tobytes(), backgrounds=bg.tobytes())
    else:
        grid = strip_ansi(text).split("\n")
        cols = max(len(line) for line in grid)
        grid = [line.ljust(cols) for line in grid]
        frame = Frame(text="\n".join(grid))
    return frame_image(frame, len(grid[0]), len(grid), font_size=font_size)


def _sheet(tiles: list[tuple[str, Image.Image]], path: Path, columns: int = 4) -> None:
    tile_w = max(image.width for _, image in tiles)
    tile_h = max(image.height for _, image in tiles) + 18
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (tile_w * columns, tile_h * rows), (40, 40, 44))
    draw = ImageDraw.Draw(sheet)
    for index, (name, image) in enumerate(tiles):
        x, y = index % columns * tile_w, index // columns * tile_h
        draw.text((x + 4, y + 2), name, fill=(255, 255, 255))
        sheet.paste(image, (x, y + 18))
    sheet.save(path)


def save_sheets(photos_dir: Path, peers: dict[str, str | None], out: Path) -> list[Path]:
    """Save mono and colour sheets for three photos at 80 and 160 columns; return paths."""
    from asciihub.engine import convert
    from asciihub.engine.color import colorize_text

    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    for photo in SHEET_PHOTOS:
        path = photos_dir / photo
        for width in (80, 160):
            font_size = 10 if width == 80 else 6
            source = Image.open(path).convert("RGB")
            probe = _page_image(convert(path, width=width).text, font_size, color=False)
            source = source.resize(probe.size, Image.Resampling.LANCZOS)
            mono: list[tuple[str, Image.Image]] = [("photo", source.convert("L").convert("RGB"))]
            for name, (text, _) in mono_outputs(path, width, peers).items():
                mono.append((name, _page_image(text, font_size, color=False)))
            color: list[tuple[str, Image.Image]] = [("photo", source)]
            for style in COLOR_STYLES:
                for layers in ("fgbg", "fg"):
                    frame = convert(
                        path, width=width, style=style, color="truecolor", color_layers=layers
                    )
                    text = colorize_text(
                        frame.text, frame.colors, "truecolor", backgrounds=frame.backgrounds
                    )
                    color.append(
                        (f"asciihub {style} {layers}", _page_image(text, font_size, color=True))
                    )
            for name, command in color_peer_commands(peers, path, width).items():
                if name in ("chafa full", "chafa full fg-only", "jp2a --colors"):
                    color.append((name, _page_image(_run(command), font_size, color=True)))
            stem = f"{path.stem}-{width}"
            for kind, tiles in (("mono", mono), ("colour", color)):
                target = out / f"sheet-{stem}-{kind}.png"
                _sheet(tiles, target, columns=4 if width == 80 else 3)
                saved.append(target)
    return saved
