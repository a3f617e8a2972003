"""API token routes: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import principal_for
from asciihub.api.responses import json_response, read_json
from asciihub.api.state import services

NO_STORE = {"Cache-Control": "no-store"}


async def create_token(request: Request) -> Response:
    """POST /api/tokens {"name", "scopes"}: 201 {"id", "token", ...}."""
    payload = await read_json(request)
    created = await services(request).auth.tokens.create(await principal_for(request), payload)
    return json_response(created, status=201, headers=NO_STORE)


async def list_tokens(request: Request) -> Response:
    """GET /api/tokens: the live tokens of the logged-in user (no secrets)."""
    items = await services(request).auth.tokens.list(await principal_for(request))
    return json_response({"items": items}, headers=NO_STORE)


async def revoke_token(request: Request) -> Response:
    """DELETE /api/tokens/{token_id}: 204; the token stops working at once."""
    await services(request).auth.tokens.revoke(
        await principal_for(request), request.path_params["token_id"]
    )
    return Response(status_code=204)


routes = [
    Route("/api/tokens", create_token, methods=["POST"], name="create_token"),
    Route("/api/tokens", list_tokens, methods=["GET"], name="list_tokens"),
    Route("/api/tokens/{token_id}", revoke_token, methods=["DELETE"], name="revoke_token"),
]
