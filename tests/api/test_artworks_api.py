"""The artwork routes over HTTP, in-process, on every backend combination."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

FRAMES = [
    {"text": " /\\_/\\\n( o.o )\n > ^ <", "duration_ms": 120},
    {"text": " /\\_/\\\n( -.- )\n > ^ <"},
]


async def create(client: Any, **fields: Any) -> dict[str, Any]:
    body = {"title": "Cat", "visibility": "public", "frames": FRAMES, **fields}
    response = await client.post("/api/artworks", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_read_update_delete(client: Any) -> None:
    created = await create(client, tags=["Cats", "animals"], prompt="a cat")
    assert created["frame_count"] == 2
    assert (created["width"], created["height"]) == (7, 3)
    assert created["r2_key"] == f"artworks/{created['user_id']}/{created['id']}.json"
    assert created["tags"] == ["cats", "animals"]
    assert len(created["id"]) == 22

    read = await client.get(f"/api/artworks/{created['id']}")
    assert read.status_code == 200
    assert read.headers["content-type"] == "application/json; charset=utf-8"
    body = read.json()
    assert body["frames"][0]["text"] == " /\\_/\\ \n( o.o )\n > ^ < "
    assert body["frames"][1]["duration_ms"] == 100
    assert read.headers["etag"] == body["etag"]

    patched = await client.patch(
        f"/api/artworks/{created['id']}",
        json={"title": "Sleepy cat", "frames": [{"text": "zzz"}]},
        headers={"If-Match": read.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Sleepy cat"
    assert patched.json()["frame_count"] == 1

    again = await client.get(f"/api/artworks/{created['id']}")
    assert again.json()["title"] == "Sleepy cat"
    assert again.json()["frames"] == [{"text": "zzz", "duration_ms": 100}]

    stale = await client.patch(
        f"/api/artworks/{created['id']}",
        json={"title": "x"},
        headers={"If-Match": read.headers["etag"]},
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "etag_mismatch"

    deleted = await client.delete(f"/api/artworks/{created['id']}")
    assert deleted.status_code == 204
    gone = await client.get(f"/api/artworks/{created['id']}")
    assert gone.status_code == 404
    assert gone.json() == {
        "error": {"code": "artwork_not_found", "message": "no artwork with this id"}
    }


async def test_second_read_comes_from_the_cache(client: Any) -> None:
    created = await create(client)
    services = client.app.starlette.state.services
    first = await client.get(f"/api/artworks/{created['id']}")
    hits = services.artworks.stats["hit"]
    second = await client.get(f"/api/artworks/{created['id']}")
    assert second.content == first.content
    assert services.artworks.stats["hit"] == hits + 1
    cached = await services.kv.get(f"ascii:{created['id']}")
    assert cached == first.content


async def test_if_none_match_answers_304(client: Any) -> None:
    created = await create(client)
    url = f"/api/artworks/{created['id']}"
    etag = (await client.get(url)).headers["etag"]
    for _ in range(2):  # the first from the route, the second from the fast lane
        response = await client.get(url, headers={"If-None-Match": etag})
        assert response.status_code == 304
        assert response.content == b""


async def test_update_is_never_served_stale(client: Any) -> None:
    created = await create(client)
    url = f"/api/artworks/{created['id']}"
    await client.get(url)
    await client.get(url)
    await client.patch(url, json={"visibility": "private"})
    await client.patch(url, json={"title": "New title"})
    assert (await client.get(url)).json()["title"] == "New title"
    assert (await client.get(url)).json()["visibility"] == "private"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"title": "x"}, 400, "missing_field"),
        ({"frames": [{"text": "\x1b[31mred"}]}, 400, "control_character"),
        ({"frames": [{"text": "a"}], "owner_id": "someone"}, 400, "unknown_field"),
        ({"frames": [{"text": "a"}], "visibility": "everyone"}, 400, "invalid_input"),
        ({"frames": [{"text": "x" * 600}]}, 413, "document_too_large"),
        ({"frames": []}, 400, "invalid_document"),
    ],
)
async def test_bad_artworks_are_refused(client: Any, body: Any, status: int, code: str) -> None:
    response = await client.post("/api/artworks", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


async def test_malformed_requests(client: Any) -> None:
    bad_json = await client.post(
        "/api/artworks", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_json"
    wrong_type = await client.post(
        "/api/artworks", content=b"frames", headers={"content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    too_big = await client.post(
        "/api/artworks",
        content=b"x" * (9 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "body_too_large"
    missing = await client.get("/api/artworks/AAAAAAAAAAAAAAAAAAAAAA")
    assert missing.status_code == 404
    odd = await client.get("/api/artworks/../../etc/passwd")
    assert odd.status_code == 404
    no_route = await client.get("/api/nothing-here")
    assert no_route.status_code == 404 and no_route.json()["error"]["code"] == "route_not_found"
    wrong_method = await client.put("/api/artworks/x")
    assert wrong_method.status_code == 405


async def test_security_headers_on_every_kind_of_response(client: Any) -> None:
    created = await create(client)
    url = f"/api/artworks/{created['id']}"
    await client.get(url)
    for response in (
        await client.get(url),
        await client.get("/api/artworks/nope"),
        await client.get("/healthz"),
        await client.get("/"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "object-src 'none'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_health_metrics_and_openapi(client: Any) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["checks"] == {
        "metadata": "ok",
        "kv": "ok",
        "objects": "ok",
        "queue": "ok",
        "rooms": "ok",
    }
    created = await create(client)
    await client.get(f"/api/artworks/{created['id']}")
    await client.get(f"/api/artworks/{created['id']}")
    metrics = (await client.get("/metrics")).text
    assert (
        'asciihub_http_requests_total{method="POST",route="/api/artworks",status="201"} 1.0'
        in metrics
    )
    assert 'asciihub_cache_requests_total{cache="artwork",result="hit"}' in metrics
    assert "asciihub_http_request_duration_seconds_bucket" in metrics
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert {"post"} <= set(spec["paths"]["/api/artworks"])


async def test_every_api_route_is_in_the_openapi_document(client: Any) -> None:
    spec = (await client.get("/openapi.json")).json()
    for route in client.app.starlette.routes:
        path = getattr(route, "path", "")
        if path.startswith("/api/") or path in ("/healthz", "/metrics", "/openapi.json"):
            assert path in spec["paths"], f"{path} is missing from /openapi.json"
            for method in route.methods - {"HEAD"}:
                assert method.lower() in spec["paths"][path], f"{method} {path} is undocumented"


async def test_views_count_once_per_viewer_then_show_fresh(client: Any) -> None:
    """Re-reading (cached or not) adds no view; another viewer does; flushes show at once."""
    import httpx

    created = await create(client)
    url = f"/api/artworks/{created['id']}"
    for _ in range(5):
        assert (await client.get(url)).status_code == 200
    services = client.app.starlette.state.services
    assert services.views.pending == 1
    assert (await services.artworks_repo.get(created["id"])).views == 0

    # Anonymous readers hit the cached fast lane; each address counts once.
    for address in ("10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.1"):
        transport = httpx.ASGITransport(app=client.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anon:
            assert (await anon.get(url)).status_code == 200
    assert services.views.pending == 3

    await services.views.flush()
    assert (await services.artworks_repo.get(created["id"])).views == 3
    assert (await client.get(url)).json()["views"] == 3  # not the cached 0


async def test_housekeeping_purges_expired_keys(services: Any) -> None:
    import time

    await services.kv.put("scratch:gone", b"x", expiration=int(time.time()) + 1)
    deadline = time.monotonic() + 10
    while await services.kv.get("scratch:gone") is not None:
        assert time.monotonic() < deadline, "the key never expired"
        await asyncio.sleep(0.05)
    done = await services.housekeeping()
    if services.settings.resolved_kv_url().startswith("sqlite"):
        assert done["kv_purged"] >= 1
    if services.settings.resolved_objects_url().startswith("file"):
        assert "objects_swept" in done
