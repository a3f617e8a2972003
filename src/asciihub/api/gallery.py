"""Listing routes: the public gallery and one user's artworks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import principal_for
from asciihub.api.responses import json_response
from asciihub.api.state import services
from asciihub.services.gallery import parse_page_query


def _page_query(request: Request):  # type: ignore[no-untyped-def]
    settings = services(request).settings
    return parse_page_query(
        dict(request.query_params),
        default_limit=settings.gallery_page_size,
        max_limit=settings.gallery_max_page_size,
    )


async def gallery(request: Request) -> Response:
    """GET /api/gallery: public artworks, newest or most viewed first, searchable."""
    body = await services(request).gallery.public_page(_page_query(request))
    return json_response(body, headers={"Cache-Control": "public, max-age=5"})


async def user_artworks(request: Request) -> Response:
    """GET /api/users/{handle}/artworks: public ones for everybody, all for the user."""
    principal = await principal_for(request)
    page = await services(request).gallery.user_page(
        principal, request.path_params["handle"], _page_query(request)
    )
    return json_response(page, headers={"Cache-Control": "private, no-cache"})


routes = [
    Route("/api/gallery", gallery, methods=["GET"], name="gallery"),
    Route("/api/users/{handle}/artworks", user_artworks, methods=["GET"], name="user_artworks"),
]
