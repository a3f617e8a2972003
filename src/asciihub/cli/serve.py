"""``asciihub serve``: the HTTP API and web pages (and, on embedded backends, the jobs).

The backends are opened before the socket listens, so a start-up problem (a missing
driver, a refused setting, an unreachable database) is one line on stderr and a
non-zero exit, never a lifespan traceback. ``--port 0`` binds a free port before
the services are built, so every link they make carries the real port. Both paths, one process and
``--workers N``, run with the socket limits of :mod:`asciihub.api.http_guard`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

import typer

from asciihub.cli.app import app, state

STARTUP_FAILURE = 3


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (0 picks a free one).")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API processes sharing the port.")
    ] = 1,
) -> None:
    """Run the platform: API, web pages and (on embedded backends) background work."""
    cli = state(ctx)
    settings = cli.settings(host=host, port=port)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if workers > 1:
        _serve_many(settings, workers, cli.config, cli.data_dir)
        return
    settings, sockets = _bound(settings)
    server = _single_server(settings)
    server.run(sockets=sockets)
    if not server.started:
        raise typer.Exit(STARTUP_FAILURE)


def _bound(settings: Any) -> tuple[Any, list[Any] | None]:
    """With ``--port 0``, bind a free port now and give the settings that port.

    Links built without a request (share links, e-mails, export downloads) come from
    ``resolved_public_url()``, which the services read when they are built: binding
    first makes them carry the port the server really listens on, not ``:0``. The
    socket listens only once the services are open.
    """
    import dataclasses

    from asciihub.api.http_guard import uvicorn_config

    if settings.port != 0:
        return settings, None
    sock = uvicorn_config(settings, None).bind_socket()
    return dataclasses.replace(settings, port=sock.getsockname()[1]), [sock]


def settle_heap() -> None:
    """Move everything built at start-up out of the garbage collector's sight.

    The app, the services and their imports are hundreds of thousands of objects
    that live as long as the process; every full collection walked them all, and on
    a room of 1,000 viewers such a pass held the event loop for 100 to 250 ms, long
    enough to show as a stall in every viewer's stream (``python -m bench rooms``).
    ``gc.freeze`` keeps them out of later collections, which then walk only what
    requests and sockets made since (measured on that room: 48 to 87 ms a pass).
    """
    import gc

    gc.collect()
    gc.freeze()


def _single_server(settings: Any) -> Any:
    """A uvicorn server that opens the services in its own loop before listening."""
    import uvicorn

    from asciihub.api.app import create_app
    from asciihub.api.http_guard import uvicorn_config
    from asciihub.bootstrap import build_services

    background = None
    if settings.consumers_in_serve():
        from asciihub.worker import in_process

        background = in_process()

    class AsciihubServer(uvicorn.Server):
        async def serve(self, sockets: Any = None) -> None:
            built = await build_services(settings)  # an AsciihubError leaves as one line
            try:
                self.config.app = create_app(settings, services=built, background=background)
                await super().serve(sockets=sockets)
            finally:
                await built.close()

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            settle_heap()
            if self.started:
                bound = self.servers[0].sockets[0].getsockname()
                typer.echo(f"asciihub is serving on http://{bound[0]}:{bound[1]}", err=False)

    return AsciihubServer(uvicorn_config(settings, None))


def _serve_many(settings: Any, workers: int, config: str | None, data_dir: str | None) -> None:
    """Run ``workers`` processes on one socket (uvicorn's supervisor)."""
    import os

    from uvicorn.supervisors import Multiprocess

    from asciihub.api.http_guard import uvicorn_config
    from asciihub.bootstrap import build_services
    from asciihub.errors import InvalidInput

    if settings.port == 0:
        message = "--workers needs a fixed --port (0 would give each process its own)"
        raise InvalidInput(message, code="invalid_option")

    async def preflight() -> None:  # the same start-up errors, once, as one line
        built = await build_services(settings)
        await built.close()

    asyncio.run(preflight())
    os.environ["ASCIIHUB_HOST"] = settings.host
    os.environ["ASCIIHUB_PORT"] = str(settings.port)
    if config:
        os.environ["ASCIIHUB_CONFIG"] = config
    if data_dir:
        os.environ["ASCIIHUB_DATA_DIR"] = data_dir
    server_config = uvicorn_config(
        settings, "asciihub.api.asgi:app_from_environment", factory=True, workers=workers
    )
    sock = server_config.bind_socket()
    typer.echo(
        f"asciihub is serving on http://{settings.host}:{settings.port} ({workers} processes)"
    )
    try:
        Multiprocess(server_config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass
