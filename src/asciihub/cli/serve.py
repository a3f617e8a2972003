"""``asciihub serve``: the HTTP API, web pages and WebSockets."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer

from asciihub.cli.app import app, state


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
    import uvicorn

    from asciihub.api.app import create_app

    cli = state(ctx)
    settings = cli.settings(host=host, port=port)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if workers > 1:
        _serve_many(settings, workers, cli.config, cli.data_dir)
        return

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                bound = self.servers[0].sockets[0].getsockname()
                typer.echo(f"asciihub is serving on http://{bound[0]}:{bound[1]}", err=False)

    background = None
    if settings.consumers_in_serve():
        from asciihub.worker import in_process

        background = in_process()
    config = uvicorn.Config(
        create_app(settings, background=background),
        host=settings.host,
        port=settings.port,
        loop="auto",
        http="auto",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
        server_header=False,
        **websocket_options(settings),
    )
    AnnouncingServer(config).run()


def websocket_options(settings: Any) -> dict[str, Any]:
    """uvicorn's WebSocket knobs from Settings (message cap, pings, no compression)."""
    return {
        "ws_max_size": settings.room_max_message_bytes + 65536,  # ours answers first
        "ws_ping_interval": settings.room_ping_interval,
        "ws_ping_timeout": settings.room_ping_timeout,
        "ws_per_message_deflate": False,
        "ws": "websockets-sansio",  # the lightest per socket; pings and size cap honoured
    }


def _serve_many(settings: Any, workers: int, config: str | None, data_dir: str | None) -> None:
    """Run ``workers`` processes on one socket (uvicorn's supervisor)."""
    import os

    import uvicorn

    from asciihub.errors import InvalidInput

    if settings.port == 0:
        message = "--workers needs a fixed --port (0 would give each process its own)"
        raise InvalidInput(message, code="invalid_option")
    os.environ["ASCIIHUB_HOST"] = settings.host
    os.environ["ASCIIHUB_PORT"] = str(settings.port)
    if config:
        os.environ["ASCIIHUB_CONFIG"] = config
    if data_dir:
        os.environ["ASCIIHUB_DATA_DIR"] = data_dir
    typer.echo(
        f"asciihub is serving on http://{settings.host}:{settings.port} ({workers} processes)"
    )
    uvicorn.run(
        "asciihub.api.asgi:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
        server_header=False,
        **websocket_options(settings),
    )
