"""Restarting ``asciihub serve`` (embedded backends) with work queued loses none of it."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import running_server
from tests.users import sync_signup

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = {"ASCIIHUB_QUEUE_POLL_INTERVAL": "0.02", "ASCIIHUB_RATE_LIMITS_ENABLED": "false"}


def test_jobs_queued_before_a_kill_finish_after_restart(data_dir: Path) -> None:
    prompt = {"prompt": "tunnel", "frames": 4, "width": 30, "height": 8}
    off = {**FAST, "ASCIIHUB_RUN_CONSUMERS_IN_SERVE": "off"}
    with running_server(data_dir, off) as (url, proc), httpx.Client(base_url=url) as http:
        user = sync_signup(http)
        job_ids = [http.post("/api/generate", json=prompt).json()["job_id"] for _ in range(20)]
        assert http.get(f"/api/jobs/{job_ids[0]}").json()["status"] == "queued"
        cookies = dict(http.cookies)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with (
        running_server(data_dir, FAST) as (url, _),
        httpx.Client(base_url=url, cookies=cookies) as http,
    ):
        deadline = time.monotonic() + 60
        pending = list(job_ids)
        artworks = set()
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} jobs never finished"
            job = http.get(f"/api/jobs/{pending[-1]}").json()
            if job["status"] in ("done", "failed"):
                assert job["status"] == "done", job
                artworks.add(job["artwork_id"])
                pending.pop()
            else:
                time.sleep(0.05)
        mine = http.get(f"/api/users/{user['handle']}/artworks?limit=100").json()["items"]
    assert len(artworks) == 20
    assert {item["id"] for item in mine} == artworks
