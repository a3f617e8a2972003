"""Export routes: ask for an export, read its status, download its file.

Anyone who may view the artwork (anonymous visitors of a public or unlisted one, the
holder of a view link sent as ``?share=`` or ``X-Share-Token``) may ask for its
exports and download them; everyone else, and everyone once the artwork is hidden
from them, gets the same 404 as for an id that never existed. Asking is rate
limited in the expensive class (see :mod:`asciihub.api.auth`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from asciihub.api.artworks import share_safe
from asciihub.api.auth import principal_for, share_grant
from asciihub.api.downloads import PRIVATE, object_response
from asciihub.api.responses import json_response, read_json
from asciihub.api.state import services


@share_safe
async def create_export(request: Request) -> Response:
    """POST /api/artworks/{id}/exports {"format"}: 202 queued, or 200 when already stored."""
    payload = await read_json(request)
    principal = await principal_for(request)
    body = await services(request).background.exports.request(
        principal,
        request.path_params["artwork_id"],
        payload,
        grant=await share_grant(request),
    )
    headers = {"Location": f"/api/exports/{body['export_id']}", **PRIVATE}
    status = 200 if body["status"] == "done" else 202
    return json_response(body, status=status, headers=headers)


@share_safe
async def get_export(request: Request) -> Response:
    """GET /api/exports/{id}: status, progress and, once done, size and download URL."""
    principal = await principal_for(request)
    body = await services(request).background.exports.get(
        principal, request.path_params["export_id"], grant=await share_grant(request)
    )
    return json_response(body, headers=PRIVATE)


@share_safe
async def download_export(request: Request) -> Response:
    """GET /api/exports/{id}/download: the file streamed (ranges, ETag) or a redirect."""
    principal = await principal_for(request)
    found = await services(request).background.exports.download(
        principal, request.path_params["export_id"], grant=await share_grant(request)
    )
    if found.redirect_url is not None:
        return RedirectResponse(found.redirect_url, status_code=302, headers=PRIVATE)
    return object_response(
        request,
        key=found.key,
        etag=found.etag,
        size=found.size,
        media_type=found.media_type,
        filename=found.filename,
    )


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
