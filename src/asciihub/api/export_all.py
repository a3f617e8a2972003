"""Export-all routes: ask for the archive of all my data (202), download it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import principal_for
from asciihub.api.downloads import PRIVATE, object_response
from asciihub.api.responses import json_response
from asciihub.api.state import services


async def request_export_all(request: Request) -> Response:
    """POST /api/me/export-all: queue the archive; 202 ``{"job_id", "download_url"}``."""
    principal = await principal_for(request)
    export_all = services(request).background.export_all
    assert export_all is not None
    body = await export_all.request(principal)
    headers = {"Location": f"/api/jobs/{body['job_id']}", **PRIVATE}
    return json_response(body, status=202, headers=headers)


async def download_export_all(request: Request) -> Response:
    """GET /api/me/export-all/{job_id}/download: the archive (owner, until it expires)."""
    principal = await principal_for(request)
    export_all = services(request).background.export_all
    assert export_all is not None
    stored, etag, filename = await export_all.download(principal, request.path_params["job_id"])
    return object_response(
        request,
        key=stored.key,
        etag=etag,
        size=stored.size,
        media_type="application/zip",
        filename=filename,
    )


routes = [
    Route("/api/me/export-all", request_export_all, methods=["POST"], name="export_all"),
    Route(
        "/api/me/export-all/{job_id}/download",
        download_export_all,
        methods=["GET"],
        name="download_export_all",
    ),
]
