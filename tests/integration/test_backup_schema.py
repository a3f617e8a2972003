"""Backups across metadata schema revisions: an older backup restores into the head
schema (restored at its revision, then migrated), one from a newer asciihub is refused.

The old deployment is a real one migrated only to revision 0003 (before the exports
table), with its rows written through SQL, as an older asciihub would have left it.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from tests.integration.test_backup_restore import fsck, other_kind, restore
from tests.stack import make_settings

from asciihub.bootstrap import (
    build_services,
    close_endpoint,
    input_limits,
    open_database,
    open_endpoint,
    open_kv,
    open_objects,
)
from asciihub.engine.document import build_document
from asciihub.errors import InvalidInput
from asciihub.render.exports import json_bytes
from asciihub.services.backup import Backup
from asciihub.services.datamigration import Endpoint, all_objects
from asciihub.services.principals import Principal
from asciihub.storage.metadata.migrate import (
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from asciihub.storage.metadata.tables import artwork_tags, ascii_metadata, jobs, users
from asciihub.storage.objects.keys import artwork_key

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

OLD_REVISION = "0003"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
USER = "olduser0000000000000aa"
ARTWORKS = [f"oldart{index:016d}" for index in range(3)]


async def _old_deployment(settings: Any) -> None:
    """Migrate only to OLD_REVISION and write a user, artworks (with objects) and a job."""
    db = open_database(settings)
    objects = await open_objects(settings)
    try:
        if await current_revision(db) is None:
            await upgrade(db, OLD_REVISION)
        else:  # the test server's database is kept migrated: take it back, empty
            await downgrade(db, OLD_REVISION)
        assert await current_revision(db) == OLD_REVISION
        async with db.write() as conn:
            await conn.execute(
                sa.insert(users).values(
                    id=USER, handle="old-timer", email=None, is_local=False, created_at=NOW
                )
            )
        for index, artwork_id in enumerate(ARTWORKS):
            document = build_document(
                [{"text": f"old {index}\n#####", "duration_ms": 100 + index}], fps=10
            )
            data = json_bytes(document)
            key = artwork_key(USER, artwork_id)
            info = await objects.put(key, data)
            async with db.write() as conn:
                await conn.execute(
                    sa.insert(ascii_metadata).values(
                        id=artwork_id,
                        user_id=USER,
                        title=f"old {index}",
                        prompt=None,
                        r2_key=key,
                        visibility=("public", "unlisted", "private")[index],
                        views=index,
                        created_at=NOW,
                        updated_at=NOW,
                        width=document.width,
                        height=document.height,
                        frame_count=document.frame_count,
                        fps=document.fps,
                        duration_ms=document.duration_ms,
                        etag=info.etag,
                        sha256=hashlib.sha256(data).hexdigest(),
                        size=len(data),
                        revision=1,
                    )
                )
                await conn.execute(
                    sa.insert(artwork_tags).values(artwork_id=artwork_id, tag="old", position=0)
                )
        async with db.write() as conn:
            await conn.execute(
                sa.insert(jobs).values(
                    id="oldjob0000000000000000",
                    user_id=USER,
                    kind="generation",
                    status="done",
                    progress=1.0,
                    artwork_id=ARTWORKS[0],
                    params={"prompt": "old"},
                    result={"artwork_id": ARTWORKS[0]},
                    attempts=1,
                    created_at=NOW,
                    updated_at=NOW,
                    finished_at=NOW,
                )
            )
    finally:
        await objects.close()
        await db.close()


async def _old_backup(settings: Any, path: Path) -> dict[str, Any]:
    """Back the old deployment up as it stands (not migrated first); the manifest."""
    endpoint = Endpoint(
        db=open_database(settings), objects=await open_objects(settings), kv=await open_kv(settings)
    )
    try:
        await Backup(endpoint, limits=input_limits(settings).document).write(path)
        assert await current_revision(endpoint.db) == OLD_REVISION  # the backup left it so
    finally:
        await close_endpoint(endpoint)
    with tarfile.open(path) as tar:
        manifest: dict[str, Any] = orjson.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    return manifest


@pytest.mark.parametrize("deployment_settings", ["embedded", "scaleout"], indirect=True)
async def test_an_older_backup_restores_into_the_head_schema(
    request: pytest.FixtureRequest, deployment_settings: Any, tmp_path: Path
) -> None:
    await _old_deployment(deployment_settings)
    path = tmp_path / "old.tar"
    manifest = await _old_backup(deployment_settings, path)
    assert manifest["schema_revision"] == OLD_REVISION
    assert "exports" not in manifest["tables"]
    assert manifest["tables"]["ascii_metadata"]["rows"] == len(ARTWORKS)

    target_settings = await other_kind(request, deployment_settings, tmp_path)
    result = await restore(target_settings, path)
    assert result.ok, result.mismatches
    assert result.migrated_from == OLD_REVISION
    assert result.revision == head_revision() != OLD_REVISION
    assert result.rows["ascii_metadata"] == len(ARTWORKS)
    assert result.rows["exports"] == 0

    target = await build_services(target_settings)
    try:
        assert await current_revision(target.db) == head_revision()
        owner = Principal(user_id=USER)
        for index, artwork_id in enumerate(ARTWORKS):
            entry = await target.artworks.get(owner, artwork_id)
            body = orjson.loads(entry.body)
            assert (body["title"], body["tags"], body["views"]) == (f"old {index}", ["old"], index)
            assert body["frames"][0]["text"] == f"old {index}\n#####"
        job = await target.background.jobs.repo.get("oldjob0000000000000000")
        assert job is not None and job.status == "done"
        # the table the migrations added works with the restored rows
        exports = target.background.exports
        asked = await exports.request(owner, ARTWORKS[0], {"format": "txt"})
        produced = await exports.produce(asked["export_id"])
        assert produced.is_finished
        keys = {info.key async for info in all_objects(target.objects)}
        assert {artwork_key(USER, a) for a in ARTWORKS} <= keys
        report = await fsck(target)
        assert report.problems == 0, report
    finally:
        await target.close()


def _with_revision(source: Path, target: Path, revision: str) -> None:
    """A copy of a backup whose manifest names another schema revision."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                manifest = orjson.loads(data)
                manifest["schema_revision"] = revision
                data = orjson.dumps(manifest)
                member.size = len(data)
            new.addfile(member, io.BytesIO(data))


