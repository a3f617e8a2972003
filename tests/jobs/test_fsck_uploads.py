"""``fsck`` collects uploads no job needs, fails jobs whose upload is gone, sweeps temps."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import httpx

from asciihub.bootstrap import input_limits
from asciihub.services.fsck import Fsck
from asciihub.storage.metadata.jobs import JobRow
from asciihub.storage.objects.keys import chat_image_key, media_key
from tests.jobs.conftest import fast, open_client
from tests.users import signup


async def _job(services: Any, user_id: str, job_id: str, status: str, size: int) -> None:
    now = datetime.now(UTC)
    params = {"media_key": media_key(user_id, job_id), "media_size": size, "width": 10}
    row = JobRow(job_id, user_id, "conversion", "queued", 0.0, params, now, now)
    repo = services.background.jobs.repo
    await repo.insert(row)
    if status == "done":
        assert await repo.finish(job_id, artwork_id=None, result={}, now=now)
    elif status == "failed":
        assert await repo.fail(job_id, code="boom", message="boom", now=now)


def _fsck(services: Any, grace: float = 0.0) -> Fsck:
    return Fsck(
        artworks=services.artworks_repo,
        objects=services.objects,
        cache=services.kv,
        limits=input_limits(services.settings).document,
        jobs=services.background.jobs.repo,
        grace_seconds=grace,
    )


async def test_fsck_collects_orphan_uploads_and_fails_jobs_without_one(
    embedded_settings: Any,
) -> None:
    app, transport = await open_client(fast(embedded_settings), consumers=False)
    async with (
        app.starlette.router.lifespan_context(app.starlette),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        services = app.starlette.state.services
        user = (await signup(http))["id"]
        objects = services.objects
        body = b"\x89PNG" + os.urandom(100)
        for job_id, status in (("queued1", "queued"), ("done1", "done"), ("failed1", "failed")):
            await objects.put(media_key(user, job_id), body)
            await _job(services, user, job_id, status, len(body))
        await _job(services, user, "lost1", "queued", len(body))  # its upload never landed
        await _job(services, user, "short1", "queued", len(body) + 1)
        await objects.put(media_key(user, "short1"), body)  # another size than recorded
        await objects.put(media_key(user, "nojob1"), body)  # a crash before the job row
        temp = services.settings.data_path / "objects" / ".asciihub-store" / "tmp" / "dead.part"
        with open(temp, "wb") as handle:
            handle.write(b"half an upload")

        young = await _fsck(services, grace=600).run(repair=False)
        assert young.orphan_media == []  # too young: may belong to a submit in flight
        found = await _fsck(services).run(repair=False)
        assert sorted(found.orphan_media) == [media_key(user, "done1"), media_key(user, "nojob1")]
        assert sorted(found.missing_media) == ["lost1", "short1"]
        assert os.path.exists(temp)

        repaired = await _fsck(services).run(repair=True)
        assert repaired.problems == 4
        assert repaired.swept >= 1
        assert not os.path.exists(temp)
        for gone in ("done1", "nojob1"):
            assert await objects.head(media_key(user, gone)) is None
        for kept in ("queued1", "failed1"):
            assert await objects.head(media_key(user, kept)) is not None
        for job_id in ("lost1", "short1"):
            job = await services.background.jobs.repo.get(job_id)
            assert (job.status, job.error_code) == ("failed", "upload_missing")
        again = await _fsck(services).run(repair=False)
        assert again.problems == 0


async def test_fsck_keeps_chat_images_no_job_holds(embedded_settings: Any) -> None:
    app, transport = await open_client(fast(embedded_settings), consumers=False)
    async with (
        app.starlette.router.lifespan_context(app.starlette),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        services = app.starlette.state.services
        user = (await signup(http))["id"]
        body = b"\x89PNG" + os.urandom(100)
        await services.objects.put(chat_image_key(user, "img1"), body)
        await services.objects.put(media_key(user, "nojob2"), body)
        repaired = await _fsck(services).run(repair=True)
        assert repaired.orphan_media == [media_key(user, "nojob2")]
        assert await services.objects.head(chat_image_key(user, "img1")) is not None
        assert await services.objects.head(media_key(user, "nojob2")) is None
