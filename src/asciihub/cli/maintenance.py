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
            jobs=built.background.jobs.repo,
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
        ("orphan upload", report.orphan_media),
        ("orphan export", report.orphan_exports),
        ("job without upload", report.missing_media),
    ):
        for item in items:
            typer.echo(f"{label}: {item}{' (repaired)' if repair else ''}")
    if report.swept:
        typer.echo(f"swept {report.swept} leftover temporary file(s) or unfinished upload(s)")
    if report.problems and not repair:
        typer.echo(f"{report.problems} problem(s) found; run again with --repair to fix them")
        raise typer.Exit(1)
    typer.echo("ok" if not report.problems else f"repaired {report.problems} problem(s)")


@app.command("migrate-data")
def migrate_data(
    ctx: typer.Context,
    source: Annotated[str, typer.Option("--from", help="TOML settings of the deployment to copy.")],
    target: Annotated[str, typer.Option("--to", help="TOML settings of the deployment to fill.")],
    state_file: Annotated[
        str | None, typer.Option("--state", help="Progress file (default: next to --to).")
    ] = None,
) -> None:
    """Copy a whole deployment (rows, objects, sessions) to other backends, resumably."""
    from pathlib import Path

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from asciihub.bootstrap import close_endpoint, open_endpoint
    from asciihub.services.datamigration import DataMigration, Verification
    from asciihub.settings import load_settings

    source_settings = load_settings(config_file=source)
    target_settings = load_settings(config_file=target)
    state_path = Path(state_file or f"{target}.migrate-state.json")

    async def work() -> Verification:
        src = await open_endpoint(source_settings)
        dst = await open_endpoint(target_settings)
        try:
            with Progress(
                TextColumn("{task.description:<24}"),
                BarColumn(),
                MofNCompleteColumn(),
                transient=False,
            ) as bar:
                migration = DataMigration(src, dst, state_path=state_path)
                tasks = {
                    name: bar.add_task(name, total=total)
                    for name, total in (await migration.totals()).items()
                }

                def advance(phase: str, done: int, _total: int | None) -> None:
                    if phase not in tasks:
                        tasks[phase] = bar.add_task(phase, total=None)
                    bar.advance(tasks[phase], done)

                migration.progress = advance
                return await migration.run()
        finally:
            await close_endpoint(src)
            await close_endpoint(dst)

    result = asyncio.run(work())
    for name, (src_sum, dst_sum) in result.tables.items():
        mark = "ok" if src_sum == dst_sum else "MISMATCH"
        typer.echo(f"table {name}: {src_sum[0]} -> {dst_sum[0]} rows, checksum {mark}")
    mark = "ok" if result.objects[0] == result.objects[1] else "MISMATCH"
    typer.echo(f"objects: {result.objects[0][0]} -> {result.objects[1][0]}, checksum {mark}")
    typer.echo(f"kv entries: {result.kv[0]} -> {result.kv[1]}")
    if not result.ok:
        typer.echo("verification failed: the copies differ; run again to resume", err=True)
        raise typer.Exit(1)
    typer.echo("verified: counts and checksums match")
