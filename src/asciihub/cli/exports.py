"""``asciihub export``: render a stored artwork to a file, offline, without the queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from asciihub.cli._runtime import run_with_services
from asciihub.cli.app import app, state

FORMAT_HELP = "json, txt, cast (asciicast v2), png (first frame), gif, mp4 or zip."


@app.command("export")
def export_artwork(
    ctx: typer.Context,
    artwork_id: Annotated[str, typer.Argument(help="The artwork's id.")],
    format_name: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: asciihub-ID.EXT here)."),
    ] = None,
) -> None:
    """Export a stored artwork (any owner's) to a file, as the worker would."""
    import asyncio

    from asciihub.render.exports import RenderOptions
    from asciihub.services.exports import ExportLimits, export_format, render_document
    from asciihub.services.ids import is_valid_id

    fmt = export_format(format_name)

    async def work(built: Any) -> bytes:
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
        )
        options = RenderOptions(
            title=row.title or "",
            timestamp=int(row.created_at.timestamp()),
            font_size=limits.font_size,
        )
        data: bytes = await asyncio.to_thread(render_document, document, fmt, options, limits)
        return data

    data = run_with_services(state(ctx).settings(), work)
    target = output or Path(f"asciihub-{artwork_id}.{fmt.extension}")
    target.write_bytes(data)
    typer.echo(f"wrote {target} ({fmt.name}, {len(data)} bytes)")
