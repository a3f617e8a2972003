"""``asciihub serve`` on a real socket: the platform as a newcomer meets it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import running_server
from tests.users import sync_signup

pytestmark = pytest.mark.e2e


def test_serve_creates_reads_and_shows_artworks(data_dir: Path) -> None:
    with running_server(data_dir) as (url, _proc), httpx.Client(base_url=url) as http:
        sync_signup(http)
        home = http.get("/")
        assert home.status_code == 200
        assert "text/html" in home.headers["content-type"]
        assert "No public artworks yet" in home.text

        frames = [
            {"text": "  *  \n *** \n*****", "duration_ms": 200},
            {"text": "  +  \n +++ \n+++++"},
        ]
        created = http.post(
            "/api/artworks",
            json={"title": "Tree", "visibility": "public", "tags": ["xmas"], "frames": frames},
        )
        assert created.status_code == 201, created.text
        art = created.json()

        for _ in range(3):
            read = http.get(f"/api/artworks/{art['id']}")
            assert read.status_code == 200
            assert read.json()["frames"][0]["text"] == frames[0]["text"]

        page = http.get(f"/a/{art['id']}")
        assert page.status_code == 200
        assert 'id="art">  *  \n *** \n*****</pre>' in page.text
        assert "/static/player.js" in page.text
        assert http.get("/static/player.js").status_code == 200
        assert "Tree" in http.get("/").text

        thumb = http.get(f"/a/{art['id']}/thumbnail.png")
        assert thumb.status_code == 200 and thumb.content.startswith(b"\x89PNG")
        card = http.get(f"/a/{art['id']}/card.png")
        assert card.status_code == 200
        from io import BytesIO

        from PIL import Image

        assert Image.open(BytesIO(card.content)).size == (1200, 630)

        missing = http.get("/a/AAAAAAAAAAAAAAAAAAAAAA")
        assert missing.status_code == 404 and "Nothing here" in missing.text

        gallery = http.get("/api/gallery", params={"q": "tree"}).json()
        assert [item["id"] for item in gallery["items"]] == [art["id"]]
        assert http.delete(f"/api/artworks/{art['id']}").status_code == 204

    document = data_dir / "objects" / "artworks" / art["user_id"] / f"{art['id']}.json"
    assert not document.exists()


def _read_object(data_dir: Path, key: str) -> bytes:
    import asyncio

    from asciihub.storage.objects import open_object_store

    async def read() -> bytes:
        store = await open_object_store(f"file://{data_dir / 'objects'}")
        try:
            stored = await store.get(key)
            assert stored is not None, key
            return stored.data
        finally:
            await store.close()

    return asyncio.run(read())


def test_artwork_is_an_object_a_row_and_a_cache_entry(data_dir: Path) -> None:
    import sqlite3

    with running_server(data_dir) as (url, _proc), httpx.Client(base_url=url) as http:
        user = sync_signup(http)
        art = http.post("/api/artworks", json={"frames": [{"text": "hi"}]}).json()
        http.get(f"/api/artworks/{art['id']}")
        stored = json.loads(_read_object(data_dir, art["r2_key"]))
        assert stored["format"] == "asciihub.artwork" and stored["frames"][0]["text"] == "hi"
        with sqlite3.connect(data_dir / "metadata.sqlite3") as db:
            row = db.execute(
                "SELECT r2_key, visibility FROM ascii_metadata WHERE id = ?", (art["id"],)
            ).fetchone()
        assert row == (f"artworks/{user['id']}/{art['id']}.json", "private")
        with sqlite3.connect(data_dir / "kv.sqlite3") as kv:
            keys = [r[0] for r in kv.execute("SELECT key FROM kv").fetchall()]
        assert f"ascii:{art['id']}" in keys


def test_sigterm_stops_cleanly_and_views_are_kept(data_dir: Path) -> None:
    with running_server(data_dir) as (url, proc), httpx.Client(base_url=url) as http:
        sync_signup(http)
        art = http.post(
            "/api/artworks", json={"visibility": "public", "frames": [{"text": "v"}]}
        ).json()
        # Two viewers (the account, and an anonymous reader served from the cache):
        # each counts once however often it reads.
        with httpx.Client(base_url=url) as anonymous:
            for _ in range(4):
                assert http.get(f"/api/artworks/{art['id']}").status_code == 200
                assert anonymous.get(f"/api/artworks/{art['id']}").status_code == 200
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert proc.returncode in (0, -signal.SIGTERM)
    with running_server(data_dir) as (url, _proc), httpx.Client(base_url=url) as http:
        items = http.get("/api/gallery").json()["items"]
        assert items[0]["views"] == 2
