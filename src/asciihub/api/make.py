"""Making routes: a banner preview, remixing, the starter templates, editors' names."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import principal_for, share_grant
from asciihub.api.responses import json_response, read_json
from asciihub.api.state import services
from asciihub.services.catalog import render_banner
from asciihub.services.remix import RemixService


def _remixes(request: Request) -> RemixService:
    built = services(request)
    return RemixService(built.artworks, built.gallery, built.kv)


async def banner(request: Request) -> Response:
    """POST /api/banner {"text", "font"?, "width"?, "align"?, "border"?}: the banner text."""
    payload = await read_json(request)
    drawn = render_banner(payload, services(request).settings.max_width)
    return json_response(drawn, headers={"Cache-Control": "no-store"})


async def remix(request: Request) -> Response:
    """POST /api/artworks/{id}/remix {"title"?, "visibility"?}: 201 with the new artwork."""
    payload = await read_json(request) if await request.body() else None
    created = await _remixes(request).remix(
        await principal_for(request),
        request.path_params["artwork_id"],
        payload,
        grant=await share_grant(request),
    )
    headers = {"Location": f"/api/artworks/{created['id']}", "ETag": created["etag"]}
    return json_response(created, status=201, headers=headers)


async def people(request: Request) -> Response:
    """GET /api/artworks/{id}/people?ids=a,b: handles of room members, by user id."""
    raw = request.query_params.get("ids", "")
    ids = [item for item in raw.split(",") if item]
    found = await _remixes(request).people(
        await principal_for(request),
        request.path_params["artwork_id"],
        ids,
        grant=await share_grant(request),
    )
    return json_response({"people": found}, headers={"Cache-Control": "private, max-age=60"})


async def templates(request: Request) -> Response:
    """GET /api/templates: the hot templates, the most viewed public artworks."""
    items = await _remixes(request).hot_templates()
    return json_response({"items": items}, headers={"Cache-Control": "public, max-age=60"})


routes = [
    Route("/api/banner", banner, methods=["POST"], name="banner"),
    Route("/api/artworks/{artwork_id}/remix", remix, methods=["POST"], name="remix_artwork"),
    Route("/api/artworks/{artwork_id}/people", people, methods=["GET"], name="artwork_people"),
    Route("/api/templates", templates, methods=["GET"], name="templates"),
]
