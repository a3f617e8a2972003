"""``asciihub export``: render a stored artwork to a file, offline, without the queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from asciihub.cli._runtime import run_with_services
from asciihub.cli.app import app, state

FORMAT_HELP = (
    "json, txt, cast (asciicast v2), ansi, ansi256, ansi16, png (first frame), apng, gif, "
    "mp4, webm, svg, html or zip."
)


@app.command("export")
def export_artwork(
    ctx: typer.Context,
    artwork_id: Annotated[str, typer.Argument(help="The artwork's id.")],
    format_name: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="File to write (default: the title, or asciihub-ID, .EXT here)."
        ),
    ] = None,
) -> None:
    """Export a stored artwork (any owner's) to a file, as the worker would.

    The file is made in a spooled temporary file (setting export_spool_bytes), then
    copied to OUTPUT in chunks, so a big GIF or MP4 never sits whole in memory.
    """
    import asyncio
    import shutil

    from asciihub.services.exports import (
        ExportLimits,
        export_filename,
        export_format,
        render_document_to,
        render_options,
    )
    from asciihub.services.ids import is_valid_id

    fmt = export_format(format_name)

    async def work(built: Any) -> tuple[Path, int]:
        from asciihub.services.artworks import not_found

        row = await built.artworks_repo.get(artwork_id) if is_valid_id(artwork_id) else None
        if row is None:
            raise not_found()
        document = await built.artworks.document_for(row)
        settings = built.settings
        limits = ExportLimits(
            max_frames=settings.export_max_frames,
            max_pixels=settings.export_max_pixels,
            font_size=settings.export_font_size,
            spool_bytes=settings.export_spool_bytes,
        )
        options = render_options(row, limits)
        made = await asyncio.to_thread(render_document_to, document, fmt, options, limits)
        target = output or Path(export_filename(row, fmt))
        try:
            with target.open("wb") as sink:
                await asyncio.to_thread(shutil.copyfileobj, made.file, sink, 1024 * 1024)
        finally:
            made.file.close()
        return target, made.size

    target, size = run_with_services(state(ctx).settings(), work)
    typer.echo(f"wrote {target} ({fmt.name}, {size} bytes)")
