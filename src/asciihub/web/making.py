"""Account and make pages: ``/login``, ``/signup``, ``/settings`` and ``/new``.

The forms post JSON to the API from small scripts under ``static/``; without
JavaScript these pages say so instead of showing controls that cannot work.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from asciihub.errors import AsciihubError
from asciihub.services.catalog import (
    color_modes,
    dither_modes,
    font_list,
    scene_list,
    style_samples,
    tone_modes,
)
from asciihub.services.preferences import THEMES
from asciihub.services.remix import RemixService
from asciihub.services.tokens import SCOPES
from asciihub.web.rendering import page, principal, services, viewer


def _next_path(request: Request) -> str:
    target = request.query_params.get("next", "/")
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def login_page(request: Request) -> Response:
    """GET /login: the login form (it posts JSON to /api/auth/login)."""
    return await page(request, "auth.html", mode="login", next=_next_path(request))


async def signup_page(request: Request) -> Response:
    """GET /signup: the signup form (it posts JSON to /api/auth/signup)."""
    return await page(request, "auth.html", mode="signup", next=_next_path(request))


def _to_login(request: Request) -> Response:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


async def settings_page(request: Request) -> Response:
    """GET /settings: preferences, avatar, API tokens, deleting the account."""
    me = await viewer(request)
    if me is None:
        return _to_login(request)
    built = services(request)
    prefs = await built.auth.preferences.get(me.id)
    try:
        tokens = await built.auth.tokens.list(principal(request))
    except AsciihubError:  # an API token cannot manage tokens; the page still shows
        tokens = []
    routes = {getattr(route, "path", "") for route in request.app.routes}
    return await page(
        request,
        "settings.html",
        me=me,
        prefs=prefs,
        tokens=tokens,
        scopes=SCOPES,
        themes=THEMES,
        styles=[s.name for s in style_samples()],
        colors=color_modes(),
        max_width=built.settings.max_width,
        can_export_data="/api/me/export-all" in routes,
    )


async def new_page(request: Request) -> Response:
    """GET /new: upload and convert, generate from a prompt, draw a banner, remix."""
    me = await viewer(request)
    built = services(request)
    prefs = await built.auth.preferences.get(me.id) if me is not None else {}
    try:
        hot = await RemixService(built.artworks, built.gallery, built.kv).hot_templates()
    except AsciihubError:
        hot = []
    limits = built.settings
    return await page(
        request,
        "new.html",
        me=me,
        prefs=prefs,
        styles=style_samples(),
        scenes=scene_list(),
        fonts=font_list(),
        colors=color_modes(),
        dithers=dither_modes(),
        tones=tone_modes(),
        templates=hot,
        max_width=limits.max_width,
        max_frames=limits.jobs_max_frames,
        upload_max_mb=max(1, limits.upload_max_bytes // (1024 * 1024)),
    )


routes = [
    Route("/login", login_page, methods=["GET"], name="login_page"),
    Route("/signup", signup_page, methods=["GET"], name="signup_page"),
    Route("/settings", settings_page, methods=["GET"], name="settings_page"),
    Route("/new", new_page, methods=["GET"], name="new_page"),
]
