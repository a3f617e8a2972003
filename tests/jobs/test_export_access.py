"""Who may export, over real HTTP (uvicorn on a port) on every backend combination.

Anyone who may view an artwork may export it; one object per version and format is
shared by every requester and rendered once; downloads stream with a file name from
the title, a strong ETag, 304 and single ranges; hiding or deleting the artwork (or
revoking the view link) makes the export unreachable to those who lose access.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn

from tests.jobs.conftest import eventually, fast
from tests.users import signup

FRAMES = [{"text": "abc\ndef", "duration_ms": 100}, {"text": "xyz\nuvw", "duration_ms": 200}]
TEXT = b"abc\ndef\n\f\nxyz\nuvw\n"
TITLE = 'Café / "night" ☕'


class LiveServer:
    """The whole app with its consumers, served by uvicorn on a free loopback port."""

    def __init__(self, app: Any, services: Any, url: str) -> None:
        self.app = app
        self.services = services
        self.url = url

    def client(self) -> httpx.AsyncClient:
        """A fresh client (its own cookie jar) of the server."""
        return httpx.AsyncClient(base_url=self.url, timeout=30.0)


@pytest.fixture
async def live(deployment_settings: Any) -> AsyncIterator[LiveServer]:
    from asciihub.api.app import create_app
    from asciihub.worker import in_process

    app = create_app(fast(deployment_settings), background=in_process())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert not task.done(), task
        await asyncio.sleep(0.02)
    try:
        yield LiveServer(app, app.starlette.state.services, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        sock.close()


async def create(client: httpx.AsyncClient, visibility: str, title: str = TITLE) -> str:
    body = {"title": title, "visibility": visibility, "frames": FRAMES}
    response = await client.post("/api/artworks", json=body)
    assert response.status_code == 201, response.text
    artwork_id: str = response.json()["id"]
    return artwork_id


async def ask(client: httpx.AsyncClient, artwork_id: str, fmt: str, **kw: Any) -> httpx.Response:
    return await client.post(f"/api/artworks/{artwork_id}/exports", json={"format": fmt}, **kw)


async def done(client: httpx.AsyncClient, export_id: str, **kw: Any) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        response = await client.get(f"/api/exports/{export_id}", **kw)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["status"] in ("done", "failed") else None

    result: dict[str, Any] = await eventually(finished)
    assert result["status"] == "done", result
    return result


def not_found(response: httpx.Response) -> bool:
    return response.status_code == 404 and response.json() == {
        "error": {"code": "export_not_found", "message": "no export with this id"}
    }


async def test_anyone_who_may_view_shares_one_export(live: LiveServer) -> None:
    async with live.client() as owner, live.client() as other, live.client() as anonymous:
        await signup(owner)
        await signup(other)
        artwork_id = await create(owner, "public")
        # concurrent first requests from three principals converge on one row and one job
        answers = await asyncio.gather(
            ask(anonymous, artwork_id, "txt"),
            ask(other, artwork_id, "txt"),
            ask(owner, artwork_id, "txt"),
            ask(anonymous, artwork_id, "txt"),
        )
        assert {a.status_code for a in answers} <= {200, 202}, [a.text for a in answers]
        assert len({a.json()["export_id"] for a in answers}) == 1
        assert len({a.json()["job_id"] for a in answers}) == 1
        export_id = answers[0].json()["export_id"]
        status = await done(anonymous, export_id)
        row = await live.services.background.exports.repo.get(export_id)
        assert row.object_key.startswith(f"exports/artworks/{artwork_id}/")
        first = await live.services.objects.head(row.object_key)

        again = await ask(other, artwork_id, "txt")
        assert again.status_code == 200, again.text
        assert again.json() == {
            "job_id": row.job_id,
            "export_id": export_id,
            "status": "done",
            "download_url": status["download_url"],
        }
        assert (await live.services.objects.head(row.object_key)).version == first.version
        # another format is another export; another version too
        gif = await ask(anonymous, artwork_id, "gif")
        assert gif.status_code == 202 and gif.json()["export_id"] != export_id
        changed = await owner.patch(f"/api/artworks/{artwork_id}", json={"title": "Renamed"})
        assert changed.status_code == 200, changed.text
        newer = await ask(anonymous, artwork_id, "txt")
        assert newer.status_code == 202 and newer.json()["export_id"] != export_id

        for who in (owner, other, anonymous):
            got = await who.get(f"/api/exports/{export_id}/download")
            assert got.status_code == 200 and got.content == TEXT


async def test_downloads_stream_with_name_etag_and_ranges(live: LiveServer) -> None:
    async with live.client() as owner, live.client() as anonymous:
        await signup(owner)
        artwork_id = await create(owner, "unlisted")
        export_id = (await ask(anonymous, artwork_id, "txt")).json()["export_id"]
        status = await done(anonymous, export_id)
        url = f"/api/exports/{export_id}/download"
        whole = await anonymous.get(url)
        assert whole.status_code == 200 and whole.content == TEXT
        etag = f'"{status["sha256"]}"'
        assert whole.headers["etag"] == etag
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-length"] == str(len(TEXT))
        assert whole.headers["content-type"] == "text/plain; charset=utf-8"
        assert whole.headers["content-disposition"] == (
            'attachment; filename="Cafe-night.txt"; '
            f"filename*=UTF-8''{quote('Café-night.txt', safe='')}"
        )
        assert whole.headers["cache-control"] == "private, no-store"

        head = await anonymous.head(url)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(TEXT))
        assert head.headers["etag"] == etag
        cached = await anonymous.get(url, headers={"If-None-Match": etag})
        assert cached.status_code == 304 and cached.content == b""
        other_tag = await anonymous.get(url, headers={"If-None-Match": '"nope"'})
        assert other_tag.status_code == 200

        part = await anonymous.get(url, headers={"Range": "bytes=4-9"})
        assert part.status_code == 206 and part.content == TEXT[4:10]
        assert part.headers["content-range"] == f"bytes 4-9/{len(TEXT)}"
        assert part.headers["content-length"] == "6"
        tail = await anonymous.get(url, headers={"Range": "bytes=-4"})
        assert tail.status_code == 206 and tail.content == TEXT[-4:]
        rest = await anonymous.get(url, headers={"Range": "bytes=10-"})
        assert rest.status_code == 206 and rest.content == TEXT[10:]
        past = await anonymous.get(url, headers={"Range": f"bytes={len(TEXT)}-"})
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{len(TEXT)}"
        several = await anonymous.get(url, headers={"Range": "bytes=0-1,4-5"})
        assert several.status_code == 200 and several.content == TEXT
        stale = await anonymous.get(url, headers={"Range": "bytes=0-1", "If-Range": '"old"'})
        assert stale.status_code == 200 and stale.content == TEXT
        fresh = await anonymous.get(url, headers={"Range": "bytes=0-1", "If-Range": etag})
        assert fresh.status_code == 206 and fresh.content == TEXT[:2]

        live.services.background.exports.presigned_downloads = True
        try:
            moved = await anonymous.get(url)
            assert moved.status_code == 302
            location = moved.headers["location"]
            target = location if location.startswith("http") else f"{live.url}{location}"
            async with httpx.AsyncClient() as direct:
                fetched = await direct.get(target)
                ranged = await direct.get(target, headers={"Range": "bytes=0-2"})
            assert fetched.status_code == 200 and fetched.content == TEXT
            assert "Cafe-night.txt" in fetched.headers["content-disposition"]
            assert ranged.status_code == 206 and ranged.content == TEXT[:3]
        finally:
            live.services.background.exports.presigned_downloads = False


async def test_losing_access_makes_the_export_unreachable(live: LiveServer) -> None:
    async with live.client() as owner, live.client() as other, live.client() as holder:
        await signup(owner)
        await signup(other)
        artwork_id = await create(owner, "public", title="")
        export_id = (await ask(other, artwork_id, "cast")).json()["export_id"]
        await done(other, export_id)
        answer = await other.get(f"/api/exports/{export_id}/download")
        assert answer.headers["content-disposition"] == (
            f'attachment; filename="asciihub-{artwork_id}.cast"'
        )

        hidden = await owner.patch(f"/api/artworks/{artwork_id}", json={"visibility": "private"})
        assert hidden.status_code == 200, hidden.text
        for suffix in ("", "/download"):
            assert not_found(await other.get(f"/api/exports/{export_id}{suffix}"))
            assert not_found(await holder.get(f"/api/exports/{export_id}{suffix}"))
            assert (await owner.get(f"/api/exports/{export_id}{suffix}")).status_code == 200
        refused = await ask(other, artwork_id, "cast")
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "artwork_not_found"

        # a view link opens the private artwork's exports to its holder, until revoked
        share = await owner.post(
            f"/api/artworks/{artwork_id}/shares", json={"permission": "view", "expires_in": 600}
        )
        assert share.status_code == 201, share.text
        token = share.json()["token"]
        linked = {"X-Share-Token": token}
        private_export = await ask(holder, artwork_id, "txt", headers=linked)
        assert private_export.status_code == 202, private_export.text
        assert private_export.headers["referrer-policy"] == "no-referrer"
        private_id = private_export.json()["export_id"]
        await done(holder, private_id, headers=linked)
        fetched = await holder.get(f"/api/exports/{private_id}/download?share={token}")
        assert fetched.status_code == 200 and fetched.content == TEXT
        assert not_found(await holder.get(f"/api/exports/{private_id}/download"))
        assert not_found(await other.get(f"/api/exports/{private_id}"))
        revoked = await owner.delete(f"/api/artworks/{artwork_id}/shares/{share.json()['id']}")
        assert revoked.status_code == 204
        assert not_found(await holder.get(f"/api/exports/{private_id}/download?share={token}"))

        key = (await live.services.background.exports.repo.get(private_id)).object_key
        assert await live.services.objects.head(key) is not None
        deleted = await owner.delete(f"/api/artworks/{artwork_id}")
        assert deleted.status_code == 204
        page = await live.services.objects.list(f"exports/artworks/{artwork_id}/")
        assert list(page.objects) == []
        for suffix in ("", "/download"):
            assert not_found(await owner.get(f"/api/exports/{private_id}{suffix}"))


async def test_an_export_whose_file_is_gone_is_made_again(live: LiveServer) -> None:
    async with live.client() as owner:
        await signup(owner)
        artwork_id = await create(owner, "public")
        first = (await ask(owner, artwork_id, "png")).json()
        await done(owner, first["export_id"])
        row = await live.services.background.exports.repo.get(first["export_id"])
        await live.services.objects.delete(row.object_key)
        assert not_found(await owner.get(f"/api/exports/{first['export_id']}/download"))
        retried = await ask(owner, artwork_id, "png")
        assert retried.status_code == 202, retried.text
        assert retried.json()["export_id"] == first["export_id"]
        assert retried.json()["job_id"] != first["job_id"]
        status = await done(owner, first["export_id"])
        assert status["job_id"] == retried.json()["job_id"]
        fetched = await owner.get(f"/api/exports/{first['export_id']}/download")
        assert fetched.status_code == 200 and fetched.content.startswith(b"\x89PNG")


async def test_fsck_removes_the_exports_of_an_artwork_that_is_gone(live: LiveServer) -> None:
    from asciihub.bootstrap import input_limits
    from asciihub.services.fsck import Fsck

    services = live.services
    async with live.client() as owner:
        await signup(owner)
        artwork_id = await create(owner, "public")
        kept_id = await create(owner, "public")
        export_id = (await ask(owner, artwork_id, "txt")).json()["export_id"]
        kept_export = (await ask(owner, kept_id, "txt")).json()["export_id"]
        await done(owner, export_id)
        await done(owner, kept_export)
    key = (await services.background.exports.repo.get(export_id)).object_key
    kept_key = (await services.background.exports.repo.get(kept_export)).object_key
    # a crash between the row's delete and the objects' delete leaves the export behind
    assert await services.artworks_repo.delete(artwork_id) is not None

    def checker() -> Fsck:
        return Fsck(
            artworks=services.artworks_repo,
            objects=services.objects,
            cache=services.kv,
            limits=input_limits(services.settings).document,
            grace_seconds=0.0,
        )

    found = await checker().run(repair=False)
    assert found.orphan_exports == [key]
    repaired = await checker().run(repair=True)
    assert repaired.orphan_exports == [key]
    assert await services.objects.head(key) is None
    assert await services.objects.head(kept_key) is not None
    assert (await checker().run(repair=False)).orphan_exports == []
