"""Rooms across processes on Redis: two API processes, a separate worker, kill -9.

Editors on two ``asciihub serve`` processes sharing PostgreSQL, Redis (KV, queue and
rooms) and S3 converge to one document, byte for byte (``digest()``), equal to what
the in-process backend makes of the same log; acknowledged edits survive a kill -9 of
every API process and are saved when the room opens again; a job run by an
``asciihub worker`` is watched, frame by frame, through another process.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench._room_client import RoomClient, watch_job
from bench._tools import process
from tests.e2e.rooms_setup import new_artwork, new_owner, read_artwork, share
from tests.e2e.servers import running_server
from tests.e2e.test_rooms import random_op
from tests.stack import create_bucket, new_bucket_name, reset_postgres

from asciihub.realtime import open_room_hub
from asciihub.services.collab import EditState, LogEntry

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
async def shared_env(
    postgres_server_dsn: str, redis_url: str, s3_env: dict[str, str]
) -> dict[str, str]:
    await reset_postgres(postgres_server_dsn)
    bucket = new_bucket_name()
    await create_bucket(s3_env["AWS_ENDPOINT_URL_S3"], bucket)
    return {
        **s3_env,
        "ASCIIHUB_METADATA_URL": postgres_server_dsn,
        "ASCIIHUB_KV_URL": redis_url,
        "ASCIIHUB_QUEUE_URL": redis_url,
        "ASCIIHUB_ACCEPT_QUEUE_LOSS": "true",  # the test Redis runs without AOF
        "ASCIIHUB_ROOMS_URL": redis_url,
        "ASCIIHUB_OBJECTS_URL": f"s3://{bucket}",
        "ASCIIHUB_LOG_LEVEL": "warning",
        "ASCIIHUB_ROOM_SAVE_DEBOUNCE": "600",  # nothing is saved before the kill -9
        "ASCIIHUB_ROOM_SNAPSHOT_EVERY": "100000",
        "ASCIIHUB_ROOM_PRESENCE_DEBOUNCE": "0.05",
    }


async def _in_process_digest(redis_url: str, room: str) -> tuple[str, int]:
    """Replay the Redis log through the embedded backend and the same apply function."""
    remote = await open_room_hub(f"{redis_url}?namespace=asciihub")
    local = await open_room_hub("memory://")
    try:
        base = await remote.load_snapshot(room)
        assert base is not None and base.seq == 0
        entries = await remote.read(room, 0, limit=100_000)
        for event in entries:
            assert await local.append(room, event.data) == event.seq
        state = EditState.from_snapshot(base.data)
        for event in await local.read(room, 0, limit=100_000):
            data = event.data
            entry = LogEntry(int(event.seq or 0), data["u"], data["c"], data["i"], data["op"])
            state.apply(entry)
        return state.digest(), state.seq
    finally:
        await remote.close()
        await local.close()


async def test_editors_on_two_processes_converge_and_survive_kill_9(
    tmp_path: Path, shared_env: dict[str, str], redis_url: str
) -> None:
    with (
        running_server(tmp_path / "a", shared_env) as (url_a, proc_a),
        running_server(tmp_path / "b", shared_env) as (url_b, proc_b),
    ):
        owner = await new_owner(url_a)
        art = await new_artwork(url_a, owner, frames=2)
        link = await share(url_a, owner, art["id"], "edit")
        clients = [
            RoomClient(
                url_a if n % 2 else url_b,
                art["id"],
                client_id=f"ed{n}",
                token=owner.token if n % 3 else None,
                share=None if n % 3 else link,
            )
            for n in range(6)
        ]
        for client in clients:
            await client.connect()
        epoch = clients[0].epoch
        assert {c.epoch for c in clients} == {epoch}

        async def edit(client: RoomClient, seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(30):
                await client.op(random_op(rng, ["f0", "f1"]))

        await asyncio.gather(*(edit(c, n) for n, c in enumerate(clients)))
        total = 6 * 30
        for client in clients:
            await client.wait_until(lambda c=client: c.seq >= total, timeout=60)  # type: ignore[misc]
            assert client.replica is not None and not client.replica.pending()
        digests = {c.replica.confirmed_digest() for c in clients if c.replica}
        assert len(digests) == 1
        in_process, seq = await _in_process_digest(redis_url, f"artwork:{art['id']}:{epoch}")
        assert seq == total and digests == {in_process}
        expected = clients[0].replica
        assert expected is not None
        document = expected.confirmed().to_document(fps=art["fps"])

        # kill -9 every API process: acknowledged edits are in the log, none saved yet.
        for proc in (proc_a, proc_b):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        for client in clients:
            await client.drop()
    with running_server(tmp_path / "c", shared_env) as (url_c, _proc_c):
        saved = await read_artwork(url_c, owner, art["id"])
        assert [f["text"] for f in saved["frames"]] != [f.text for f in document.frames]
        back = RoomClient(url_c, art["id"], client_id="back", token=owner.token)
        welcome = await back.connect()
        assert welcome["epoch"] == epoch and welcome["seq"] == total
        assert back.replica is not None and back.replica.confirmed_digest() in digests
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            saved = await read_artwork(url_c, owner, art["id"])
            if [f["text"] for f in saved["frames"]] == [f.text for f in document.frames]:
                break
            assert asyncio.get_running_loop().time() < deadline, "the room did not save"
            await asyncio.sleep(0.1)
        await back.close()


async def test_job_made_by_a_worker_streams_through_another_process(
    tmp_path: Path, shared_env: dict[str, str]
) -> None:
    env: dict[str, Any] = {**shared_env, "ASCIIHUB_RUN_CONSUMERS_IN_SERVE": "off"}
    with (
        running_server(tmp_path / "a", env) as (url_a, _a),
        running_server(tmp_path / "b", env) as (url_b, _b),
    ):
        owner = await new_owner(url_a)
        async with httpx.AsyncClient(base_url=url_a, headers=owner.headers) as http:
            made = await http.post(
                "/api/generate",
                json={"prompt": "rain", "frames": 12, "style": "simple", "width": 30, "height": 8},
            )
            assert made.status_code == 202, made.text
            job_id = made.json()["job_id"]
        watcher = asyncio.create_task(watch_job(url_b, job_id, token=owner.token))
        worker_env = {**env, "ASCIIHUB_DATA_DIR": str(tmp_path / "w")}
        with process([sys.executable, "-m", "asciihub", "worker"], worker_env):
            messages = await asyncio.wait_for(watcher, timeout=90)
    frames = [m for m in messages if m["type"] == "frame"]
    assert [f["index"] for f in frames] == list(range(1, 13))
    assert messages[-1]["type"] == "done" and messages[-1]["artwork_id"]
    assert frames[0]["_received"] < messages[-1]["_received"]
