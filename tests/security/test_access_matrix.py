"""The access-control matrix: every artwork, share, token and profile route, for every
principal, against private, unlisted and public artworks (goal S2).

Each cell's expected status is written below. A 404 must be byte-identical (status,
body, headers minus Date) to the same request for an id that never existed; a refused
write must leave the artwork and its links unchanged; a 200 must carry no other
artwork. A last check walks the app's route table and fails on any route that has no
row here, so a new route cannot skip the matrix.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import Mount, Route, WebSocketRoute

from tests.security.matrix_world import (
    LINKS,
    MISSING_ID,
    NEVER_ISSUED_SHARE,
    PRINCIPALS,
    VISIBILITIES,
    Artwork,
    World,
    matrix_world,
)

pytestmark = pytest.mark.parametrize("deployment_settings", ["embedded", "scaleout"], indirect=True)

# Expected statuses for (private, unlisted, public), one row per principal.
VIEW = {
    "owner": "200 200 200",
    "other": "404 200 200",
    "anonymous": "404 200 200",
    "read_token": "200 200 200",
    "write_token": "200 200 200",
    "revoked_token": "401 401 401",
    "view_link": "200 200 200",
    "edit_link": "200 200 200",
    "expired_link": "404 200 200",
    "revoked_link": "404 200 200",
    "other_link": "404 200 200",
}
OWNER_ONLY = {  # writes and share management: the owner's session or write token
    "owner": "OK OK OK",
    "other": "404 403 403",
    "anonymous": "401 401 401",
    "read_token": "403 403 403",
    "write_token": "OK OK OK",
    "revoked_token": "401 401 401",
    "view_link": "401 401 401",
    "edit_link": "401 401 401",
    "expired_link": "401 401 401",
    "revoked_link": "401 401 401",
    "other_link": "401 401 401",
}
EDIT_TITLE = {**OWNER_ONLY, "view_link": "403 403 403", "edit_link": "200 200 200"}
EDIT_VISIBILITY = {**OWNER_ONLY, "view_link": "403 403 403", "edit_link": "403 403 403"}
REMIX = {**OWNER_ONLY, "other": "404 OK OK"}  # any viewer with write access
# Exports: anyone who may view the artwork asks for, reads and downloads them (the
# world's txt export of this version is stored, so asking answers 200 "done").
EXPORT_CREATE = VIEW
EXPORT_READ = VIEW
OPEN_SHARE = {  # GET /api/shares/{the principal's own link token, or one never issued}
    **{name: "404 404 404" for name in PRINCIPALS},
    "revoked_token": "401 401 401",
    "view_link": "200 200 200",
    "edit_link": "200 200 200",
    "other_link": "200 200 200",
}

EDIT_PAGE = {  # the editor for editors; others who may see it go to the viewer (303)
    **{name: "404 303 303" for name in PRINCIPALS},
    "owner": "200 200 200",
    "read_token": "200 200 200",
    "write_token": "200 200 200",
    "revoked_token": "401 401 401",
    "view_link": "303 303 303",
    "edit_link": "200 200 200",
}
# Other sites may frame /embed/: it shows what an anonymous visitor may see, to anyone.
EMBED = {**{name: "404 200 200" for name in PRINCIPALS}, "revoked_token": "401 401 401"}
OEMBED = {**{name: "404 200 200" for name in PRINCIPALS}, "revoked_token": "401 401 401"}

# (method, route template, request path, body, table, OK status, destructive)
ARTWORK_ROUTES: list[tuple[str, str, str, Any, dict[str, str], int, bool]] = [
    ("GET", "/api/artworks/{artwork_id}", "/api/artworks/{id}", None, VIEW, 200, False),
    ("GET", "/a/{artwork_id}", "/a/{id}", None, VIEW, 200, False),
    ("GET", "/a/{artwork_id}/thumbnail.png", "/a/{id}/thumbnail.png", None, VIEW, 200, False),
    ("GET", "/a/{artwork_id}/card.png", "/a/{id}/card.png", None, VIEW, 200, False),
    ("GET", "/embed/{artwork_id}", "/embed/{id}", None, EMBED, 200, False),
    ("GET", "/a/{artwork_id}/edit", "/a/{id}/edit", None, EDIT_PAGE, 200, False),
    (
        "GET",
        "/api/artworks/{artwork_id}/people",
        "/api/artworks/{id}/people?ids=x",
        None,
        VIEW,
        200,
        False,
    ),
    ("GET", "/oembed", "/oembed?url=http://x/a/{id}", None, OEMBED, 200, False),
    (
        "POST",
        "/api/artworks/{artwork_id}/remix",
        "/api/artworks/{id}/remix",
        {},
        REMIX,
        201,
        False,
    ),
    # before the edits: an edit makes a new version, whose export is not stored yet
    (
        "POST",
        "/api/artworks/{artwork_id}/exports",
        "/api/artworks/{id}/exports",
        {"format": "txt"},
        EXPORT_CREATE,
        200,
        False,
    ),
    ("GET", "/api/exports/{export_id}", "/api/exports/{export}", None, EXPORT_READ, 200, False),
    (
        "GET",
        "/api/exports/{export_id}/download",
        "/api/exports/{export}/download",
        None,
        EXPORT_READ,
        200,
        False,
    ),
    (
        "PATCH",
        "/api/artworks/{artwork_id}",
        "/api/artworks/{id}",
        {"title": "renamed"},
        EDIT_TITLE,
        200,
        False,
    ),
    (
        "PATCH",
        "/api/artworks/{artwork_id}",
        "/api/artworks/{id}",
        "flip",
        EDIT_VISIBILITY,
        200,
        True,
    ),
    ("DELETE", "/api/artworks/{artwork_id}", "/api/artworks/{id}", None, OWNER_ONLY, 204, True),
    (
        "POST",
        "/api/artworks/{artwork_id}/shares",
        "/api/artworks/{id}/shares",
        {"permission": "view"},
        OWNER_ONLY,
        201,
        False,
    ),
    (
        "GET",
        "/api/artworks/{artwork_id}/shares",
        "/api/artworks/{id}/shares",
        None,
        {**OWNER_ONLY, "read_token": "403 403 403"},
        200,
        False,
    ),
    (
        "DELETE",
        "/api/artworks/{artwork_id}/shares/{share_id}",
        "/api/artworks/{id}/shares/{share}",
        None,
        OWNER_ONLY,
        204,
        True,
    ),
    ("GET", "/api/shares/{token}", "/api/shares/{token}", None, OPEN_SHARE, 200, False),
]

# Listings: does the artwork appear? (private, unlisted, public); "401" = refused.
PUBLIC_ONLY = "- - L"
OWNER_SEES_ALL = {
    **{name: PUBLIC_ONLY for name in PRINCIPALS},
    "owner": "L L L",
    "read_token": "L L L",
    "write_token": "L L L",
    "revoked_token": "401",
}
EVERYONE_PUBLIC_ONLY = {**{name: PUBLIC_ONLY for name in PRINCIPALS}, "revoked_token": "401"}
LISTINGS: list[tuple[str, str, dict[str, str]]] = [
    ("/api/gallery", "/api/gallery", EVERYONE_PUBLIC_ONLY),
    ("/api/gallery", "/api/gallery?q={title}", EVERYONE_PUBLIC_ONLY),
    ("/", "/", EVERYONE_PUBLIC_ONLY),
    ("/", "/?q={title}", EVERYONE_PUBLIC_ONLY),
    ("/api/users/{handle}/artworks", "/api/users/{handle}/artworks", OWNER_SEES_ALL),
    ("/u/{handle}", "/u/{handle}", OWNER_SEES_ALL),
]

# Routes that do not depend on an artwork: expected status per principal.
ACCOUNT_ONLY = {
    **{name: "401" for name in PRINCIPALS},
    "owner": "OK",
    "other": "OK",
    "read_token": "OK",
    "write_token": "OK",
}
SESSION_ONLY = {**ACCOUNT_ONLY, "read_token": "403", "write_token": "403"}
ANYONE = {**{name: "OK" for name in PRINCIPALS}, "revoked_token": "401"}
PRINCIPAL_ROUTES: list[tuple[str, str, Any, dict[str, str], int]] = [
    ("GET", "/api/tokens", None, SESSION_ONLY, 200),
    ("POST", "/api/tokens", {"name": "m", "scopes": ["read"]}, SESSION_ONLY, 201),
    (
        "DELETE",
        "/api/tokens/{token_id}",
        None,
        {**SESSION_ONLY, "owner": "404", "other": "404"},
        204,
    ),
    ("GET", "/api/me", None, ACCOUNT_ONLY, 200),
    ("GET", "/api/me/preferences", None, ACCOUNT_ONLY, 200),
    ("PUT", "/api/me/preferences", {"theme": "dark"}, {**ACCOUNT_ONLY, "read_token": "403"}, 200),
    (
        "POST",
        "/api/artworks",
        {"frames": [{"text": "m"}]},
        {**ACCOUNT_ONLY, "read_token": "403"},
        201,
    ),
    ("POST", "/api/generate", {"prompt": "a cat"}, {**ACCOUNT_ONLY, "read_token": "403"}, 202),
    ("GET", "/api/analytics/usage", None, ACCOUNT_ONLY, 200),
    ("POST", "/api/me/export-all", None, {**ACCOUNT_ONLY, "read_token": "403"}, 202),
    ("POST", "/api/banner", {"text": "hi"}, ANYONE, 200),
    ("GET", "/api/templates", None, ANYONE, 200),
]
# Routes outside the matrix, with the reason; the route-table check accepts them.
NOT_IN_MATRIX = {
    ("GET", "/healthz"): "operational, no data",
    ("GET", "/metrics"): "operational, aggregate counters only",
    ("GET", "/openapi.json"): "public description",
    ("GET", "/login"): "static form",
    ("GET", "/signup"): "static form",
    ("GET", "/new"): "forms that call the API routes above",
    ("GET", "/settings"): "the caller's own account; redirects to /login when anonymous",
    ("GET", "/favicon.ico"): "bundled icon",
    (
        "GET",
        "/s/{token}",
    ): "HTML twin of GET /api/shares/{token}; tests/api/test_tokens_shares_api.py",
    ("GET", "/api/users/{handle}/avatar.png"): "public by design",
    ("GET", "/objects/{key:path}"): "the HMAC link is the credential; tests/api/test_downloads.py",
    ("POST", "/api/auth/signup"): "creates a user; tests/api/test_accounts_api.py",
    ("POST", "/api/auth/login"): "tests/api/test_accounts_api.py and tests/security/",
    ("POST", "/api/auth/logout"): "ends the caller's own session only",
    ("POST", "/api/me/password"): "session + current password; tests/api/test_accounts_api.py",
    ("DELETE", "/api/me"): "session + password; tests/api/test_accounts_api.py",
    ("PUT", "/api/me/avatar"): "the caller's own avatar; tests/api/test_accounts_api.py",
    ("DELETE", "/api/me/avatar"): "the caller's own avatar",
    ("MOUNT", "/static"): "bundled files",
    ("POST", "/api/convert"): "multipart upload; the policy of POST /api/generate",
    ("GET", "/api/jobs/{job_id}"): "answers only the job's creator (job suites)",
    ("GET", "/api/analytics/popular"): "aggregates of public artworks only",
    ("POST", "/api/import"): "multipart upload; the policy of POST /api/convert; "
    "tests/jobs/test_imports.py",
    ("GET", "/api/me/export-all/{job_id}/download"): "answers only the archive's owner; "
    "tests/jobs/test_export_all.py",
    ("POST", "/api/artworks/{artwork_id}/chat/images"): "the view policy plus a signed-in "
    "writer; tests/e2e/test_chat_images.py",
    ("GET", "/api/artworks/{artwork_id}/chat/images/{user_id}/{image_id}"): "the view policy, "
    "one 404 for strangers and missing ids; tests/e2e/test_chat_images.py",
    ("WS", "/ws/jobs/{job_id}"): "the policy of GET /api/jobs/{id}; tests/e2e/test_rooms.py",
    ("WS", "/ws/artworks/{artwork_id}"): "the view policy, edit for owner and edit links; "
    "tests/e2e/test_rooms.py",
}


def _expected(table: dict[str, str], principal: str, visibility: str) -> str:
    cells = table[principal].split()
    return cells[0] if len(cells) == 1 else cells[VISIBILITIES.index(visibility)]


def _comparable(response: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "date")
    return response.status_code, response.content, headers


async def _request(
    world: World, principal: str, method: str, path: str, body: Any, share: str | None
) -> Any:
    client, headers = world.client_and_headers(principal, share)
    return await client.request(method, path, json=body, headers=headers)


async def _artwork_cell(
    world: World, art: Artwork, principal: str, route: tuple[Any, ...]
) -> list[str]:
    method, _template, pattern, body, table, ok, _destructive = route
    share = art.links.get(principal) if principal in LINKS else None
    token = share if principal in LINKS else NEVER_ISSUED_SHARE
    if body == "flip":
        body = {"visibility": "private" if art.visibility == "public" else "public"}
    path = pattern.format(id=art.id, share=art.spare_share_id, token=token, export=art.export_id)
    expected = _expected(table, principal, art.visibility).replace("OK", str(ok))
    before = await world.snapshot(art)
    response = await _request(world, principal, method, path, body, share)
    where = f"{method} {pattern} as {principal} on {art.visibility}"
    problems = []
    if str(response.status_code) != expected:
        problems.append(
            f"{where}: {response.status_code}, expected {expected}: {response.text[:120]}"
        )
    if method != "GET" and response.status_code >= 400 and await world.snapshot(art) != before:
        problems.append(f"{where}: refused, yet the artwork or its links changed")
    if response.status_code == 200 and "json" in response.headers.get("content-type", ""):
        shown = response.json().get("id")
        allowed = {art.id, art.export_id, world.other_artwork.id if world.other_artwork else None}
        if shown is not None and shown not in allowed:
            problems.append(f"{where}: the body shows another artwork {shown}")
    if response.status_code == 404 and "{token}" not in pattern:
        missing = pattern.format(id=MISSING_ID, share=MISSING_ID, token=token, export=MISSING_ID)
        never = await _request(world, principal, method, missing, body, share)
        if _comparable(never) != _comparable(response):
            problems.append(f"{where}: the 404 differs from a never-existing id's")
    return problems


async def test_artwork_routes(client: Any) -> None:
    problems: list[str] = []
    cells = 0
    async with matrix_world(client) as world:
        for visibility in VISIBILITIES:
            shared = await world.artwork(visibility)
            for route in ARTWORK_ROUTES:
                for principal in PRINCIPALS:
                    ok_here = _expected(route[4], principal, visibility) == "OK"
                    art = await world.artwork(visibility) if route[6] and ok_here else shared
                    problems += await _artwork_cell(world, art, principal, route)
                    cells += 1
    assert cells == len(ARTWORK_ROUTES) * len(PRINCIPALS) * len(VISIBILITIES)
    assert not problems, "\n".join(problems)


async def test_listings(client: Any) -> None:
    problems: list[str] = []
    async with matrix_world(client) as world:
        arts = {v: await world.artwork(v) for v in VISIBILITIES}
        for _template, pattern, table in LISTINGS:
            for principal in PRINCIPALS:
                for visibility, art in arts.items():
                    path = pattern.format(title=art.title, handle=world.owner_handle)
                    response = await _request(
                        world, principal, "GET", path, None, art.links.get(principal)
                    )
                    expected = _expected(table, principal, visibility)
                    where = f"GET {path} as {principal}, {visibility}"
                    if expected == "401":
                        if response.status_code != 401:
                            problems.append(f"{where}: {response.status_code}, expected 401")
                        continue
                    listed = "L" if art.id in response.text else "-"
                    if response.status_code != 200 or listed != expected:
                        problems.append(
                            f"{where}: {response.status_code} {listed}, expected {expected}"
                        )
    assert not problems, "\n".join(problems)


async def test_principal_routes(client: Any) -> None:
    problems: list[str] = []
    async with matrix_world(client) as world:
        for method, template, body, table, ok in PRINCIPAL_ROUTES:
            for principal in PRINCIPALS:
                expected = table[principal].replace("OK", str(ok))
                path = template
                if "{token_id}" in template:  # someone else's token: the write token's id
                    tokens = (await world.owner.get("/api/tokens")).json()["items"]
                    victim = next(item["id"] for item in tokens if item["name"] == "test")
                    path = template.format(token_id=victim if principal != "owner" else MISSING_ID)
                response = await _request(world, principal, method, path, body, "N" * 43)
                if str(response.status_code) != expected:
                    problems.append(
                        f"{method} {template} as {principal}: {response.status_code} not {expected}"
                    )
    assert not problems, "\n".join(problems)


async def test_every_route_has_a_row(client: Any) -> None:
    covered = {(method, template) for method, template, *_ in ARTWORK_ROUTES}
    covered |= {("GET", template) for template, _, _ in LISTINGS}
    covered |= {(method, template) for method, template, *_ in PRINCIPAL_ROUTES}
    covered |= set(NOT_IN_MATRIX)
    missing = []
    for route in client.app.starlette.routes:
        if isinstance(route, Mount):
            key = ("MOUNT", route.path)
            if key not in covered:
                missing.append(key)
        elif isinstance(route, WebSocketRoute):
            if ("WS", route.path) not in covered:
                missing.append(("WS", route.path))
        elif isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                if (method, route.path) not in covered:
                    missing.append((method, route.path))
        else:
            missing.append(("?", getattr(route, "path", repr(route))))
    assert not missing, f"routes without a row in the access matrix: {missing}"
