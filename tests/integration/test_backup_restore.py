"""``asciihub backup`` / ``restore``: idle round trips and a backup under live writes.

Every source kind (embedded, scale-out, mixed) is restored into a deployment of the
other kind; the restored deployment passes ``fsck`` with nothing found.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.stack import create_bucket, make_settings, new_bucket_name, reset_postgres

from asciihub.bootstrap import build_services, close_endpoint, input_limits, open_endpoint
from asciihub.errors import Conflict, InvalidInput
from asciihub.services.backup import Backup, Restore
from asciihub.services.datamigration import all_objects
from asciihub.services.fsck import Fsck
from asciihub.services.principals import LOCAL
from asciihub.storage.metadata.analytics import DataPointRow, SqlAnalyticsRepository

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


async def other_kind(request: pytest.FixtureRequest, source: Any, tmp_path: Path) -> Any:
    """A fresh, empty deployment of the kind ``source`` is not (embedded ↔ scale-out)."""
    if source.resolved_objects_url().startswith("s3://") or "postgres" in str(
        source.resolved_metadata_url()
    ):
        return make_settings(tmp_path / "restored")
    dsn = request.getfixturevalue("postgres_server_dsn")
    await reset_postgres(dsn)
    redis = request.getfixturevalue("redis_url")
    env = request.getfixturevalue("s3_env")
    bucket = new_bucket_name()
    await create_bucket(env["AWS_ENDPOINT_URL_S3"], bucket)
    return make_settings(
        tmp_path / "restored", "scaleout", postgres_dsn=dsn, redis_url=redis, s3_bucket=bucket
    )


async def seed(built: Any, count: int = 12) -> dict[str, Any]:
    """Artworks (some with thumbnails), a user, a share link, a session and a queued job."""
    ids = []
    for index in range(count):
        art = await built.artworks.create(
            LOCAL,
            {
                "title": f"art {index}",
                "visibility": ("public", "unlisted", "private")[index % 3],
                "tags": [f"t{index % 3}"],
                "frames": [{"text": f"{index:03d}\n" + "#" * (index + 1), "duration_ms": 120}],
            },
        )
        ids.append(art["id"])
        if index % 4 == 0:
            await built.images.png(LOCAL, art["id"], "thumbnail")
    user = await built.auth.accounts.create_user("backup-user", "correct horse battery staple")
    share = await built.auth.shares.create(
        LOCAL, ids[0], {"permission": "view", "expires_in": 3600}
    )
    session = await built.auth.sessions.create(user.id)
    point = DataPointRow(dataset="generations", timestamp=datetime.now(UTC), index="local")
    await SqlAnalyticsRepository(built.db).insert([point, point])
    job = await built.background.jobs.submit(
        LOCAL.user_id, "generation", built.background.jobs.parse_generation({"prompt": "waves"})
    )
    return {"ids": ids, "share": share, "session": session, "job": job["job_id"]}


async def objects_by_key(store: Any) -> dict[str, str]:
    """SHA-256 of every object's bytes, by key."""
    digests = {}
    async for info in all_objects(store):
        body = await store.get(info.key)
        assert body is not None
        digests[info.key] = hashlib.sha256(body.data).hexdigest()
    return digests


async def fsck(built: Any) -> Any:
    checker = Fsck(
        artworks=built.artworks_repo,
        objects=built.objects,
        cache=built.kv,
        limits=input_limits(built.settings).document,
        jobs=built.background.jobs.repo,
        grace_seconds=0.0,
    )
    return await checker.run(repair=False)


async def backup(settings: Any, path: Path) -> Any:
    source = await open_endpoint(settings)
    try:
        return await Backup(source, limits=input_limits(settings).document).write(path)
    finally:
        await close_endpoint(source)


async def restore(settings: Any, path: Path) -> Any:
    built = await build_services(settings)
    try:
        target = await open_endpoint(settings)
        try:
            return await Restore(target, queue=built.background.queue).run(path)
        finally:
            await close_endpoint(target)
    finally:
        await built.close()


