"""``asciihub queue``: queue counts and the dead-letter queue (list, retry, purge)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from asciihub.cli.app import app, state
from asciihub.errors import InvalidInput
from asciihub.queue import DeadMessage, JobQueue, open_job_queue, parse_queue_names

T = TypeVar("T")

queue_app = typer.Typer(help="Job queue counts and the dead-letter queue.", no_args_is_help=True)
dead_app = typer.Typer(
    help="Inspect, re-drive or delete dead-lettered messages.", no_args_is_help=True
)
queue_app.add_typer(dead_app, name="dead")
app.add_typer(queue_app, name="queue")

QueueOption = Annotated[
    str | None,
    typer.Option("--queue", "-q", help="Queue name (default: the first of queue_names)."),
]
IdsArgument = Annotated[list[str] | None, typer.Argument(help="Message ids.", show_default=False)]
AllOption = Annotated[bool, typer.Option("--all", help="Every dead message of the queue.")]


def _run(
    ctx: typer.Context, action: Callable[[JobQueue, str], Awaitable[T]], queue: str | None
) -> T:
    settings = state(ctx).settings()
    name = queue or parse_queue_names(settings.queue_names)[0]

    async def main() -> T:
        job_queue = await open_job_queue(
            settings.resolved_queue_url(),
            accept_queue_loss=settings.accept_queue_loss,
            sqlite_synchronous=settings.queue_sqlite_synchronous,
        )
        try:
            return await action(job_queue, name)
        finally:
            await job_queue.close()

    return asyncio.run(main())


def _preview(body: Any, width: int = 60) -> str:
    text = body.hex() if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _pick(ids: list[str] | None, every: bool, verb: str) -> list[str] | None:
    if bool(ids) == every:
        message = f"give message ids to {verb}, or --all (not both)"
        raise InvalidInput(message)
    return None if every else ids


@queue_app.command("stats")
def stats(
    ctx: typer.Context,
    queues: Annotated[
        list[str] | None, typer.Argument(help="Queues (default: queue_names).", show_default=False)
    ] = None,
) -> None:
    """Ready, delayed, in-flight and dead counts per queue."""
    settings = state(ctx).settings()
    names = queues or parse_queue_names(settings.queue_names)

    async def collect(job_queue: JobQueue, _: str) -> list[Any]:
        return [await job_queue.stats(name) for name in names]

    table = Table("queue", "ready", "delayed", "in flight", "dead")
    for row in _run(ctx, collect, names[0]):
        table.add_row(
            row.queue, str(row.ready), str(row.delayed), str(row.in_flight), str(row.dead)
        )
    Console().print(table)


@dead_app.command("list")
def dead_list(
    ctx: typer.Context,
    queue: QueueOption = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most rows to show.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The oldest dead-lettered messages of a queue."""

    async def fetch(job_queue: JobQueue, name: str) -> list[DeadMessage]:
        return await job_queue.dead_list(name, limit=limit)

    rows = _run(ctx, fetch, queue)
    if as_json:
        for row in rows:
            body = row.body.hex() if isinstance(row.body, bytes) else row.body
            record = {
                "id": row.id, "queue": row.queue, "attempts": row.attempts,
                "failed_at": row.failed_at.isoformat(), "error_code": row.error_code,
                "error_message": row.error_message, "content_type": row.content_type, "body": body,
            }  # fmt: skip
            typer.echo(json.dumps(record, ensure_ascii=False))
        return
    table = Table(title=f"dead letters: {len(rows)}")
    table.add_column("id", overflow="fold", min_width=32)
    for column in ("attempts", "failed at", "error", "body"):
        table.add_column(column)
    for row in rows:
        error = f"{row.error_code}: {row.error_message}"
        failed = row.failed_at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(row.id, str(row.attempts), failed, error, _preview(row.body))
    Console().print(table)


@dead_app.command("retry")
def dead_retry(
    ctx: typer.Context, ids: IdsArgument = None, queue: QueueOption = None, every: AllOption = False
) -> None:
    """Send dead messages back to their queue with attempts reset."""
    chosen = _pick(ids, every, "retry")

    async def redrive(job_queue: JobQueue, name: str) -> int:
        return await job_queue.dead_retry(name, chosen)

    count = _run(ctx, redrive, queue)
    typer.echo(f"re-queued {count} message(s)")
    if chosen is not None and count < len(set(chosen)):
        typer.echo(
            f"error: {len(set(chosen)) - count} id(s) were not in the dead-letter queue", err=True
        )
        raise typer.Exit(1)


@dead_app.command("purge")
def dead_purge(
    ctx: typer.Context, ids: IdsArgument = None, queue: QueueOption = None, every: AllOption = False
) -> None:
    """Delete dead messages for good."""
    chosen = _pick(ids, every, "purge")

    async def purge(job_queue: JobQueue, name: str) -> int:
        return await job_queue.dead_purge(name, chosen)

    count = _run(ctx, purge, queue)
    typer.echo(f"deleted {count} message(s)")
    if chosen is not None and count < len(set(chosen)):
        typer.echo(
            f"error: {len(set(chosen)) - count} id(s) were not in the dead-letter queue", err=True
        )
        raise typer.Exit(1)
