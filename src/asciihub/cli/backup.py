"""``asciihub backup FILE`` and ``asciihub restore FILE``: a whole deployment in one file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from asciihub.cli.app import app, state


def _bar() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def _advance(bar: Any) -> Any:
    tasks: dict[str, Any] = {}

    def advance(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total)
        bar.advance(tasks[phase], done)

    return advance


@app.command()
def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Backup file to write (.tar, or .tar.gz).")],
) -> None:
    """Write a consistent backup of the whole deployment; safe while it runs."""
    from asciihub.bootstrap import close_endpoint, input_limits, open_endpoint
    from asciihub.services.backup import Backup, BackupSummary

    settings = state(ctx).settings()

    async def work() -> BackupSummary:
        source = await open_endpoint(settings)
        try:
            with _bar() as bar:
                writer = Backup(
                    source, limits=input_limits(settings).document, progress=_advance(bar)
                )
                return await writer.write(file)
        finally:
            await close_endpoint(source)

    summary = asyncio.run(work())
    rows = sum(summary.rows.values())
    typer.echo(
        f"wrote {file}: {rows} rows in {len(summary.rows)} tables, "
        f"{summary.objects} objects ({summary.bytes} bytes), {summary.queue} queued jobs"
    )
    if summary.left_out or summary.rederived:
        typer.echo(
            f"writes during the backup: {len(summary.left_out)} artwork(s) deleted meanwhile "
            f"left out, {len(summary.rederived)} updated meanwhile taken at their newer version"
        )


@app.command()
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Backup file made by `asciihub backup`.")],
) -> None:
    """Restore a backup into an empty deployment (any backend kind); sessions are not kept."""
    from asciihub.bootstrap import close_endpoint, open_endpoint, open_queue
    from asciihub.services.backup import Restore, RestoreSummary

    if not file.is_file():
        typer.echo(f"error: {file} is not a file", err=True)
        raise typer.Exit(2)
    settings = state(ctx).settings()

    async def work() -> RestoreSummary:
        target = await open_endpoint(settings)
        queue = await open_queue(settings)
        try:
            restorer = Restore(target, queue=queue)
            await restorer.check_empty()
            with _bar() as bar:
                restorer.progress = _advance(bar)
                return await restorer.run(file)
        finally:
            await queue.close()
            await close_endpoint(target)

    summary = asyncio.run(work())
    rows = sum(summary.rows.values())
    typer.echo(
        f"restored {rows} rows in {len(summary.rows)} tables, {summary.objects} objects, "
        f"{summary.queue} queued jobs sent again"
    )
    if not summary.ok:
        for line in summary.mismatches:
            typer.echo(f"mismatch: {line}", err=True)
        raise typer.Exit(1)
    if summary.migrated_from is not None:
        typer.echo(
            f"migrated the metadata schema from the backup's revision {summary.migrated_from} "
            f"to {summary.revision}"
        )
    typer.echo("verified: row counts and checksums match the backup; users must log in again")
