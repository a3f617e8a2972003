"""Exports: every format read back, the HTTP flow on every backend, mail, limits, CLI."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.cli.test_artworks_cli import cli
from tests.jobs.conftest import eventually, fast, open_client
from tests.users import PASSWORD, new_handle, signup

RED = base64.b64encode(bytes([255, 0, 0]) * 6).decode()
FRAMES = [
    {"text": "abc\ndef", "duration_ms": 120, "colors": RED},
    {"text": "xyz\nuvw", "duration_ms": 250},
    {"text": "123\n456", "duration_ms": 400},
]
TOTAL_MS = 770


async def signup_with_email(client: Any, email: str) -> dict[str, Any]:
    """Sign ``client`` up with an e-mail address (the export mail needs one)."""
    client.headers["Origin"] = "http://testserver"
    body = {"handle": new_handle(), "password": PASSWORD, "email": email}
    response = await client.post("/api/auth/signup", json=body)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


async def create_artwork(client: Any, frames: list[dict[str, Any]], **extra: Any) -> str:
    body = {"title": "Cat", "visibility": "private", "frames": frames, **extra}
    response = await client.post("/api/artworks", json=body)
    assert response.status_code == 201, response.text
    artwork_id: str = response.json()["id"]
    return artwork_id


async def request_export(client: Any, artwork_id: str, fmt: str) -> dict[str, str]:
    response = await client.post(f"/api/artworks/{artwork_id}/exports", json={"format": fmt})
    assert response.status_code == 202, response.text
    body: dict[str, str] = response.json()
    assert response.headers["location"] == f"/api/exports/{body['export_id']}"
    return body


async def wait_export(client: Any, export_id: str) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        response = await client.get(f"/api/exports/{export_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["status"] in ("done", "failed") else None

    result: dict[str, Any] = await eventually(finished)
    return result


async def download(client: Any, export_id: str) -> httpx.Response:
    response = await client.get(f"/api/exports/{export_id}/download")
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
async def export_client(embedded_settings: Any) -> AsyncIterator[Any]:
    """A client with an e-mail address on an embedded app whose consumers run."""
    settings = fast(embedded_settings, export_max_frames=3)
    app, transport = await open_client(settings)
    async with app.starlette.router.lifespan_context(app.starlette):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            http.services = app.starlette.state.services  # type: ignore[attr-defined]
            http.user = await signup_with_email(http, "ada@example.org")  # type: ignore[attr-defined]
            yield http


def check_cast(data: bytes) -> None:
    lines = data.decode().splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2
    assert (header["width"], header["height"], header["title"]) == (3, 2, "Cat")
    assert header["duration"] == pytest.approx(TOTAL_MS / 1000)
    assert isinstance(header["timestamp"], int) and header["timestamp"] > 1_600_000_000
    assert set(header["theme"]) == {"fg", "bg", "palette"}
    assert len(header["theme"]["palette"].split(":")) == 16
    events = [json.loads(line) for line in lines[1:]]
    assert [event[0] for event in events] == pytest.approx([0.0, 0.12, 0.37])
    assert {event[1] for event in events} == {"o"}
    assert events[0][2] == (
        "\x1b[H\x1b[2J\x1b[38;2;255;0;0mabc\x1b[0m\r\n\x1b[38;2;255;0;0mdef\x1b[0m"
    )
    assert events[1][2] == "\x1b[H\x1b[2Jxyz\r\nuvw"


def check_gif(data: bytes) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF"
    assert image.n_frames == 3
    durations = []
    for index in range(image.n_frames):
        image.seek(index)
        durations.append(image.info["duration"])
    assert durations == [120, 250, 400]
    assert image.info.get("loop") == 0


def check_mp4(data: bytes) -> None:
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.width % 2 == 0 and stream.height % 2 == 0
        assert float(stream.duration * stream.time_base) == pytest.approx(TOTAL_MS / 1000)
        starts = [float(frame.time) for frame in container.decode(video=0)]
    assert starts == pytest.approx([0.0, 0.12, 0.37])


def check_png(data: bytes) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    pixels = np.asarray(image.convert("RGB"))
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 100)
    assert red.any(), "the first frame's red ink is drawn"


def check_zip(data: bytes, artwork: dict[str, Any]) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == [
            "README.txt",
            "artwork.cast",
            "artwork.gif",
            "artwork.json",
            "artwork.svg",
            "artwork.txt",
            "frames/0001.png",
            "frames/0002.png",
            "frames/0003.png",
            "manifest.json",
        ]
        document = json.loads(archive.read("artwork.json"))
        assert [frame["text"] for frame in document["frames"]] == [
            frame["text"] for frame in artwork["frames"]
        ]
        assert archive.read("artwork.txt") == b"abc\ndef\n\f\nxyz\nuvw\n\f\n123\n456\n"
        check_cast(archive.read("artwork.cast"))
        assert b"asciihub export" in archive.read("README.txt")


async def test_every_format_reads_back(export_client: Any) -> None:
    client = export_client
    artwork_id = await create_artwork(client, FRAMES)
    artwork = (await client.get(f"/api/artworks/{artwork_id}")).json()
    formats = ("json", "txt", "cast", "png", "gif", "mp4", "zip")
    accepted = {fmt: await request_export(client, artwork_id, fmt) for fmt in formats}
    files: dict[str, bytes] = {}
    for fmt, ids in accepted.items():
        status = await wait_export(client, ids["export_id"])
        assert status["status"] == "done", status
        response = await download(client, ids["export_id"])
        assert response.headers["content-disposition"] == f'attachment; filename="Cat.{fmt}"'
        assert response.headers["etag"] == f'"{status["sha256"]}"'
        assert status["size"] == len(response.content)
        files[fmt] = response.content
        job = (await client.get(f"/api/jobs/{ids['job_id']}")).json()
        assert (job["kind"], job["status"], job["attempts"]) == ("export", "done", 1)
    document = json.loads(files["json"])
    assert document["format"] == "asciihub.artwork"
    assert [frame["duration_ms"] for frame in document["frames"]] == [120, 250, 400]
    assert document["frames"][0]["colors"] == RED
    assert files["txt"] == b"abc\ndef\n\f\nxyz\nuvw\n\f\n123\n456\n"
    check_cast(files["cast"])
    check_png(files["png"])
    check_gif(files["gif"])
    check_mp4(files["mp4"])
    check_zip(files["zip"], artwork)


async def test_export_mail_limits_and_account_deletion(export_client: Any) -> None:
    client = export_client
    services = client.services
    artwork_id = await create_artwork(client, FRAMES)
    ids = await request_export(client, artwork_id, "txt")
    export_id = ids["export_id"]
    status = await wait_export(client, export_id)
    outbox = Path(services.settings.data_path) / "outbox" / f"export-{export_id}.eml"
    await eventually(lambda: asyncio.to_thread(outbox.exists))
    mail = outbox.read_text()
    assert "To: ada@example.org" in mail
    assert status["download_url"].endswith(f"/api/exports/{export_id}/download")
    assert status["download_url"] in mail.replace("=\n", "")

    longer = await create_artwork(client, [*FRAMES, {"text": "end"}])
    too_many = await client.post(f"/api/artworks/{longer}/exports", json={"format": "gif"})
    assert too_many.status_code == 413
    assert too_many.json()["error"]["code"] == "export_too_large"
    assert "export_max_frames" in too_many.json()["error"]["message"]
    assert (
        await client.post(f"/api/artworks/{longer}/exports", json={"format": "cast"})
    ).status_code == 202
    for body, code in (
        ({"format": "bmp"}, "invalid_format"),
        ({}, "missing_field"),
        ({"format": "png", "size": 3}, "unknown_field"),
    ):
        bad = await client.post(f"/api/artworks/{artwork_id}/exports", json=body)
        assert bad.status_code == 400, bad.text
        assert bad.json()["error"]["code"] == code
    assert (
        "json, txt, cast, png, apng, gif, mp4, webm, svg, html, ansi, ansi256, ansi16, zip"
        in (
            await client.post(f"/api/artworks/{artwork_id}/exports", json={"format": "bmp"})
        ).json()["error"]["message"]
    )

    row = await services.background.exports.repo.get(export_id)
    key = row.object_key
    assert key.startswith(f"exports/artworks/{artwork_id}/")
    assert await services.objects.head(key) is not None
    deleted = await client.request("DELETE", "/api/me", json={"password": PASSWORD})
    assert deleted.status_code == 204
    assert await services.objects.head(key) is None
    assert await services.background.exports.repo.get(export_id) is None


async def test_export_flow_on_every_backend(jobs_client: Any) -> None:
    client = jobs_client
    artwork_id = await create_artwork(client, FRAMES)
    ids = await request_export(client, artwork_id, "txt")
    export_id = ids["export_id"]
    not_ready = await client.get(f"/api/exports/{export_id}/download")
    assert not_ready.status_code in (200, 409)
    status = await wait_export(client, export_id)
    assert status["status"] == "done", status
    assert (status["format"], status["artwork_id"], status["progress"]) == ("txt", artwork_id, 1)
    response = await download(client, export_id)
    assert response.content == b"abc\ndef\n\f\nxyz\nuvw\n\f\n123\n456\n"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    job = (await client.get(f"/api/jobs/{ids['job_id']}")).json()
    assert job["status"] == "done" and "artwork_id" not in job
    row = await client.services.background.exports.repo.get(export_id)
    stored = await client.services.objects.get(row.object_key)
    assert stored.data == response.content

    client.services.background.exports.presigned_downloads = True
    presigned = await client.get(f"/api/exports/{export_id}/download")
    assert presigned.status_code == 302
    location = presigned.headers["location"]
    if client.services.settings.resolved_objects_url().startswith("s3://"):
        async with httpx.AsyncClient() as direct:
            fetched = await direct.get(location)
        assert fetched.content == response.content
    else:  # the file store's signed path is served by the app itself
        assert location.startswith("/objects/exports/")
        fetched = await client.get(location)
        assert fetched.status_code == 200 and fetched.content == response.content
        assert fetched.headers["content-disposition"].startswith("attachment; filename=")
        assert fetched.headers["content-length"] == str(len(response.content))
        forged = await client.get(location.replace("sig=", "sig=0"))
        assert forged.status_code == 403
        assert forged.json()["error"]["code"] == "signature_mismatch"
    client.services.background.exports.presigned_downloads = False

    transport = httpx.ASGITransport(app=client.app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as other,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous,
    ):
        await signup(other)
        for who in (other, anonymous):
            for suffix in ("", "/download"):
                seen = await who.get(f"/api/exports/{export_id}{suffix}")
                never = await who.get(f"/api/exports/AAAAAAAAAAAAAAAAAAAAAA{suffix}")
                assert seen.status_code == 404
                assert (
                    seen.json()
                    == never.json()
                    == {"error": {"code": "export_not_found", "message": "no export with this id"}}
                )
        hidden = await other.post(f"/api/artworks/{artwork_id}/exports", json={"format": "txt"})
        missing = await other.post(
            "/api/artworks/AAAAAAAAAAAAAAAAAAAAAA/exports", json={"format": "txt"}
        )
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
        anon = await anonymous.post(f"/api/artworks/{artwork_id}/exports", json={"format": "txt"})
        assert anon.json() == missing.json()


async def test_a_limit_crossed_after_the_request_fails_the_job(embedded_settings: Any) -> None:
    from asciihub.services.exports import ExportLimits
    from asciihub.worker import in_process

    app, transport = await open_client(fast(embedded_settings), consumers=False)
    async with app.starlette.router.lifespan_context(app.starlette):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await signup(client)
            services = app.starlette.state.services
            artwork_id = await create_artwork(client, FRAMES)
            ids = await request_export(client, artwork_id, "png")
            services.background.exports.limits = ExportLimits(max_pixels=64)
            async with in_process(queues=["exports"])(services):
                status = await wait_export(client, ids["export_id"])
    assert status["status"] == "failed"
    assert status["error"]["code"] == "export_too_large"
    assert "export_max_pixels" in status["error"]["message"]
    assert "download_url" not in status


def test_cli_export_writes_a_file(data_dir: Path, tmp_path: Path) -> None:
    art = tmp_path / "cat.txt"
    art.write_text("ab\ncd\n---\nef\ngh\n")
    created = cli(
        data_dir, "artworks", "create", "--from-file", str(art), "--frame-separator", "---"
    )
    assert created.returncode == 0, created.stderr
    artwork_id = created.stdout.strip()
    target = tmp_path / "out.zip"
    done = cli(data_dir, "export", artwork_id, "--format", "zip", "--output", str(target))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(target) as archive:
        assert archive.read("artwork.txt") == b"ab\ncd\n\f\nef\ngh\n"
    missing = cli(data_dir, "export", "AAAAAAAAAAAAAAAAAAAAAA", "--format", "txt")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: no artwork with this id"
    bad = cli(data_dir, "export", artwork_id, "--format", "bmp")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: format must be one of json, txt")
