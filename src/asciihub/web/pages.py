"""Page routes: the gallery at ``/``, one artwork at ``/a/{id}``, its images, profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from asciihub import __version__
from asciihub.errors import AsciihubError, InvalidInput, NotFound
from asciihub.services.etags import none_match
from asciihub.services.gallery import parse_page_query
from asciihub.services.principals import SHARE_RESPONSE_HEADERS
from asciihub.web._request import has_share_token, principal_for, services, share_grant

HERE = Path(__file__).parent
templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)
HTML_HEADERS = {"Cache-Control": "private, no-cache"}


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = templates.get_template(name).render(version=__version__, **context)
    return HTMLResponse(html, status_code=status, headers=HTML_HEADERS)


def _error_page(exc: AsciihubError) -> HTMLResponse:
    return _page("error.html", status=exc.status, error=exc)


async def index(request: Request) -> Response:
    """The public gallery with search and paging."""
    settings = services(request).settings
    params = {
        k: v for k, v in request.query_params.items() if k in ("q", "sort", "cursor", "tag") and v
    }
    try:
        query = parse_page_query(
            params,
            default_limit=settings.gallery_page_size,
            max_limit=settings.gallery_max_page_size,
        )
        page = orjson.loads(await services(request).gallery.public_page(query))
    except InvalidInput as exc:
        return _error_page(exc)
    return _page("index.html", page=page, query=query)


SHARE_PAGE_HEADERS = SHARE_RESPONSE_HEADERS


def _shared(request: Request, response: Response) -> Response:
    if has_share_token(request):
        response.headers.update(SHARE_PAGE_HEADERS)
    return response


async def artwork(request: Request) -> Response:
    """One artwork: the first frame readable without JavaScript, the rest played by it."""
    try:
        entry = await services(request).artworks.get(
            principal_for(request),
            request.path_params["artwork_id"],
            grant=await share_grant(request),
        )
    except NotFound as exc:
        return _shared(request, _error_page(exc))
    return _shared(request, _artwork_page(entry.body))


async def shared_artwork(request: Request) -> Response:
    """GET /s/{token}: the artwork a share link opens (never cached, no Referer sent)."""
    built = services(request)
    try:
        principal = principal_for(request)
        body = await built.auth.shares.open(principal, request.path_params["token"])
    except NotFound as exc:
        response = _error_page(exc)
    else:
        response = _artwork_page(body)
    response.headers.update(SHARE_PAGE_HEADERS)
    return response


async def login_page(request: Request) -> Response:
    """GET /login: the login form (it posts JSON to /api/auth/login)."""
    return _page("auth.html", mode="login")


async def signup_page(request: Request) -> Response:
    """GET /signup: the signup form (it posts JSON to /api/auth/signup)."""
    return _page("auth.html", mode="signup")


_JSON_ISLAND_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_island(value: Any) -> str:
    """``value`` as JSON safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes (still the same JSON), so no
    ``</script>``, ``<!--`` or ``<script`` in the data can end the element or switch the
    HTML parser's script states; U+2028 and U+2029 are escaped for old JavaScript.
    """
    return orjson.dumps(value).decode().translate(_JSON_ISLAND_ESCAPES)


def _artwork_page(body: bytes) -> HTMLResponse:
    data = orjson.loads(body)
    player = {"fps": data["fps"], "frames": [[f["text"], f["duration_ms"]] for f in data["frames"]]}
    return _page("artwork.html", art=data, player_json=json_island(player))


async def profile(request: Request) -> Response:
    """A user's public artworks (all of them for the user)."""
    built = services(request)
    try:
        query = parse_page_query(
            {k: v for k, v in request.query_params.items() if k in ("cursor", "sort") and v},
            default_limit=built.settings.gallery_page_size,
            max_limit=built.settings.gallery_max_page_size,
        )
        page = await built.gallery.user_page(
            principal_for(request), request.path_params["handle"], query
        )
    except (NotFound, InvalidInput) as exc:
        return _error_page(exc)
    return _page("profile.html", page=page, query=query)


async def _image(request: Request, kind: str) -> Response:
    data, etag = await services(request).images.png(
        principal_for(request),
        request.path_params["artwork_id"],
        kind,  # type: ignore[arg-type]
        grant=await share_grant(request),
    )
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(
        data, media_type="image/png", headers={"ETag": etag, "Cache-Control": "private, max-age=60"}
    )


async def thumbnail(request: Request) -> Response:
    """GET /a/{id}/thumbnail.png."""
    return _shared(request, await _image(request, "thumbnail"))


async def card(request: Request) -> Response:
    """GET /a/{id}/card.png: a 1200x630 social card."""
    return _shared(request, await _image(request, "card"))


routes = [
    Route("/", index, methods=["GET"], name="index"),
    Route("/a/{artwork_id}", artwork, methods=["GET"], name="artwork_page"),
    Route("/a/{artwork_id}/thumbnail.png", thumbnail, methods=["GET"], name="thumbnail"),
    Route("/a/{artwork_id}/card.png", card, methods=["GET"], name="card"),
    Route("/u/{handle}", profile, methods=["GET"], name="profile"),
    Route("/s/{token}", shared_artwork, methods=["GET"], name="shared_artwork"),
    Route("/login", login_page, methods=["GET"], name="login_page"),
    Route("/signup", signup_page, methods=["GET"], name="signup_page"),
    Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
]
