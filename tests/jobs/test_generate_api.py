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
