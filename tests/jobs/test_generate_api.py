"""POST /api/generate and GET /api/jobs/{id}: a prompt becomes an artwork, once."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from tests.jobs.conftest import eventually, wait_job
from tests.users import signup

PROMPT = {"prompt": 'fire "HI"', "frames": 5, "style": "dense", "width": 40, "height": 12}


async def test_generate_makes_one_artwork_with_progress_done(jobs_client: Any) -> None:
    response = await jobs_client.post("/api/generate", json={**PROMPT, "seed": 7})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert response.headers["location"] == f"/api/jobs/{job_id}"
    job = await wait_job(jobs_client, job_id)
    assert job["status"] == "done", job
    assert job["progress"] == 1
    artwork = await jobs_client.get(f"/api/artworks/{job['artwork_id']}")
    assert artwork.status_code == 200
    body = artwork.json()
    assert body["frame_count"] == 5
    assert (body["width"], body["height"]) == (40, 12)
    assert body["prompt"] == PROMPT["prompt"]
    assert body["visibility"] == "private"
    row = await jobs_client.services.artworks_repo.get(job["artwork_id"])
    stored = await jobs_client.services.objects.get(row.r2_key)
    assert hashlib.sha256(stored.data).hexdigest() == row.sha256


async def test_thumbnail_follows_the_artwork(jobs_client: Any) -> None:
    job_id = (await jobs_client.post("/api/generate", json=PROMPT)).json()["job_id"]
    job = await wait_job(jobs_client, job_id)
    key = f"thumbnails/{job['artwork_id']}.png"
    objects = jobs_client.services.objects
    stored = await eventually(lambda: objects.get(key))
    assert stored.data.startswith(b"\x89PNG")


async def test_jobs_are_visible_to_their_owner_only(jobs_client: Any) -> None:
    job_id = (await jobs_client.post("/api/generate", json=PROMPT)).json()["job_id"]
    transport = jobs_client._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await signup(other)
        mine = await other.get(f"/api/jobs/{job_id}")
        missing = await other.get("/api/jobs/AAAAAAAAAAAAAAAAAAAAAA")
    assert mine.status_code == 404
    assert mine.json() == missing.json()
    assert mine.json()["error"]["code"] == "job_not_found"
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        assert (await anonymous.get(f"/api/jobs/{job_id}")).status_code == 404


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({}, 400, "missing_field"),
        ({"prompt": ""}, 400, "invalid_prompt"),
        ({"prompt": "x", "frames": 0}, 400, "invalid_frames"),
        ({"prompt": "x", "frames": 10_000}, 400, "invalid_frames"),
        ({"prompt": "x", "style": "nope"}, 400, "invalid_style"),
        ({"prompt": "x", "width": "wide"}, 400, "invalid_width"),
        ({"prompt": "x", "colour": "red"}, 400, "unknown_field"),
        ({"prompt": "x" * 5000}, 413, "prompt_too_long"),
        ([1, 2], 400, "invalid_input"),
    ],
)
async def test_bad_generation_requests_are_clear_4xx(
    jobs_client: Any, payload: Any, status: int, code: str
) -> None:
    response = await jobs_client.post("/api/generate", json=payload)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_generate_needs_a_writer(jobs_client: Any) -> None:
    transport = jobs_client._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        response = await anonymous.post("/api/generate", json=PROMPT)
    assert response.status_code == 401


async def test_a_job_delivered_twice_makes_one_artwork(jobs_client: Any) -> None:
    services = jobs_client.services
    job_id = (await jobs_client.post("/api/generate", json=PROMPT)).json()["job_id"]
    first = await wait_job(jobs_client, job_id)
    row = await services.background.jobs.repo.get(job_id)
    await services.background.jobs.publish(row)
    await services.background.jobs.publish(row)
    queue = services.background.queue

    async def drained() -> bool:
        stats = await queue.stats("generation")
        return stats.ready == 0 and stats.in_flight == 0 and stats.delayed == 0

    await eventually(drained)
    again = await wait_job(jobs_client, job_id)
    assert again["artwork_id"] == first["artwork_id"]
    mine = await jobs_client.get(f"/api/users/{jobs_client.user['handle']}/artworks")
    assert [item["id"] for item in mine.json()["items"]] == [first["artwork_id"]]


@pytest.fixture
async def idle_jobs_client(deployment_settings: Any) -> Any:
    """A signed-up client of an app with no consumers: the test plays the worker."""
    from tests.jobs.conftest import fast, open_client

    app, transport = await open_client(fast(deployment_settings), consumers=False)
    async with app.starlette.router.lifespan_context(app.starlette):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.services = app.starlette.state.services  # type: ignore[attr-defined]
            http.user = await signup(http)  # type: ignore[attr-defined]
            yield http


@pytest.mark.parametrize("made", [True, False], ids=["artwork-made", "nothing-made"])
async def test_a_dead_job_ends_done_when_its_artwork_was_made(
    idle_jobs_client: Any, made: bool
) -> None:
    """A worker killed after storing the artwork on its last delivery: the job is done."""
    from asciihub.services.jobs import artwork_id_for
    from asciihub.services.principals import Principal

    client, services = idle_jobs_client, idle_jobs_client.services
    job_id = (await client.post("/api/generate", json=PROMPT)).json()["job_id"]
    queue = services.background.queue
    [message] = await queue.receive("generation", max_messages=10)
    assert message.body["job_id"] == job_id
    artwork_id = artwork_id_for(job_id)
    if made:
        owner = Principal(user_id=client.user["id"])
        document = {"width": 3, "height": 1, "frames": [{"text": "abc", "duration_ms": 100}]}
        await services.artworks.create(owner, document, artwork_id=artwork_id)
    await queue.dead_letter([message.id], code="worker_lost", message="killed every time")
    assert (await services.background.jobs.sweep())["dead_failed"] == (0 if made else 1)
    job = (await client.get(f"/api/jobs/{job_id}")).json()
    if made:
        assert (job["status"], job["artwork_id"]) == ("done", artwork_id)
        asked = await queue.receive("thumbnails", max_messages=10)
        assert [m.body["artwork_id"] for m in asked] == [artwork_id] * 2  # on create, and again
    else:
        assert (job["status"], job["error"]["code"]) == ("failed", "worker_lost")


async def test_a_job_dead_of_an_outage_is_sent_again_until_its_patience_ends(
    idle_jobs_client: Any,
) -> None:
    from asciihub.services.jobs import OUTAGE_DEAD_CODE

    client, services = idle_jobs_client, idle_jobs_client.services
    queue, jobs = services.background.queue, services.background.jobs
    job_id = (await client.post("/api/generate", json=PROMPT)).json()["job_id"]
    for patience, redriven in ((3600.0, 1), (0.0, 0)):
        jobs.outage_patience = patience
        [message] = await queue.receive("generation", max_messages=10)
        assert message.body["job_id"] == job_id
        await queue.dead_letter([message.id], code=OUTAGE_DEAD_CODE, message="store down")
        swept = await jobs.sweep()
        assert (swept["outage_redriven"], swept["dead_failed"]) == (redriven, 1 - redriven)
    job = (await client.get(f"/api/jobs/{job_id}")).json()
    assert (job["status"], job["error"]["code"]) == ("failed", "unavailable")
    assert len(await queue.dead_list("generation")) == 1  # the first was purged when sent again


async def test_a_thumbnail_lost_with_its_worker_gets_one_more_round(idle_jobs_client: Any) -> None:
    client, services = idle_jobs_client, idle_jobs_client.services
    queue, jobs = services.background.queue, services.background.jobs
    document = {"width": 3, "height": 1, "frames": [{"text": "abc", "duration_ms": 100}]}
    artwork_id = (await client.post("/api/artworks", json=document)).json()["id"]
    for expected in (1, 0):  # once sent again, then left in the dead letters
        [message] = await queue.receive("thumbnails", max_messages=10)
        assert message.body["artwork_id"] == artwork_id
        await queue.dead_letter([message.id], code="worker_lost", message="its worker died")
        assert (await jobs.sweep())["thumbnails_redriven"] == expected
    [dead] = await queue.dead_list("thumbnails")
    assert dead.body == {"type": "thumbnail", "artwork_id": artwork_id, "redriven": True}
    assert await queue.receive("thumbnails", max_messages=10) == []
