"""Account routes: signup, login, logout, the logged-in user, password, deletion,
preferences and avatars."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import (
    clear_session_cookie,
    client_ip,
    principal_for,
    set_session_cookie,
)
from asciihub.api.responses import json_response, read_json
from asciihub.api.state import services
from asciihub.errors import Forbidden, UnsupportedMedia
from asciihub.services.accounts import account_json
from asciihub.services.tokens import session_user

NO_STORE = {"Cache-Control": "no-store"}
AVATAR_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


async def signup(request: Request) -> Response:
    """POST /api/auth/signup: create an account and log it in (201, session cookie)."""
    payload = await read_json(request)
    account, secret = await services(request).auth.accounts.signup(payload, client_ip(request))
    response = json_response({"user": account_json(account)}, status=201, headers=NO_STORE)
    set_session_cookie(response, request, secret)
    return response


async def login(request: Request) -> Response:
    """POST /api/auth/login: check the password, start a new session (cookie)."""
    payload = await read_json(request)
    principal = await principal_for(request)
    account, secret = await services(request).auth.accounts.login(
        payload, client_ip(request), previous_session=principal.session_id
    )
    response = json_response({"user": account_json(account)}, headers=NO_STORE)
    set_session_cookie(response, request, secret)
    return response


async def logout(request: Request) -> Response:
    """POST /api/auth/logout: end this session (204) and drop the cookie."""
    await services(request).auth.accounts.logout(await principal_for(request))
    response = Response(status_code=204, headers=NO_STORE)
    clear_session_cookie(response, request)
    return response


async def me(request: Request) -> Response:
    """GET /api/me: the logged-in user."""
    account = await services(request).auth.accounts.me(await principal_for(request))
    return json_response({"user": account_json(account)}, headers=NO_STORE)


async def delete_me(request: Request) -> Response:
    """DELETE /api/me {"password"}: delete the account and everything it owns."""
    payload = await read_json(request)
    await services(request).auth.accounts.delete_account(await principal_for(request), payload)
    response = Response(status_code=204, headers=NO_STORE)
    clear_session_cookie(response, request)
    return response


async def change_password(request: Request) -> Response:
    """POST /api/me/password: new password; every session ends, this one is renewed."""
    payload = await read_json(request)
    secret = await services(request).auth.accounts.change_password(
        await principal_for(request), payload
    )
    response = Response(status_code=204, headers=NO_STORE)
    set_session_cookie(response, request, secret)
    return response


async def get_preferences(request: Request) -> Response:
    """GET /api/me/preferences."""
    account = await services(request).auth.accounts.me(await principal_for(request))
    prefs = await services(request).auth.preferences.get(account.id)
    return json_response(prefs, headers=NO_STORE)


async def _writer_id(request: Request) -> str:
    principal = await principal_for(request)
    account = await services(request).auth.accounts.me(principal)
    if not principal.can_write():
        message = "this token may only read; it needs the write scope"
        raise Forbidden(message, code="insufficient_scope")
    return account.id


async def put_preferences(request: Request) -> Response:
    """PUT /api/me/preferences: replace style, width, color_mode and theme."""
    payload = await read_json(request)
    user_id = await _writer_id(request)
    prefs = await services(request).auth.preferences.put(user_id, payload)
    return json_response(prefs, headers=NO_STORE)


async def _session_user_id(request: Request, what: str) -> str:
    """The logged-in user of a session request; API tokens are refused (403)."""
    principal = await principal_for(request)
    user_id = session_user(principal, what)
    await services(request).auth.accounts.me(principal)
    return user_id


async def put_avatar(request: Request) -> Response:
    """PUT /api/me/avatar: an image body (PNG, JPEG, GIF, WebP), stored re-encoded as PNG.

    Needs a logged-in session: an API token, even with the write scope, is refused.
    """
    user_id = await _session_user_id(request, "changing the avatar")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in AVATAR_TYPES:
        message = f"send the avatar with Content-Type {', '.join(AVATAR_TYPES)}"
        raise UnsupportedMedia(message, code="expected_image")
    built = services(request)
    await built.auth.preferences.set_avatar(user_id, await request.body())
    account = await built.auth.accounts.me(await principal_for(request))
    return json_response({"user": account_json(account)}, headers=NO_STORE)


async def delete_avatar(request: Request) -> Response:
    """DELETE /api/me/avatar (a logged-in session, not an API token)."""
    user_id = await _session_user_id(request, "deleting the avatar")
    await services(request).auth.preferences.delete_avatar(user_id)
    return Response(status_code=204, headers=NO_STORE)


async def avatar(request: Request) -> Response:
    """GET /api/users/{handle}/avatar.png: anyone may see avatars."""
    data, etag = await services(request).auth.preferences.avatar(request.path_params["handle"])
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(
        data, media_type="image/png", headers={"ETag": etag, "Cache-Control": "public, max-age=300"}
    )


routes = [
    Route("/api/auth/signup", signup, methods=["POST"], name="signup"),
    Route("/api/auth/login", login, methods=["POST"], name="login"),
    Route("/api/auth/logout", logout, methods=["POST"], name="logout"),
    Route("/api/me", me, methods=["GET"], name="me"),
    Route("/api/me", delete_me, methods=["DELETE"], name="delete_me"),
    Route("/api/me/password", change_password, methods=["POST"], name="change_password"),
    Route("/api/me/preferences", get_preferences, methods=["GET"], name="get_preferences"),
    Route("/api/me/preferences", put_preferences, methods=["PUT"], name="put_preferences"),
    Route("/api/me/avatar", put_avatar, methods=["PUT"], name="put_avatar"),
    Route("/api/me/avatar", delete_avatar, methods=["DELETE"], name="delete_avatar"),
    Route("/api/users/{handle}/avatar.png", avatar, methods=["GET"], name="avatar"),
]
