"""Page routes: the gallery at ``/``, one artwork at ``/a/{id}``, embeds, profiles.

The account and make pages live in :mod:`asciihub.web.making`; every route of the
site is listed in ``routes`` at the bottom.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from asciihub.errors import AsciihubError, InvalidInput, NotFound
from asciihub.services.artworks import not_found
from asciihub.services.catalog import export_formats
from asciihub.services.etags import none_match
from asciihub.services.gallery import parse_page_query
from asciihub.services.ids import is_valid_id
from asciihub.services.principals import ANONYMOUS
from asciihub.web import making
from asciihub.web.rendering import (
    HERE,
    SHARE_HEADER,
    SHARE_PAGE_HEADERS,
    count_view,
    error_page,
    html_errors,
    page,
    principal,
    services,
    share_grant,
    share_token,
    viewer,
)

__all__ = ["html_errors", "routes"]

_PLAYER_FIELDS = ("text", "duration_ms", "colors", "backgrounds")


def _gallery_params(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k in allowed and v}


async def index(request: Request) -> Response:
    """The public gallery: newest or popular, search, tags, endless scroll."""
    settings = services(request).settings
    try:
        query = parse_page_query(
            _gallery_params(request, ("q", "sort", "cursor", "tag")),
            default_limit=settings.gallery_page_size,
            max_limit=settings.gallery_max_page_size,
        )
        listing = orjson.loads(await services(request).gallery.public_page(query))
    except InvalidInput as exc:
        return await error_page(request, exc)
    return await page(request, "index.html", listing=listing, query=query)


def _base_url(request: Request) -> str:
    public = services(request).settings.public_url
    return public.rstrip("/") if public else str(request.base_url).rstrip("/")


def _player_data(art: dict[str, Any]) -> dict[str, Any]:
    frames = [{k: f[k] for k in _PLAYER_FIELDS if f.get(k) is not None} for f in art["frames"]]
    return {"width": art["width"], "height": art["height"], "fps": art["fps"], "frames": frames}


async def _artwork_page(
    request: Request, art: dict[str, Any], *, template: str = "artwork.html", **extra: Any
) -> Response:
    me = await viewer(request)
    is_owner = me is not None and me.id == art["user_id"]
    response = await page(
        request,
        template,
        me=me,
        art=art,
        player=_player_data(art),
        is_owner=is_owner,
        formats=export_formats(),
        base_url=_base_url(request),
        **extra,
    )
    if SHARE_HEADER in request.headers or "share" in request.query_params or "via_share" in extra:
        response.headers.update(SHARE_PAGE_HEADERS)
    return response


async def artwork(request: Request) -> Response:
    """One artwork: the first frame readable without JavaScript, the player on top of it."""
    built = services(request)
    artwork_id = request.path_params["artwork_id"]
    grant = await share_grant(request)
    try:
        entry = await built.artworks.get(principal(request), artwork_id, grant=grant)
    except NotFound as exc:
        response = await error_page(request, exc)
        if grant is not None or share_token(request):
            response.headers.update(SHARE_PAGE_HEADERS)
        return response
    await count_view(request, artwork_id)
    art = orjson.loads(entry.body)
    permission = grant.permission if grant is not None and grant.allows(artwork_id) else None
    share_param = share_token(request) if permission else None
    return await _artwork_page(request, art, permission=permission, share_param=share_param)


async def edit_page(request: Request) -> Response:
    """GET /a/{id}/edit: the collaborative editor for the owner and edit-link holders.

    Anyone else who may see the artwork (a view link, a public artwork) is sent to
    the viewer at ``/a/{id}``.
    """
    built = services(request)
    artwork_id = request.path_params["artwork_id"]
    grant = await share_grant(request)
    try:
        entry = await built.artworks.get(principal(request), artwork_id, grant=grant)
    except NotFound as exc:
        response = await error_page(request, exc)
        if share_token(request):
            response.headers.update(SHARE_PAGE_HEADERS)
        return response
    me = await viewer(request)
    art = orjson.loads(entry.body)
    can_edit = (me is not None and me.id == art["user_id"]) or (
        grant is not None and grant.allows(artwork_id, "edit")
    )
    token = share_token(request)
    if not can_edit:
        target = f"/a/{artwork_id}" + (f"?share={token}" if grant is not None else "")
        redirect = RedirectResponse(target, status_code=303)
        if token:
            redirect.headers.update(SHARE_PAGE_HEADERS)
        return redirect
    response = await page(
        request, "editor.html", me=me, art=art, share=token if grant is not None else None
    )
    if token:
        response.headers.update(SHARE_PAGE_HEADERS)
    return response


async def shared_artwork(request: Request) -> Response:
    """GET /s/{token}: the artwork a share link opens (never cached, no Referer sent)."""
    built = services(request)
    token = request.path_params["token"]
    try:
        art = orjson.loads(await built.auth.shares.open(principal(request), token))
    except NotFound as exc:
        response = await error_page(request, exc)
        response.headers.update(SHARE_PAGE_HEADERS)
        return response
    await count_view(request, art["id"])
    return await _artwork_page(
        request, art, permission=art.get("permission"), share=token, via_share=True
    )


async def embed(request: Request) -> Response:
    """GET /embed/{id}: the artwork alone with its player, for an iframe.

    Other sites may frame this page, so it shows what an anonymous visitor may see,
    whoever's cookies come with the request.
    """
    built = services(request)
    artwork_id = request.path_params["artwork_id"]
    try:
        entry = await built.artworks.get(ANONYMOUS, artwork_id)
    except NotFound as exc:
        return await error_page(request, exc)
    await count_view(request, artwork_id)
    return await _artwork_page(request, orjson.loads(entry.body), template="embed.html")


def _oembed_id(url: str) -> str:
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) == 2 and segments[0] in ("a", "embed") and is_valid_id(segments[1]):
        return segments[1]
    message = "url must be an artwork address like https://HOST/a/ID"
    raise InvalidInput(message, code="invalid_url")


async def oembed(request: Request) -> Response:
    """GET /oembed?url=.../a/{id}: the oEmbed 1.0 "rich" answer with an iframe."""
    built = services(request)
    fmt = request.query_params.get("format", "json")
    if fmt != "json":
        message = "only format=json is offered"
        raise InvalidInput(message, code="unsupported_format")
    artwork_id = _oembed_id(request.query_params.get("url", ""))
    entry = await built.artworks.get(principal(request), artwork_id)
    art = orjson.loads(entry.body)
    if art["visibility"] == "private":
        raise not_found()
    base = _base_url(request)
    width = min(1200, max(320, art["width"] * 9 + 32))
    height = min(900, max(200, art["height"] * 17 + 96))
    html = (
        f'<iframe src="{base}/embed/{artwork_id}" width="{width}" height="{height}" '
        f'title="{_attr(art["title"] or "Untitled")}" loading="lazy" '
        'style="border:0;max-width:100%"></iframe>'
    )
    body = {
        "version": "1.0",
        "type": "rich",
        "provider_name": "asciihub",
        "provider_url": base + "/",
        "title": art["title"] or "Untitled",
        "author_name": art["owner"],
        "author_url": f"{base}/u/{art['owner']}",
        "width": width,
        "height": height,
        "html": html,
        "thumbnail_url": f"{base}/a/{artwork_id}/thumbnail.png",
        "thumbnail_width": 320,
        "thumbnail_height": 180,
    }
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


async def profile(request: Request) -> Response:
    """A user's public artworks (all of them for the user), with their avatar."""
    built = services(request)
    handle = request.path_params["handle"]
    try:
        query = parse_page_query(
            _gallery_params(request, ("cursor", "sort")),
            default_limit=built.settings.gallery_page_size,
            max_limit=built.settings.gallery_max_page_size,
        )
        listing = await built.gallery.user_page(principal(request), handle, query)
    except (NotFound, InvalidInput) as exc:
        return await error_page(request, exc)
    try:
        await built.auth.preferences.avatar(handle)
        avatar = f"/api/users/{handle}/avatar.png"
    except AsciihubError:
        avatar = None
    return await page(request, "profile.html", listing=listing, query=query, avatar=avatar)


