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
    port: Annotated[int | None, typer.Option(help="Port to listen on (0 picks a free one).")] = None,
) -> None:
    """Run the platform: API, web pages and (on embedded backends) background work."""
    import uvicorn

    from asciihub.api.app import create_app

    settings = state(ctx).settings(host=host, port=port)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                bound = self.servers[0].sockets[0].getsockname()
                typer.echo(f"asciihub is serving on http://{bound[0]}:{bound[1]}", err=False)

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="auto",
        http="auto",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    AnnouncingServer(config).run()