async def test_a_backup_of_a_newer_schema_is_refused(
    embedded_settings: Any, tmp_path: Path
) -> None:
    built = await build_services(embedded_settings)
    await built.close()
    path = tmp_path / "head.tar"
    source = await open_endpoint(embedded_settings)
    try:
        await Backup(source, limits=input_limits(embedded_settings).document).write(path)
    finally:
        await close_endpoint(source)
    future = tmp_path / "future.tar"
    _with_revision(path, future, "0999_from_the_future")
    empty = make_settings(tmp_path / "empty")
    with pytest.raises(InvalidInput, match="0999_from_the_future") as refused:
        await restore(empty, future)
    assert refused.value.code == "backup_schema_unknown"
    assert refused.value.status == 400
    target = await open_endpoint(empty)
    try:  # nothing was written, the schema is still the head
        assert await target.revision() == head_revision()
        assert [info async for info in all_objects(target.objects)] == []
    finally:
        await close_endpoint(target)

    env = {**os.environ, "ASCIIHUB_DATA_DIR": str(tmp_path / "cli-empty")}
    cli = subprocess.run(
        [sys.executable, "-m", "asciihub", "restore", str(future)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert cli.returncode == 2, cli.stdout + cli.stderr
    assert "schema revision '0999_from_the_future'" in cli.stderr
    assert "Traceback" not in cli.stderr
