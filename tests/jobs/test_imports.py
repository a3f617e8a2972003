"""``POST /api/import`` through the imports queue, and ``asciihub import``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from asciihub.engine.document import build_document
from asciihub.render.asciicast import cast_bytes
from asciihub.render.exports import RenderOptions, zip_bytes
from tests.jobs.conftest import eventually, wait_job

DOCUMENT = build_document(
    [
        {"text": "ab\ncd", "duration_ms": 120},
        {"text": "xy\nzw", "duration_ms": 300, "colors": "AAECAwQFBgcICQoL"},
    ]
)


async def upload(client: Any, name: str, data: bytes, **fields: str) -> Any:
    return await client.post("/api/import", files={"file": (name, data)}, data=fields)


@pytest.mark.parametrize("deployment_settings", ["embedded", "scaleout"], indirect=True)
async def test_a_cast_imports_through_the_queue(jobs_client: Any) -> None:
    client = jobs_client
    response = await upload(client, "demo.cast", cast_bytes(DOCUMENT, title="Demo"))
    assert response.status_code == 202, response.text
    job = await wait_job(client, response.json()["job_id"])
    assert job["status"] == "done", job
    art = (await client.get(f"/api/artworks/{job['artwork_id']}")).json()
    assert (art["title"], art["visibility"], art["frame_count"]) == ("Demo", "private", 2)
    assert [f["duration_ms"] for f in art["frames"]] == [120, 300]
    assert art["frames"][1]["colors"] == "AAECAwQFBgcICQoL"
    assert art["user_id"] == client.user["id"]

    # The upload is deleted right after the job is marked done.
    async def no_uploads() -> bool:
        return not (await client.services.objects.list("media/")).objects

    await eventually(no_uploads)


@pytest.mark.parametrize("deployment_settings", ["embedded"], indirect=True)
async def test_import_errors_and_several_artworks(jobs_client: Any) -> None:
    client = jobs_client
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as zf:
        for folder in ("a", "b"):
            zf.writestr(f"{folder}/artwork.json", json.dumps(DOCUMENT.to_json()))
    response = await upload(client, "two.zip", bundle.getvalue())
    assert response.status_code == 202, response.text
    job = await wait_job(client, response.json()["job_id"])
    assert job["status"] == "done" and len(job["artwork_ids"]) == 2, job

    hostile = io.BytesIO()
    with zipfile.ZipFile(hostile, "w") as zf:
        zf.writestr("../escape.json", b"{}")
    refused = await upload(client, "evil.zip", hostile.getvalue())
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "unsafe_archive"

    bad = await upload(client, "bad.cast", b'{"version": 2, "width": 0, "height": 1}\n')
    assert bad.status_code == 202
    failed = await wait_job(client, bad.json()["job_id"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "invalid_cast", failed

    not_multipart = await client.post("/api/import", json={"file": "x"})
    assert not_multipart.status_code == 415
    missing = await client.post("/api/import", data={"title": "x"}, files={"other": ("a", b"a")})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_file"
    client.cookies.clear()
    anonymous = await upload(client, "demo.cast", cast_bytes(DOCUMENT))
    assert anonymous.status_code in (401, 403)


@pytest.mark.parametrize("deployment_settings", ["embedded", "scaleout"], indirect=True)
async def test_an_import_with_an_idempotency_key_runs_once(jobs_client: Any) -> None:
    client = jobs_client
    data = cast_bytes(DOCUMENT, title="Once")
    key = {"Idempotency-Key": "import-once-1"}

    async def send(payload: bytes, headers: dict[str, str], **fields: str) -> Any:
        files = {"file": ("once.cast", payload)}
        return await client.post("/api/import", files=files, data=fields, headers=headers)

    first = await send(data, key)
    assert first.status_code == 202, first.text
    assert "idempotent-replayed" not in first.headers
    job = await wait_job(client, first.json()["job_id"])
    assert job["status"] == "done", job
    again = await send(data, key)
    assert again.status_code == 202, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == f"/api/jobs/{first.json()['job_id']}"

    other_file = await send(cast_bytes(DOCUMENT, title="Other"), key)
    assert other_file.status_code == 409, other_file.text
    assert other_file.json()["error"]["code"] == "idempotency_key_reused"
    other_title = await send(data, key, title="Renamed")
    assert other_title.status_code == 409
    bad_key = await send(data, {"Idempotency-Key": "bad key"})
    assert bad_key.status_code == 400
    assert bad_key.json()["error"]["code"] == "invalid_idempotency_key"

    # without a key, or with a new one, the same file imports again (asked for)
    fresh = await send(data, {"Idempotency-Key": "import-once-2"})
    plain = await send(data, {})
    jobs = {first.json()["job_id"], fresh.json()["job_id"], plain.json()["job_id"]}
    assert len(jobs) == 3
    for job_id in jobs - {first.json()["job_id"]}:
        assert (await wait_job(client, job_id))["status"] == "done"
    titles = [
        item["title"]
        for item in (await client.get(f"/api/users/{client.user['handle']}/artworks")).json()[
            "items"
        ]
    ]
    assert titles.count("Once") == 3


def test_cli_import(data_dir: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "export.zip"
    bundle.write_bytes(zip_bytes(DOCUMENT, RenderOptions(title="From zip")))
    art = tmp_path / "art.ans"
    art.write_bytes(b"\x1b[31m\xdb\xdb\x1b[0m\r\n")
    env = {**os.environ, "ASCIIHUB_DATA_DIR": str(data_dir)}
    for path, title in ((bundle, "From zip"), (art, "art")):
        done = subprocess.run(
            [sys.executable, "-m", "asciihub", "import", str(path), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        (created,) = json.loads(done.stdout)
        assert created["title"] == title and created["visibility"] == "private"
    missing = subprocess.run(
        [sys.executable, "-m", "asciihub", "import", str(tmp_path / "nope.cast")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert missing.returncode == 2 and "not a file" in missing.stderr
