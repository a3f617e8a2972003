"""The app factory: Starlette routes, the envelope, the fast lane and the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from asciihub.api import (
    accounts,
    analytics,
    artworks,
    chat_images,
    downloads,
    export_all,
    exports,
    gallery,
    jobs,
    make,
    shares,
    system,
    tokens,
    ws_artworks,
    ws_jobs,
)
from asciihub.api.auth import AuthGate
from asciihub.api.errors import handle_asciihub_error, handle_http_exception, handle_unexpected
from asciihub.api.fastlane import FastLane
from asciihub.api.metrics import Metrics
from asciihub.api.middleware import Discard, Envelope
from asciihub.bootstrap import Services, build_services
from asciihub.errors import AsciihubError
from asciihub.services.periodic import run_every
from asciihub.settings import Settings
from asciihub.web import pages

log = logging.getLogger(__name__)


class AsciihubApp:
    """The ASGI app `asciihub serve` runs: the fast lane, the envelope, then Starlette."""

    def __init__(self, starlette: Starlette, outer: ASGIApp) -> None:
        self.starlette = starlette
        self.outer = outer

    @property
    def state(self) -> object:
        """The Starlette app's state (services, metrics)."""
        return self.starlette.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.outer(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    background: Callable[[Services], AbstractAsyncContextManager[None]] | None = None,
) -> AsciihubApp:
    """Build the whole HTTP app; ``services`` are built in the lifespan unless given.

    ``background`` (the in-process queue consumers of ``asciihub serve``) runs for
    as long as the app does, inside the lifespan.
    """
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        built = services or await build_services(settings)
        app.state.services = built
        gate.services = built
        metrics.watch(lambda: {"artwork": dict(built.artworks.stats)}, lambda: built.views.pending)
        stop = asyncio.Event()
        flusher = asyncio.create_task(
            run_every(settings.views_flush_seconds, stop, built.views.flush, final=True)
        )
        upkeep = asyncio.create_task(
            run_every(settings.housekeeping_seconds, stop, built.housekeeping)
        )
        points = asyncio.create_task(
            run_every(
                settings.analytics_flush_seconds, stop, built.background.analytics.flush, final=True
            )
        )
        try:
            async with background(built) if background else contextlib.nullcontext():
                yield
        finally:
            stop.set()
            await asyncio.gather(flusher, upkeep, points)
            del app.state.services
            gate.services = None
            if services is None:
                await built.close()

    starlette = Starlette(
        routes=[
            *system.routes,
            *accounts.routes,
            *tokens.routes,
            *artworks.routes,
            *shares.routes,
            *gallery.routes,
            *jobs.routes,
            *exports.routes,
            *export_all.routes,
            *downloads.routes,
            *analytics.routes,
            *make.routes,
            *ws_jobs.routes,
            *ws_artworks.routes,
            *chat_images.routes,
            *pages.routes,
        ],
        exception_handlers={
            AsciihubError: pages.html_errors(handle_asciihub_error),
            HTTPException: pages.html_errors(handle_http_exception),
            Exception: pages.html_errors(handle_unexpected),
        },
        lifespan=lifespan,
    )
    starlette.state.metrics = metrics
    starlette.state.settings = settings
    gate = AuthGate(starlette, settings)
    # An upload to convert may exceed max_body_bytes up to upload_max_bytes (+ the form).
    uploads = {"/api/convert": max(settings.max_body_bytes, settings.upload_max_bytes + 65536)}
    enveloped: ASGIApp = Envelope(
        gate,
        max_body_bytes=settings.max_body_bytes,
        metrics=metrics,
        path_limits=uploads,
        discard=Discard(settings.http_discard_max_bytes, settings.http_discard_seconds),
    )
    lane = FastLane(enveloped, state=starlette.state, metrics=metrics)
    return AsciihubApp(starlette, lane)
