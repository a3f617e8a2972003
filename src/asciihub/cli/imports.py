"""``asciihub import FILE`` and ``asciihub export-all HANDLE``: data in and out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from asciihub.cli._runtime import run_with_services
from asciihub.cli.app import app, state


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .cast, .txt, .ans, .json or .zip file.")],
    title: Annotated[str | None, typer.Option(help="Title (default: from the file).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the artworks as JSON.")] = False,
) -> None:
    """Import a file as new private artworks of the local user."""
    from asciihub.services.principals import LOCAL

    if not file.is_file():
        typer.echo(f"error: {file} is not a file", err=True)
        raise typer.Exit(2)
    settings = state(ctx).settings()
    if file.stat().st_size > settings.import_max_bytes:
        limit = settings.import_max_bytes
        typer.echo(f"error: {file} is over {limit} bytes (import_max_bytes)", err=True)
        raise typer.Exit(2)
    data = file.read_bytes()

    async def work(built: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await built.background.imports.import_now(
            LOCAL, file.name, data, title=title
        )
        return result

    created = run_with_services(settings, work)
    if as_json:
        typer.echo(json.dumps(created, indent=2))
        return
    for art in created:
        typer.echo(
            f"{art['id']}  {art['frame_count']} frame(s) {art['width']}x{art['height']}  "
            f"{art.get('title') or ''}"
        )


@app.command("export-all")
def export_all(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="The user whose data to export.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default asciihub-HANDLE-all.zip).")
    ] = None,
) -> None:
    """Write a ZIP of every artwork of a user, with their share links and settings."""
    target = output or Path(f"asciihub-{handle}-all.zip")

    async def work(built: Any) -> tuple[int, int]:
        user = await built.users_repo.get_by_handle(handle)
        if user is None:
            typer.echo(f"error: no user with handle {handle!r}", err=True)
            raise typer.Exit(2)
        with target.open("wb") as sink:  # written as it is made, never whole in memory
            await built.background.export_all.write(user.id, sink)
        count = len([r async for r in built.artworks_repo.iter_all() if r.user_id == user.id])
        return target.stat().st_size, count

    size, count = run_with_services(state(ctx).settings(), work)
    typer.echo(f"wrote {target}: {count} artwork(s), {size} bytes")
