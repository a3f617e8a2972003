"""The app factory: Starlette routes, the envelope, the fast lane and the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from asciihub.api import artworks, gallery, system
from asciihub.api.errors import handle_asciihub_error, handle_http_exception, handle_unexpected
from asciihub.api.fastlane import FastLane
from asciihub.api.metrics import Metrics
from asciihub.api.middleware import Envelope
from asciihub.bootstrap import Services, build_services
from asciihub.errors import AsciihubError
from asciihub.settings import Settings
from asciihub.web import pages

log = logging.getLogger(__name__)


class AsciihubApp:
    """The ASGI app `asciihub serve` runs: the fast lane in front of Starlette."""

    def __init__(self, starlette: Starlette, lane: FastLane) -> None:
        self.starlette = starlette
        self.lane = lane

    @property
    def state(self) -> object:
        """The Starlette app's state (services, metrics)."""
        return self.starlette.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.lane(scope, receive, send)


async def _flush_views(built: Services, every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        try:
            await built.views.flush()
        except AsciihubError as exc:
            log.warning("event=views_flush_failed code=%s", exc.code)


def create_app(settings: Settings, *, services: Services | None = None) -> AsciihubApp:
    """Build the whole HTTP app; ``services`` are built in the lifespan unless given."""
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        built = services or await build_services(settings)
        app.state.services = built
        lane.services = built
        metrics.watch(lambda: {"artwork": dict(built.artworks.stats)}, lambda: built.views.pending)
        stop = asyncio.Event()
        flusher = asyncio.create_task(_flush_views(built, settings.views_flush_seconds, stop))
        try:
            yield
        finally:
            stop.set()
            await flusher
            lane.services = None
            if services is None:
                await built.close()

    starlette = Starlette(
        routes=[*system.routes, *artworks.routes, *gallery.routes, *pages.routes],
        exception_handlers={
            AsciihubError: handle_asciihub_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    starlette.state.metrics = metrics
    starlette.state.settings = settings
    starlette.state.routes_spec = None
    enveloped: ASGIApp = Envelope(starlette, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    lane = FastLane(enveloped, metrics)
    return AsciihubApp(starlette, lane)