async def test_idle_round_trip_into_the_other_kind(
    request: pytest.FixtureRequest, deployment_settings: Any, tmp_path: Path
) -> None:
    source = await build_services(deployment_settings)
    try:
        seeded = await seed(source)
        before = await objects_by_key(source.objects)
    finally:
        await source.close()
    path = tmp_path / "deployment.tar"
    summary = await backup(deployment_settings, path)
    assert summary.objects == len(before)
    assert not summary.left_out and not summary.rederived

    target_settings = await other_kind(request, deployment_settings, tmp_path)
    result = await restore(target_settings, path)
    assert result.ok, result.mismatches
    assert result.queue == 1

    target = await build_services(target_settings)
    try:
        assert await objects_by_key(target.objects) == before  # byte-identical per object
        titles = {}
        for artwork_id in seeded["ids"]:
            row = await target.artworks_repo.get(artwork_id)
            assert row is not None
            titles[artwork_id] = row.title
            await target.artworks.get(LOCAL, artwork_id)  # the document reads back
        assert titles[seeded["ids"][5]] == "art 5"
        assert await target.auth.shares.grant(seeded["share"]["token"]) is not None
        assert await target.auth.sessions.resolve(seeded["session"]) is None  # log in again
        job = await target.background.jobs.repo.get(seeded["job"])
        assert job is not None and job.status == "queued"
        stats = await target.background.queue.stats("generation")
        assert stats.ready + stats.delayed == 1
        report = await fsck(target)
        assert report.problems == 0, report
        # Rows with generated ids go on after the restored ones (PostgreSQL sequences).
        point = DataPointRow(dataset="generations", timestamp=datetime.now(UTC), index="local")
        await SqlAnalyticsRepository(target.db).insert([point])
        assert await SqlAnalyticsRepository(target.db).count("generations") == 3
    finally:
        await target.close()


async def test_restore_refuses_a_non_empty_deployment(
    embedded_settings: Any, tmp_path: Path
) -> None:
    built = await build_services(embedded_settings)
    try:
        await seed(built, count=2)
    finally:
        await built.close()
    path = tmp_path / "deployment.tar.gz"
    await backup(embedded_settings, path)
    with pytest.raises(Conflict, match="not empty") as caught:
        await restore(embedded_settings, path)
    assert caught.value.code == "restore_target_not_empty"


async def test_restore_refuses_a_damaged_or_foreign_file(tmp_path: Path) -> None:
    empty = make_settings(tmp_path / "empty")
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar file at all")
    with pytest.raises(InvalidInput, match="not a readable backup"):
        await restore(empty, junk)
    foreign = tmp_path / "foreign.tar"
    with tarfile.open(foreign, "w") as tar:
        tar.add(junk, arcname="hello.txt")
    with pytest.raises(InvalidInput, match="no manifest"):
        await restore(empty, foreign)


async def test_damaged_object_is_refused(embedded_settings: Any, tmp_path: Path) -> None:
    built = await build_services(embedded_settings)
    try:
        await seed(built, count=2)
    finally:
        await built.close()
    path = tmp_path / "deployment.tar"
    await backup(embedded_settings, path)
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(path) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "objects/00000000":
                data = data[:10] + bytes([data[10] ^ 0x01]) + data[11:]  # one bit flipped
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(InvalidInput, match="does not match its checksum"):
        await restore(make_settings(tmp_path / "empty"), damaged)


class Writer:
    """Creates, updates and deletes artworks until told to stop."""

    def __init__(self, built: Any) -> None:
        self.built = built
        self.stop = asyncio.Event()
        self.warmed = asyncio.Event()
        self.writes = 0
        self.deleted: set[str] = set()

    async def run(self) -> None:
        live: list[str] = []
        while not self.stop.is_set():
            step = self.writes % 3
            if step == 0 or len(live) < 3:
                art = await self.built.artworks.create(
                    LOCAL, {"title": f"live {self.writes}", "frames": [{"text": "x" * 5}]}
                )
                live.append(art["id"])
            elif step == 1:
                await self.built.artworks.update(
                    LOCAL, live[-1], {"frames": [{"text": f"changed {self.writes}\nyy"}]}
                )
            else:
                doomed = live.pop(0)
                await self.built.artworks.delete(LOCAL, doomed)
                self.deleted.add(doomed)
            self.writes += 1
            if self.writes >= 20:
                self.warmed.set()


