"""Analytics routes: the caller's own usage, and what is popular."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import principal_for
from asciihub.api.responses import json_response
from asciihub.api.state import services
from asciihub.errors import InvalidInput

_PARAMS = {"usage": {"days"}, "popular": {"days", "limit"}}


def _query(request: Request, route: str) -> dict[str, str]:
    unknown = sorted(set(request.query_params) - _PARAMS[route])
    if unknown:
        message = f"unknown query parameters: {', '.join(unknown)}"
        raise InvalidInput(message, code="unknown_parameter")
    return dict(request.query_params)


async def usage(request: Request) -> Response:
    """GET /api/analytics/usage?days=N: per day and per API token, the caller's own."""
    query = _query(request, "usage")
    principal = await principal_for(request)
    body = await services(request).background.analytics.usage(principal, query.get("days", "30"))
    return json_response(body, headers={"Cache-Control": "private, no-store"})


async def popular(request: Request) -> Response:
    """GET /api/analytics/popular?days=N&limit=M: styles, and prompts of public artworks."""
    query = _query(request, "popular")
    body = await services(request).background.analytics.popular(
        query.get("days", "30"), query.get("limit", "10")
    )
    return json_response(body, headers={"Cache-Control": "public, max-age=60"})


routes = [
    Route("/api/analytics/usage", usage, methods=["GET"], name="analytics_usage"),
    Route("/api/analytics/popular", popular, methods=["GET"], name="analytics_popular"),
]
