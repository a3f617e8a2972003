"""``asciihub worker``: the queue consumers alone, for scale-out (run any number)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Annotated

import typer

from asciihub.cli.app import app, state


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            max=250,
            help="Jobs (batches) run at once per queue (default: queue_concurrency).",
        ),
    ] = None,
    queues: Annotated[
        list[str] | None,
        typer.Option(
            "--queues",
            "-q",
            help="Queues to consume, repeated or comma-separated (default: queue_names).",
        ),
    ] = None,
) -> None:
    """Run background jobs: generation, conversion, thumbnails, analytics, e-mail.

    SIGTERM or SIGINT stops receiving, lets running jobs finish within
    queue_shutdown_grace seconds, then releases the rest for redelivery. With
    worker_memory_limit_mb set, a job that runs out of memory ends the worker (exit 70).
    """
    from asciihub.bootstrap import build_services
    from asciihub.queue import parse_queue_names
    from asciihub.worker import WorkerRuntime, pick_queues

    settings = state(ctx).settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    names = [n for item in queues or [] for n in parse_queue_names(item)] or None
    chosen = pick_queues(settings, names)
    limited = settings.worker_memory_limit_mb > 0
    if limited:
        from asciihub.worker.memory import limit_address_space

        limit_address_space(settings.worker_memory_limit_mb)

    async def main() -> None:
        services = await build_services(settings)
        try:
            runtime = WorkerRuntime(
                services, queues=chosen, concurrency=concurrency, exit_on_memory_error=limited
            )
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, runtime.stop)
            task = asyncio.create_task(runtime.run())
            await runtime.ready.wait()
            typer.echo(f"asciihub worker {os.getpid()} consuming {', '.join(chosen)}")
            await task
        finally:
            await services.close()

    asyncio.run(main())
