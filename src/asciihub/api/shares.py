"""Share link routes: create, list and revoke an artwork's links; open a link.

Responses that carry or answer a share token are ``Cache-Control: no-store`` and
``Referrer-Policy: no-referrer``, so the capability does not leak through caches or
the Referer header.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import principal_for
from asciihub.api.responses import json_response, read_json
from asciihub.api.state import services

SHARE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


async def create_share(request: Request) -> Response:
    """POST /api/artworks/{id}/shares {"permission", "expires_in"}: 201 with token and url."""
    payload = await read_json(request)
    created = await services(request).auth.shares.create(
        await principal_for(request), request.path_params["artwork_id"], payload
    )
    return json_response(created, status=201, headers=SHARE_HEADERS)


async def list_shares(request: Request) -> Response:
    """GET /api/artworks/{id}/shares: the artwork's live links (owner only, no tokens)."""
    items = await services(request).auth.shares.list(
        await principal_for(request), request.path_params["artwork_id"]
    )
    return json_response({"items": items}, headers=SHARE_HEADERS)


async def revoke_share(request: Request) -> Response:
    """DELETE /api/artworks/{id}/shares/{share_id}: 204; the link answers 404 from now on."""
    await services(request).auth.shares.revoke(
        await principal_for(request),
        request.path_params["artwork_id"],
        request.path_params["share_id"],
    )
    return Response(status_code=204, headers=SHARE_HEADERS)


async def open_share(request: Request) -> Response:
    """GET /api/shares/{token}: the artwork with its frames and ``permission``."""
    body = await services(request).auth.shares.open(
        await principal_for(request), request.path_params["token"]
    )
    return json_response(body, headers=SHARE_HEADERS)


routes = [
    Route("/api/artworks/{artwork_id}/shares", create_share, methods=["POST"], name="create_share"),
    Route("/api/artworks/{artwork_id}/shares", list_shares, methods=["GET"], name="list_shares"),
    Route(
        "/api/artworks/{artwork_id}/shares/{share_id}",
        revoke_share,
        methods=["DELETE"],
        name="revoke_share",
    ),
    Route("/api/shares/{token}", open_share, methods=["GET"], name="open_share"),
]
