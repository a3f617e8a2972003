"""``asciihub serve --port 0``: every link the services build carries the bound port."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.servers import running_server
from tests.users import sync_signup

pytestmark = pytest.mark.e2e


def _finished(http: httpx.Client, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = http.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_links_carry_the_bound_port(data_dir: Path) -> None:
    with running_server(data_dir) as (url, _proc), httpx.Client(base_url=url) as http:
        port = int(url.rsplit(":", 1)[1])
        assert port != 0
        sync_signup(http)
        frames = [{"text": "ab\ncd", "duration_ms": 200}, {"text": "cd\nab"}]
        art = http.post(
            "/api/artworks", json={"title": "Links", "visibility": "public", "frames": frames}
        ).json()

        share = http.post(f"/api/artworks/{art['id']}/shares", json={"permission": "view"})
        assert share.status_code == 201, share.text
        link = share.json()["url"]
        assert link.startswith(f"{url}/s/"), link
        with httpx.Client() as stranger:  # the link itself opens the artwork
            opened = stranger.get(link)
        assert opened.status_code == 200 and "Links" in opened.text

        export = http.post(f"/api/artworks/{art['id']}/exports", json={"format": "gif"})
        assert export.status_code == 202, export.text
        assert _finished(http, export.json()["job_id"])["status"] == "done"
        download = http.get(f"/api/exports/{export.json()['export_id']}").json()["download_url"]
        assert download.startswith(f"{url}/api/exports/"), download
        got = http.get(download)
        assert got.status_code == 200 and got.content[:6] == b"GIF89a"

        everything = http.post("/api/me/export-all")
        assert everything.status_code == 202, everything.text
        assert everything.json()["download_url"].startswith(f"{url}/api/me/export-all/")

        page = http.get(f"/a/{art['id']}").text
        assert f"{url}/embed/{art['id']}" in page and ":0/" not in page
