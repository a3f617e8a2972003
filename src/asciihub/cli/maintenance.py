"""``asciihub migrate`` and ``asciihub fsck``: schema and consistency upkeep."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from asciihub.cli._runtime import run_with_services
from asciihub.cli.app import app, state


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Apply database migrations (safe to run again)."""
    from asciihub.bootstrap import migrate as apply

    settings = state(ctx).settings()
    before, after = asyncio.run(apply(settings))
    if before == after:
        typer.echo(f"schema is up to date at revision {after}")
    else:
        typer.echo(f"migrated schema from {before or 'empty'} to {after}")


@app.command()
def fsck(
    ctx: typer.Context,
    repair: Annotated[bool, typer.Option("--repair", help="Fix what is found.")] = False,
    grace: Annotated[
        float, typer.Option(help="Leave objects younger than this many seconds alone.")
    ] = 600.0,
) -> None:
    """Check that rows and objects agree; with --repair remove orphans and fix rows."""
    from asciihub.bootstrap import input_limits
    from asciihub.services.fsck import Fsck, FsckReport

    async def work(built: Any) -> FsckReport:
        checker = Fsck(
            artworks=built.artworks_repo,
            objects=built.objects,
            cache=built.kv,
            limits=input_limits(built.settings).document,
            grace_seconds=grace,
        )
        return await checker.run(repair=repair)

    report = run_with_services(state(ctx).settings(), work)
    typer.echo(f"checked {report.rows_checked} rows and {report.objects_checked} objects")
    for label, items in (
        ("orphan object", report.orphan_objects),
        ("row without object", report.missing_objects),
        ("row out of date", report.stale_rows),
        ("orphan image", report.orphan_images),
    ):
        for item in items:
            typer.echo(f"{label}: {item}{' (repaired)' if repair else ''}")
    if report.problems and not repair:
        typer.echo(f"{report.problems} problem(s) found; run again with --repair to fix them")
        raise typer.Exit(1)
    typer.echo("ok" if not report.problems else f"repaired {report.problems} problem(s)")
