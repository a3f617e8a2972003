"""Export routes: ask for an export (202), read its status, download its file.

Only the user who asked for an export sees it; anyone else, and anyone once the
artwork is hidden from that user, gets the same 404 as for an id that never existed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from asciihub.api.auth import principal_for
from asciihub.api.responses import json_response, read_json
from asciihub.api.state import services
from asciihub.services.exports import content_disposition

PRIVATE = {"Cache-Control": "private, no-store"}


async def create_export(request: Request) -> Response:
    """POST /api/artworks/{id}/exports {"format"}: 202 ``{"job_id", "export_id"}``."""
    payload = await read_json(request)
    principal = await principal_for(request)
    body = await services(request).background.exports.request(
        principal, request.path_params["artwork_id"], payload
    )
    headers = {"Location": f"/api/exports/{body['export_id']}", **PRIVATE}
    return json_response(body, status=202, headers=headers)


async def get_export(request: Request) -> Response:
    """GET /api/exports/{id}: status, progress and, once done, size and download URL."""
    principal = await principal_for(request)
    body = await services(request).background.exports.get(
        principal, request.path_params["export_id"]
    )
    return json_response(body, headers=PRIVATE)


async def download_export(request: Request) -> Response:
    """GET /api/exports/{id}/download: the file as an attachment (or a presigned redirect)."""
    principal = await principal_for(request)
    found = await services(request).background.exports.download(
        principal, request.path_params["export_id"]
    )
    if found.redirect_url is not None:
        return RedirectResponse(found.redirect_url, status_code=302, headers=PRIVATE)
    headers = {"Content-Disposition": content_disposition(found.filename), **PRIVATE}
    return Response(found.data or b"", media_type=found.media_type, headers=headers)


routes = [
    Route(
        "/api/artworks/{artwork_id}/exports",
        create_export,
        methods=["POST"],
        name="create_export",
    ),
    Route("/api/exports/{export_id}", get_export, methods=["GET"], name="get_export"),
    Route(
        "/api/exports/{export_id}/download",
        download_export,
        methods=["GET"],
        name="download_export",
    ),
]
