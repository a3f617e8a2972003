"""Export all my data: ``POST /api/me/export-all`` (job, e-mail, expiry) and the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.jobs.conftest import eventually, fast, open_client, wait_job
from tests.jobs.test_exports import signup_with_email
from tests.users import new_handle, signup

FRAMES = [{"text": "ab\ncd", "duration_ms": 120}, {"text": "xy\nzw", "duration_ms": 300}]


@pytest.fixture
async def mail_client(deployment_settings: Any) -> AsyncIterator[Any]:
    """A client with an e-mail address on an app whose consumers run."""
    settings = fast(deployment_settings)
    app, transport = await open_client(settings)
    async with app.starlette.router.lifespan_context(app.starlette):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.services = app.starlette.state.services  # type: ignore[attr-defined]
            http.transport = transport  # type: ignore[attr-defined]
            http.user = await signup_with_email(http, "ada@example.org")  # type: ignore[attr-defined]
            yield http


async def make_artworks(client: Any) -> list[str]:
    ids = []
    for title, visibility in (("First", "private"), ("Second", "public")):
        body = {"title": title, "visibility": visibility, "tags": ["t"], "frames": FRAMES}
        response = await client.post("/api/artworks", json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    share = await client.post(
        f"/api/artworks/{ids[0]}/shares", json={"permission": "view", "expires_in": 3600}
    )
    assert share.status_code == 201, share.text
    client.share_token = share.json()["token"]
    return ids


@pytest.mark.parametrize("deployment_settings", ["embedded", "scaleout"], indirect=True)
async def test_export_all_as_a_job_with_mail_and_expiry(mail_client: Any) -> None:
    client = mail_client
    ids = await make_artworks(client)
    response = await client.post("/api/me/export-all")
    assert response.status_code == 202, response.text
    body = response.json()
    job = await wait_job(client, body["job_id"])
    assert job["status"] == "done" and job["progress"] == 1, job

    outbox = Path(client.services.settings.data_path) / "outbox" / f"export-{body['job_id']}.eml"
    await eventually(lambda: asyncio.to_thread(outbox.exists))
    assert body["download_url"] in outbox.read_text().replace("=\n", "")

    path = f"/api/me/export-all/{body['job_id']}/download"
    got = await client.get(path)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    assert got.headers["etag"] == f'"{hashlib.sha256(got.content).hexdigest()}"'
    assert got.headers["content-length"] == str(len(got.content))
    part = await client.get(path, headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == got.content[:4] == b"PK\x03\x04"
    same = await client.get(path, headers={"If-None-Match": got.headers["etag"]})
    assert same.status_code == 304
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    names = set(archive.namelist())
    for artwork_id in ids:
        for member in (
            "artwork.json",
            "artwork.txt",
            "artwork.cast",
            "thumbnail.png",
            "artwork-info.json",
            "shares.json",
        ):
            assert f"artworks/{artwork_id}/{member}" in names
    assert {"README.txt", "account.json", "preferences.json", "tokens.json"} <= names
    info = json.loads(archive.read(f"artworks/{ids[1]}/artwork-info.json"))
    assert (info["title"], info["visibility"], info["tags"]) == ("Second", "public", ["t"])
    shares = json.loads(archive.read(f"artworks/{ids[0]}/shares.json"))
    assert len(shares) == 1 and shares[0]["permission"] == "view"
    assert json.loads(archive.read("account.json"))["email"] == "ada@example.org"
    everything = b"".join(archive.read(name) for name in names)
    assert client.share_token.encode() not in everything  # no secrets in the archive

    # Anyone else gets 404; the archive imports back as new private artworks.
    async with httpx.AsyncClient(transport=client.transport, base_url="http://testserver") as other:
        await signup(other, new_handle())
        assert (await other.get(path)).status_code == 404
        imported = await other.post(
            "/api/import", files={"file": ("all.zip", got.content, "application/zip")}
        )
        assert imported.status_code == 202, imported.text
        done = await wait_job(other, imported.json()["job_id"])
        assert done["status"] == "done" and len(done["artwork_ids"]) == 2, done
        for artwork_id in done["artwork_ids"]:
            art = (await other.get(f"/api/artworks/{artwork_id}")).json()
            assert art["visibility"] == "private" and art["title"] in ("First", "Second")

    # Past export_all_ttl the download is refused and the archive deleted.
    service = client.services.background.export_all
    later = service.clock() + timedelta(seconds=service.ttl.total_seconds() + 1)
    service.clock = lambda: later
    expired = await client.get(path)
    assert expired.status_code == 404 and expired.json()["error"]["code"] == "export_expired"
    key = f"exports/{client.user['id']}/all-{body['job_id']}.zip"
    assert await client.services.objects.head(key) is None


@pytest.mark.parametrize("deployment_settings", ["embedded"], indirect=True)
async def test_export_all_needs_a_login(mail_client: Any) -> None:
    mail_client.cookies.clear()
    assert (await mail_client.post("/api/me/export-all")).status_code in (401, 403)
    missing = await mail_client.get("/api/me/export-all/nope/download")
    assert missing.status_code in (401, 404)


def test_cli_export_all(data_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "ASCIIHUB_DATA_DIR": str(data_dir)}

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "asciihub", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            input=stdin,
        )

    made = cli(
        "user", "create", "grace", "--password-stdin", stdin="correct horse battery staple\n"
    )
    assert made.returncode == 0, made.stderr
    out = tmp_path / "grace.zip"
    done = cli("export-all", "grace", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "0 artwork(s)" in done.stdout
    assert "account.json" in zipfile.ZipFile(out).namelist()
    unknown = cli("export-all", "nobody-here")
    assert unknown.returncode == 2 and "no user" in unknown.stderr
