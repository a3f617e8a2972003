"""PATCH under races and crashes: 409 ``concurrent_update``, and never a half-applied change."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from asciihub.bootstrap import build_services, input_limits
from asciihub.services.fsck import Fsck
from asciihub.services.principals import LOCAL
from tests.stack import make_settings

OLD = [{"text": "old one", "duration_ms": 100}, {"text": "old two", "duration_ms": 100}]
NEW = [{"text": "NEW ONE", "duration_ms": 100}, {"text": "NEW TWO", "duration_ms": 100}]


async def test_concurrent_patches_without_if_match_answer_409(client: Any) -> None:
    made = await client.post("/api/artworks", json={"title": "t", "frames": OLD})
    assert made.status_code == 201
    url = f"/api/artworks/{made.json()['id']}"
    conflicts = 0
    for round_number in range(20):
        answers = await asyncio.gather(
            *(
                client.patch(url, json={"title": f"r{round_number}w{n}", "frames": NEW})
                for n in range(4)
            )
        )
        for answer in answers:
            assert answer.status_code in (200, 409), answer.text
            if answer.status_code == 409:
                assert "artworks/" not in answer.text, "an internal key in the answer"
                assert answer.json()["error"]["code"] == "concurrent_update"
                assert "etag" not in answer.json()["error"]["message"]
                conflicts += 1
        if conflicts:
            break
    assert conflicts > 0, "no race was ever lost; the test did not exercise it"
    final = (await client.get(url)).json()
    assert [frame["text"].rstrip() for frame in final["frames"]] == ["NEW ONE", "NEW TWO"]


# Every row statement of an update fails from here on, as if the process had died
# right after writing the new document.
_CRASH = (
    "CREATE TRIGGER crash_here BEFORE UPDATE ON ascii_metadata "
    "BEGIN SELECT RAISE(ABORT, 'crash'); END"
)


async def test_a_patch_stopped_before_its_row_update_leaves_the_old_artwork(
    data_dir: Path,
) -> None:
    """The document is written, then the process "dies" (the row statement never lands)."""
    built = await build_services(make_settings(data_dir))
    try:
        made = await built.artworks.create(
            LOCAL, {"title": "old title", "visibility": "public", "frames": OLD}
        )
        artwork_id = made["id"]
        async with built.db.write() as conn:
            await conn.execute(sa.text(_CRASH))
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the crash raises
            await built.artworks.update(LOCAL, artwork_id, {"title": "new title", "frames": NEW})
        async with built.db.write() as conn:
            await conn.execute(sa.text("DROP TRIGGER crash_here"))
        await built.kv.delete(f"ascii:{artwork_id}")  # a fresh process: nothing cached

        import orjson

        seen = orjson.loads((await built.artworks.get(LOCAL, artwork_id)).body)
        assert seen["title"] == "old title"
        assert [frame["text"].rstrip() for frame in seen["frames"]] == ["old one", "old two"]
        assert seen["etag"] == made["etag"]

        fsck = Fsck(
            artworks=built.artworks_repo,
            objects=built.objects,
            cache=built.kv,
            limits=input_limits(built.settings).document,
            grace_seconds=0,
        )
        found = await fsck.run(repair=True)
        assert len(found.orphan_objects) == 1  # the version no row points at
        assert not found.stale_rows
        assert (await fsck.run(repair=False)).problems == 0

        updated = await built.artworks.update(
            LOCAL, artwork_id, {"title": "new title", "frames": NEW}
        )
        seen = orjson.loads((await built.artworks.get(LOCAL, artwork_id)).body)
        assert seen["title"] == "new title" == updated["title"]
        assert [frame["text"].rstrip() for frame in seen["frames"]] == ["NEW ONE", "NEW TWO"]
        assert await built.objects.head(made["r2_key"]) is None  # the old version is gone
        assert (await fsck.run(repair=False)).problems == 0
    finally:
        await built.close()
