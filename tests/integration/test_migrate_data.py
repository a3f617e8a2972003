"""``asciihub migrate-data``: embedded to scale-out and back, verified, resumable."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.stack import create_bucket, new_bucket_name, reset_postgres

from asciihub.bootstrap import build_services, close_endpoint, open_endpoint
from asciihub.services.datamigration import DataMigration, Endpoint
from asciihub.services.principals import LOCAL
from asciihub.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]
COUNT = int(os.environ.get("ASCIIHUB_TEST_MIGRATE_COUNT", "1000"))


def write_config(path: Path, **values: str) -> Path:
    path.write_text("".join(f'{key} = "{value}"\n' for key, value in values.items()))
    return path


async def seed(config: Path, count: int) -> None:
    built = await build_services(load_settings(config_file=config, environ={}))

    async def one(index: int) -> None:
        art = await built.artworks.create(
            LOCAL,
            {
                "title": f"art {index}",
                "prompt": f"prompt number {index}",
                "visibility": ("public", "unlisted", "private")[index % 3],
                "tags": [f"t{index % 7}"],
                "frames": [{"text": f"{index:05d}\n" + "#" * (index % 40 + 1)}],
            },
        )
        if index % 100 == 0:
            await built.images.png(LOCAL, art["id"], "thumbnail")
            for _ in range(index % 5 + 1):
                built.views.count(art["id"])

    try:
        for start in range(0, count, 20):  # 20 creates at a time
            await asyncio.gather(*(one(i) for i in range(start, min(start + 20, count))))
        await built.kv.put("session:s1", json.dumps({"user_id": "local"}), ttl=3600)
        await built.kv.put("ascii:not-copied", b"cache", ttl=3600)
    finally:
        await built.close()


def migrate(source: Path, target: Path, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "asciihub",
            "migrate-data",
            "--from",
            str(source),
            "--to",
            str(target),
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ.copy(),
    )


async def snapshot(config: Path) -> Any:
    endpoint = await open_endpoint(load_settings(config_file=config, environ={}))
    try:
        empty = Endpoint(db=endpoint.db, objects=endpoint.objects, kv=endpoint.kv)
        verification = await DataMigration(endpoint, empty, state_path=Path("/dev/null")).verify()
        tables = {name: pair[0] for name, pair in verification.tables.items()}
        return tables, verification.objects[0], verification.kv[0]
    finally:
        await close_endpoint(endpoint)


async def metadata_of(config: Path) -> dict[str, Any]:
    """Every object's HTTP and custom metadata, by key."""
    endpoint = await open_endpoint(load_settings(config_file=config, environ={}))
    try:
        found: dict[str, Any] = {}
        cursor = None
        while True:
            page = await endpoint.objects.list("", cursor=cursor)
            for info in page.objects:
                head = await endpoint.objects.head(info.key)
                assert head is not None
                found[info.key] = (head.http_metadata, dict(head.custom_metadata))
            if not page.truncated:
                return found
            cursor = page.cursor
    finally:
        await close_endpoint(endpoint)


@pytest.fixture
async def scaleout_config(
    tmp_path: Path, postgres_server_dsn: str, redis_url: str, s3_env: dict[str, str]
) -> Path:
    await reset_postgres(postgres_server_dsn)
    bucket = new_bucket_name()
    await create_bucket(s3_env["AWS_ENDPOINT_URL_S3"], bucket)
    return write_config(
        tmp_path / "scaleout.toml",
        data_dir=str(tmp_path / "scaleout-data"),
        metadata_url=postgres_server_dsn,
        kv_url=redis_url,
        objects_url=f"s3://{bucket}",
    )


def test_round_trip_of_1000_artworks(tmp_path: Path, scaleout_config: Path) -> None:
    embedded = write_config(
        tmp_path / "a.toml", data_dir=str(tmp_path / "a"), sqlite_synchronous="normal"
    )
    back = write_config(tmp_path / "c.toml", data_dir=str(tmp_path / "c"))
    asyncio.run(seed(embedded, COUNT))

    there = migrate(embedded, scaleout_config, tmp_path / "state1.json")
    assert there.returncode == 0, there.stderr + there.stdout
    assert "table ascii_metadata: 1000 -> 1000 rows, checksum ok" in there.stdout
    assert "verified: counts and checksums match" in there.stdout
    assert not (tmp_path / "state1.json").exists()

    again = migrate(scaleout_config, back, tmp_path / "state2.json")
    assert again.returncode == 0, again.stderr + again.stdout

    original, returned = asyncio.run(snapshot(embedded)), asyncio.run(snapshot(back))
    assert original == returned
    metadata = asyncio.run(metadata_of(embedded))
    assert all(custom.get("user_id") for key, (_, custom) in metadata.items() if ".json" in key)
    assert asyncio.run(metadata_of(back)) == metadata  # through S3, whose listing has none
    tables, objects, sessions = returned
    assert tables["ascii_metadata"][0] == 1000
    assert objects[0] == 1000 + 10  # documents and ten thumbnails
    assert sessions == 1

    async def search_and_read() -> None:
        built = await build_services(load_settings(config_file=scaleout_config, environ={}))
        try:
            from asciihub.services.gallery import PageQuery

            page = json.loads(
                await built.gallery.public_page(PageQuery(query="number 999", limit=5))
            )
            assert [item["title"] for item in page["items"]] == ["art 999"]
            entry = await built.artworks.load(page["items"][0]["id"])
            assert json.loads(entry.body)["frames"][0]["text"].startswith("00999")
        finally:
            await built.close()

    asyncio.run(search_and_read())


def test_interrupted_copy_resumes(tmp_path: Path, scaleout_config: Path) -> None:
    embedded = write_config(
        tmp_path / "a.toml", data_dir=str(tmp_path / "a"), sqlite_synchronous="normal"
    )
    asyncio.run(seed(embedded, 300))
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asciihub",
            "migrate-data",
            "--from",
            str(embedded),
            "--to",
            str(scaleout_config),
            "--state",
            str(state),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if state.exists() and '"objects"' in state.read_text():
            break
        time.sleep(0.02)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the copy finished before it could be interrupted"
    resumed = migrate(embedded, scaleout_config, state)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert "verified" in resumed.stdout
