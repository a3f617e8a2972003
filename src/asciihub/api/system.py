"""Operational routes: health, metrics, the OpenAPI document."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub import __version__
from asciihub.api.openapi import openapi_document
from asciihub.api.responses import json_response
from asciihub.api.state import metrics, services

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0


async def _check(name: str, probe: Callable[[], Awaitable[None]]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT)
    except Exception as exc:  # a health probe reports failures, it does not raise them
        log.warning("event=health_check_failed binding=%s error=%s", name, type(exc).__name__)
        return name, f"failing: {type(exc).__name__}"
    return name, "ok"


async def healthz(request: Request) -> Response:
    """GET /healthz: 200 when every binding answers, 503 (with Retry-After) when not."""
    probes = services(request).probes()
    checks = dict(await asyncio.gather(*(_check(name, ping) for name, ping in probes.items())))
    healthy = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if healthy else "degraded", "version": __version__, "checks": checks}
    headers = {"Cache-Control": "no-store"}
    if not healthy:
        headers["Retry-After"] = "5"
    return json_response(body, status=200 if healthy else 503, headers=headers)


async def metrics_text(request: Request) -> Response:
    """GET /metrics: Prometheus text format."""
    return Response(
        metrics(request).render(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


async def openapi_json(request: Request) -> Response:
    """GET /openapi.json: the API described for tools."""
    return json_response(openapi_document())


routes = [
    Route("/healthz", healthz, methods=["GET"], name="healthz"),
    Route("/metrics", metrics_text, methods=["GET"], name="metrics"),
    Route("/openapi.json", openapi_json, methods=["GET"], name="openapi"),
]
