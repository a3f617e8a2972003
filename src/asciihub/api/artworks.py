"""Artwork routes: create, read, change, delete."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import client_ip, principal_for, share_grant
from asciihub.api.responses import error_response, json_response, read_json
from asciihub.api.state import services
from asciihub.errors import AsciihubError
from asciihub.services.etags import none_match
from asciihub.services.principals import SHARE_HEADER, SHARE_QUERY, SHARE_RESPONSE_HEADERS


def _share_headers(request: Request, headers: dict[str, str]) -> dict[str, str]:
    """A request made with a share link is never cached and sends no Referer on."""
    if SHARE_HEADER in request.headers or SHARE_QUERY in request.query_params:
        headers.update(SHARE_RESPONSE_HEADERS)
    return headers


Endpoint = Callable[[Request], Awaitable[Response]]


def share_safe(endpoint: Endpoint) -> Endpoint:
    """Give every answer of ``endpoint`` to a share-link request the share headers.

    Errors included: a refused edit through a link must not be cached or leak it either.
    """

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except AsciihubError as exc:
            response = error_response(exc)
        response.headers.update(_share_headers(request, {}))
        return response

    return wrapped


async def create_artwork(request: Request) -> Response:
    """POST /api/artworks: 201 with the new artwork (once per ``Idempotency-Key``)."""
    payload = await read_json(request)
    principal = await principal_for(request)
    built = services(request)
    key = request.headers.get("idempotency-key")
    replayed = False
    if key is None:
        created = await built.artworks.create(principal, payload)
    else:

        async def create() -> tuple[int, Any]:
            return 201, await built.artworks.create(principal, payload)

        answer = await built.background.idempotency.run(
            principal, key, "POST /api/artworks", payload, create
        )
        created, replayed = answer.body, answer.replayed
    headers = {"Location": f"/api/artworks/{created['id']}", "ETag": created["etag"]}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(created, status=201, headers=headers)


@share_safe
async def get_artwork(request: Request) -> Response:
    """GET /api/artworks/{id}: the artwork with its frames."""
    built = services(request)
    artwork_id = request.path_params["artwork_id"]
    grant = await share_grant(request)
    principal = await principal_for(request)
    entry = await built.artworks.get(principal, artwork_id, grant=grant)
    viewer = f"u:{principal.user_id}" if principal.user_id else f"ip:{client_ip(request)}"
    await built.views.view(artwork_id, viewer)
    headers = {"ETag": entry.etag, "Cache-Control": "private, no-cache"}
    if none_match(request.headers.get("if-none-match"), entry.etag):
        return Response(status_code=304, headers=headers)
    return json_response(entry.body, headers=headers)


@share_safe
async def patch_artwork(request: Request) -> Response:
    """PATCH /api/artworks/{id}: change title, prompt, visibility, tags or frames."""
    payload = await read_json(request)
    principal = await principal_for(request)
    updated = await services(request).artworks.update(
        principal,
        request.path_params["artwork_id"],
        payload,
        if_match=request.headers.get("if-match"),
        grant=await share_grant(request),
    )
    return json_response(updated, headers={"ETag": updated["etag"]})


async def delete_artwork(request: Request) -> Response:
    """DELETE /api/artworks/{id}: 204."""
    principal = await principal_for(request)
    await services(request).artworks.delete(principal, request.path_params["artwork_id"])
    return Response(status_code=204)


routes = [
    Route("/api/artworks", create_artwork, methods=["POST"], name="create_artwork"),
    Route("/api/artworks/{artwork_id}", get_artwork, methods=["GET"], name="get_artwork"),
    Route("/api/artworks/{artwork_id}", patch_artwork, methods=["PATCH"], name="patch_artwork"),
    Route("/api/artworks/{artwork_id}", delete_artwork, methods=["DELETE"], name="delete_artwork"),
]