@pytest.mark.parametrize("deployment_settings", ["embedded", "scaleout"], indirect=True)
async def test_backup_under_live_writes_restores_consistently(
    request: pytest.FixtureRequest, deployment_settings: Any, tmp_path: Path
) -> None:
    built = await build_services(deployment_settings)
    try:
        seeded = await seed(built, count=120)
        writer = Writer(built)
        task = asyncio.create_task(writer.run())
        await asyncio.wait_for(writer.warmed.wait(), timeout=60)
        # Everything committed before the backup starts must come back.
        before = {row.id async for row in built.artworks_repo.iter_all()}
        writes_at_start = writer.writes
        source = await open_endpoint(deployment_settings)
        try:
            path = tmp_path / "live.tar"
            summary = await Backup(source, limits=input_limits(deployment_settings).document).write(
                path
            )
        finally:
            await close_endpoint(source)
        writer.stop.set()
        await task
        assert writer.writes > writes_at_start  # the writer really ran during the backup
    finally:
        await built.close()

    target_settings = await other_kind(request, deployment_settings, tmp_path)
    result = await restore(target_settings, path)
    assert result.ok, result.mismatches
    target = await build_services(target_settings)
    try:
        restored = {row.id async for row in target.artworks_repo.iter_all()}
        for artwork_id in seeded["ids"]:
            assert artwork_id in restored
        # Rows committed before the start mark are gone only if the writer deleted them.
        assert before - restored <= writer.deleted
        assert set(summary.left_out) <= writer.deleted
        report = await fsck(target)
        assert report.problems == 0, report
        for artwork_id in restored:  # every row has its object, and it reads
            await target.artworks.get(LOCAL, artwork_id)
    finally:
        await target.close()


def _write_from_another_connection(settings: Any, changed: str, deleted: str) -> str:
    """Update one artwork, delete another and create a third, on connections of its own."""

    async def writes() -> str:
        other = await build_services(settings)
        try:
            await other.artworks.update(LOCAL, changed, {"frames": [{"text": "newer\ntext"}]})
            await other.artworks.delete(LOCAL, deleted)
            art = await other.artworks.create(LOCAL, {"title": "late", "frames": [{"text": "z"}]})
            return str(art["id"])
        finally:
            await other.close()

    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(writes())))
    thread.start()
    thread.join(timeout=60)
    assert result, "the concurrent writes did not finish"
    return result[0]


@pytest.mark.parametrize("deployment_settings", ["embedded", "scaleout"], indirect=True)
async def test_writes_after_the_snapshot_are_reconciled(
    request: pytest.FixtureRequest, deployment_settings: Any, tmp_path: Path
) -> None:
    """An update and a delete landing between the row snapshot and the object reads."""
    built = await build_services(deployment_settings)
    try:
        seeded = await seed(built, count=6)
    finally:
        await built.close()
    changed, deleted = seeded["ids"][1], seeded["ids"][0]  # ids[0] holds the share link
    late: list[str] = []

    def progress(phase: str, _done: int, _total: int | None) -> None:
        if phase == "rows:users" and not late:  # the snapshot is taken, no object read yet
            late.append(_write_from_another_connection(deployment_settings, changed, deleted))

    source = await open_endpoint(deployment_settings)
    try:
        path = tmp_path / "raced.tar"
        writer = Backup(
            source, limits=input_limits(deployment_settings).document, progress=progress
        )
        summary = await writer.write(path)
    finally:
        await close_endpoint(source)
    assert late
    assert summary.rederived == [changed]
    assert summary.left_out == [deleted]

    target_settings = await other_kind(request, deployment_settings, tmp_path)
    result = await restore(target_settings, path)
    assert result.ok, result.mismatches
    target = await build_services(target_settings)
    try:
        assert await target.artworks_repo.get(deleted) is None
        assert await target.auth.shares.grant(seeded["share"]["token"]) is None
        assert await target.artworks_repo.get(late[0]) is None  # created after the snapshot
        document = await target.artworks.document_for(await target.artworks_repo.get(changed))
        assert [line.rstrip() for line in document.frames[0].text.split("\n")] == ["newer", "text"]
        keys = set(await objects_by_key(target.objects))
        assert not any(late[0] in key or deleted in key for key in keys)
        report = await fsck(target)
        assert report.problems == 0, report
    finally:
        await target.close()


def test_cli_backup_and_restore(embedded_settings: Any, tmp_path: Path) -> None:
    asyncio.run(_seed_settings(embedded_settings))
    env = {**os.environ, "ASCIIHUB_DATA_DIR": str(embedded_settings.data_dir)}
    path = tmp_path / "cli.tar.gz"

    def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "asciihub", "--data-dir", str(data_dir), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    made = cli("backup", str(path), data_dir=Path(embedded_settings.data_dir))
    assert made.returncode == 0, made.stderr
    assert "objects" in made.stdout
    with tarfile.open(path) as tar:
        manifest = orjson.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["format"] == "asciihub-backup" and manifest["version"] == 1
    again = cli("restore", str(path), data_dir=Path(embedded_settings.data_dir))
    assert again.returncode == 2
    assert "not empty" in again.stderr
    fresh = tmp_path / "fresh"
    done = cli("restore", str(path), data_dir=fresh)
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout
    checked = cli("fsck", "--grace", "0", data_dir=fresh)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def _seed_settings(settings: Any) -> None:
    built = await build_services(settings)
    try:
        await seed(built, count=3)
    finally:
        await built.close()