async def _image(request: Request, kind: str) -> Response:
    data, etag = await services(request).images.png(
        principal(request),
        request.path_params["artwork_id"],
        kind,  # type: ignore[arg-type]
        grant=await share_grant(request),
    )
    headers = {"ETag": etag, "Cache-Control": "private, max-age=60"}
    if SHARE_HEADER in request.headers or "share" in request.query_params:
        headers.update(SHARE_PAGE_HEADERS)
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/png", headers=headers)


async def thumbnail(request: Request) -> Response:
    """GET /a/{id}/thumbnail.png."""
    return await _image(request, "thumbnail")


async def card(request: Request) -> Response:
    """GET /a/{id}/card.png: a 1200x630 social card."""
    return await _image(request, "card")


async def favicon(request: Request) -> Response:
    """GET /favicon.ico: the site icon (an SVG, which every current browser takes)."""
    return Response(
        (HERE / "static" / "favicon.svg").read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


routes = [
    Route("/", index, methods=["GET"], name="index"),
    Route("/favicon.ico", favicon, methods=["GET"], name="favicon"),
    Route("/a/{artwork_id}", artwork, methods=["GET"], name="artwork_page"),
    Route("/a/{artwork_id}/edit", edit_page, methods=["GET"], name="edit_page"),
    Route("/a/{artwork_id}/thumbnail.png", thumbnail, methods=["GET"], name="thumbnail"),
    Route("/a/{artwork_id}/card.png", card, methods=["GET"], name="card"),
    Route("/embed/{artwork_id}", embed, methods=["GET"], name="embed"),
    Route("/oembed", oembed, methods=["GET"], name="oembed"),
    Route("/u/{handle}", profile, methods=["GET"], name="profile"),
    Route("/s/{token}", shared_artwork, methods=["GET"], name="shared_artwork"),
    *making.routes,
    Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
]
