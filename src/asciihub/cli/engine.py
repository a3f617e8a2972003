"""Engine commands: ``convert``, ``banner``, ``generate``, ``fonts``, ``styles``.

Everything heavy (numpy, Pillow, PyAV, pyfiglet) is imported inside the commands so
that the CLI starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from asciihub.cli.app import app, state
from asciihub.errors import InvalidInput

if TYPE_CHECKING:
    from asciihub.engine.document import Frame

OUTPUT_HELP = "Write to FILE.json (artwork document) or FILE.txt (text) instead of stdout."
_COLOR_CHOICES = ("auto", "none", "ansi16", "ansi256", "truecolor")
_LAYER_CHOICES = ("fgbg", "fg")


def _terminal_color(color: str) -> str:
    """Resolve ``auto``: colour in a terminal, plain text otherwise; an explicit mode stays."""
    if color != "auto":
        return color
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return "none"
    truecolor = os.environ.get("COLORTERM", "").lower() in ("truecolor", "24bit")
    return "truecolor" if truecolor else "ansi256"


def _check_output(output: Path | None) -> None:
    if output is not None and output.suffix.lower() not in (".json", ".txt"):
        message = f"--output {output}: the file name must end in .json or .txt"
        raise InvalidInput(message, code="invalid_output")


def _write(frames: Iterable[Frame], output: Path | None, color: str, settings: Any) -> int:
    """Write frames to ``output`` or stdout; return how many there were."""
    from asciihub.engine.color import colorize_text
    from asciihub.engine.document import DocumentLimits, build_document

    if output is None:
        count = 0
        # An explicit colour mode is honoured on a pipe or file too: click would strip
        # the escapes when stdout is not a terminal unless told otherwise.
        escapes = True if color != "none" else None
        for frame in frames:
            if count:
                typer.echo("")
            text = colorize_text(frame.text, frame.colors, color, backgrounds=frame.backgrounds)
            typer.echo(text, color=escapes)
            count += 1
        return count
    items = list(frames)
    if output.suffix.lower() == ".txt":
        output.write_text("\n\n".join(frame.text for frame in items) + "\n", encoding="utf-8")
        return len(items)
    limits = DocumentLimits(
        max_frames=settings.max_frames,
        max_width=settings.max_width,
        max_height=settings.max_height,
        max_chars=settings.max_document_chars,
    )
    raw = [
        {
            "text": f.text,
            "duration_ms": f.duration_ms,
            "colors": f.colors,
            "backgrounds": f.backgrounds,
        }
        for f in items
    ]
    fps = 1000 / max(1, items[0].duration_ms) if items else settings.default_fps
    document = build_document(raw, fps=min(120.0, max(0.1, fps)), limits=limits)
    output.write_text(json.dumps(document.to_json()) + "\n", encoding="utf-8")
    return len(items)


def _with_progress(frames: Iterator[Frame], label: str, total: int | None) -> Iterator[Frame]:
    """Show a Rich progress bar on stderr while frames are produced (in a terminal)."""
    if not sys.stderr.isatty():
        yield from frames
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task(label, total=total)
        for frame in frames:
            bar.advance(task)
            yield frame


@app.command()
def convert(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="Image, animated image or video file.")],
    width: Annotated[int | None, typer.Option("--width", "-w", help="Columns.")] = None,
    height: Annotated[int | None, typer.Option("--height", help="Rows.")] = None,
    style: Annotated[str, typer.Option("--style", "-s", help="See `asciihub styles`.")] = "dense",
    ramp: Annotated[str | None, typer.Option(help="Custom ramp, least ink first.")] = None,
    color: Annotated[str, typer.Option(help=f"One of {', '.join(_COLOR_CHOICES)}.")] = "auto",
    layers: Annotated[
        str, typer.Option(help="fgbg (ink and background per cell) or fg (ink only).")
    ] = "fgbg",
    dither: Annotated[
        str, typer.Option(help="auto (the default), none, floyd-steinberg, ordered.")
    ] = "auto",
    tone: Annotated[
        str, typer.Option(help="perceptual (the default: encoded, stretched) or linear.")
    ] = "perceptual",
    gamma: Annotated[float, typer.Option(help="Gamma (above 1 brightens).")] = 1.0,
    contrast: Annotated[float, typer.Option(help="Contrast factor.")] = 1.0,
    auto_levels: Annotated[bool, typer.Option("--auto-levels", help="Stretch levels.")] = False,
    sharpen: Annotated[float, typer.Option(help="Sharpening amount.")] = 0.0,
    invert: Annotated[bool, typer.Option("--invert", help="For light backgrounds.")] = False,
    frame_step: Annotated[int, typer.Option(help="Keep every n-th frame.")] = 1,
    max_fps: Annotated[float | None, typer.Option(help="Cap the frame rate.")] = None,
    frames: Annotated[int | None, typer.Option(help="Stop after this many frames.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help=OUTPUT_HELP)] = None,
) -> None:
    """Convert an image, animated image or video to ASCII art."""
    from asciihub.engine.adjust import Adjustments
    from asciihub.engine.animation import convert_animation
    from asciihub.engine.decode import EngineLimits

    if color not in _COLOR_CHOICES:
        message = f"unknown colour mode {color!r}; choose {', '.join(_COLOR_CHOICES)}"
        raise InvalidInput(message, code="invalid_option")
    if layers not in _LAYER_CHOICES:
        message = f"unknown colour layers {layers!r}; choose {', '.join(_LAYER_CHOICES)}"
        raise InvalidInput(message, code="invalid_option")
    _check_output(output)
    settings = state(ctx).settings()
    shown = _terminal_color(color) if output is None else "none"
    kept = color if color not in ("auto", "none") else ("truecolor" if output else shown)
    limits = EngineLimits(
        max_pixels=settings.engine_max_image_pixels,
        max_frames=settings.max_frames,
        max_video_seconds=settings.engine_max_video_seconds,
        max_video_pixels=settings.engine_max_video_pixels,
        max_columns=settings.max_width,
        max_rows=settings.max_height,
    )
    adjust = Adjustments(gamma, auto_levels, contrast, sharpen, invert)
    produced = convert_animation(
        source,
        width=width,
        height=height,
        style="custom" if ramp and style == "dense" else style,
        ramp=ramp,
        color=kept,
        color_layers=layers,
        dither=dither,
        tone=tone,
        adjust=adjust,
        cell_aspect=settings.engine_cell_aspect,
        frame_step=frame_step,
        max_fps=max_fps,
        frame_limit=frames,
        limits=limits,
    )
    _write(_with_progress(produced, source.name, frames), output, shown, settings)


@app.command()
def banner(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The text to draw.")],
    font: Annotated[str, typer.Option("--font", "-f", help="See `asciihub fonts`.")] = "standard",
    width: Annotated[int, typer.Option("--width", "-w", help="Wrap to this many columns.")] = 80,
    align: Annotated[str, typer.Option(help="left, center or right.")] = "left",
    border: Annotated[str, typer.Option(help="none, ascii, single, double, rounded.")] = "none",
    output: Annotated[Path | None, typer.Option("--output", "-o", help=OUTPUT_HELP)] = None,
) -> None:
    """Draw text as a FIGlet banner."""
    from asciihub.engine.figlet import banner as make_banner

    _check_output(output)
    frame = make_banner(text, font=font, width=width, align=align, border=border)
    _write([frame], output, "none", state(ctx).settings())


@app.command()
def generate(
    ctx: typer.Context,
    prompt: Annotated[
        str | None, typer.Argument(help="What to draw; quote text to show it.")
    ] = None,
    frames: Annotated[int, typer.Option("--frames", "-n", help="Number of frames.")] = 24,
    width: Annotated[int, typer.Option("--width", "-w", help="Columns.")] = 80,
    height: Annotated[int, typer.Option("--height", help="Rows.")] = 24,
    style: Annotated[str, typer.Option("--style", "-s", help="See `asciihub styles`.")] = "dense",
    seed: Annotated[int | None, typer.Option(help="Seed; the prompt's own by default.")] = None,
    fps: Annotated[float, typer.Option(help="Frames per second.")] = 10.0,
    use_ai: Annotated[bool, typer.Option("--ai", help="Use the configured AI provider.")] = False,
    list_scenes: Annotated[bool, typer.Option("--list", help="List the scenes and exit.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help=OUTPUT_HELP)] = None,
) -> None:
    """Turn a prompt into an animation (procedural scenes, or an AI model with --ai)."""
    from asciihub.engine.procedural import GenerateLimits, ProceduralGenerator
    from asciihub.engine.procedural import list_scenes as scenes

    if list_scenes:
        typer.echo("Scenes, and the prompt words that choose them (else one by the prompt):")
        for name, description, words in scenes():
            typer.echo(f"  {name:10} {description}: {', '.join(words)}")
        typer.echo('Quoted text in the prompt ("like this") is drawn as a banner.')
        return
    if not prompt:
        message = "give a prompt, or --list to see the scenes"
        raise InvalidInput(message, code="empty_prompt")
    _check_output(output)
    settings = state(ctx).settings()
    limits = GenerateLimits(
        max_prompt_chars=settings.max_prompt_chars,
        max_frames=settings.max_frames,
        max_columns=settings.max_width,
        max_rows=settings.max_height,
    )
    if use_ai:
        from asciihub.ai import OpenAICompatibleGenerator, ProviderConfig

        config = ProviderConfig(
            base_url=settings.ai_url,
            model=settings.ai_model,
            api_key=settings.ai_api_key,
            timeout=settings.ai_timeout,
        )
        produced = OpenAICompatibleGenerator(config, limits=limits).generate(
            prompt, frames=frames, width=width, height=height, style=style, seed=seed, fps=fps
        )
    else:
        produced = ProceduralGenerator(limits).generate(
            prompt, frames=frames, width=width, height=height, style=style, seed=seed, fps=fps
        )
    _write(_with_progress(produced, "generating", frames), output, "none", settings)


@app.command()
def fonts(
    preview: Annotated[str | None, typer.Option(help="Draw this text in each font.")] = None,
) -> None:
    """List the banner fonts."""
    from asciihub.engine.figlet import banner_lines, list_fonts

    for name in list_fonts():
        typer.echo(name)
        if preview:
            typer.echo("\n".join(banner_lines(preview, font=name, width=200)) + "\n")


@app.command()
def styles() -> None:
    """List the conversion styles."""
    from asciihub.engine.charsets import STYLES

    for info in STYLES.values():
        typer.echo(f"{info.name:8} {info.description}")
    typer.echo("custom   your own ramp, least ink first (--ramp ' .oO@')")
