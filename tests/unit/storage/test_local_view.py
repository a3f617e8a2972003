"""The file backend's key-path view: each committed object as a plain file at its key.

The index stays the commit point; these tests check that ``{root}/{key}`` follows it
(put, overwrite, delete, streams), that a writer killed between its commit and the view
change leaves the index right and the view repaired by the documented mechanism (the
next open after an unclosed store, and ``sweep()``), and that keys a file system cannot
hold side by side (``a`` and ``a/b``) stay readable through the API.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from asciihub.errors import InvalidInput, PreconditionFailed
from asciihub.storage.objects import ObjectInfo
from asciihub.storage.objects.local import LocalObjectStore

STORE_DIR = ".asciihub-store"


def blob_path(root: Path, info: ObjectInfo) -> Path:
    return root / STORE_DIR / "blobs" / info.version[:2] / info.version


def view_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` outside the store's own directory, by key."""
    found: dict[str, bytes] = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if relative.parts[0] != STORE_DIR and path.is_file():
            found[relative.as_posix()] = path.read_bytes()
    return found


def assert_published(root: Path, info: ObjectInfo, data: bytes) -> None:
    view = root / info.key
    assert view.read_bytes() == data
    assert os.stat(view).st_ino == os.stat(blob_path(root, info)).st_ino
    assert stat.S_IMODE(os.stat(view).st_mode) & 0o222 == 0  # read-only, as the body is


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "objects"


@pytest.fixture
async def store(root: Path) -> AsyncIterator[LocalObjectStore]:
    opened = LocalObjectStore(root)
    yield opened
    await opened.close()


async def test_put_publishes_the_body_at_the_key_path(store: LocalObjectStore, root: Path) -> None:
    info = await store.put("artworks/local/AbC123.json", b'{"format": "asciihub"}')
    assert_published(root, info, b'{"format": "asciihub"}')
    assert sorted(entry.name for entry in root.iterdir()) == [STORE_DIR, "artworks"]
    internals = {entry.name for entry in (root / STORE_DIR).iterdir()}
    assert {"blobs", "tmp", "live", "index.sqlite3", "signing.key"} <= internals


async def test_overwrite_replaces_and_delete_removes_the_file(
    store: LocalObjectStore, root: Path
) -> None:
    first = await store.put("art/u1/a.json", b"one")
    second = await store.put("art/u1/a.json", b"two, longer")
    assert_published(root, second, b"two, longer")
    assert not blob_path(root, first).exists()
    await store.put("art/u1/b.json", b"b")
    await store.delete("art/u1/a.json")
    assert not (root / "art/u1/a.json").exists()
    assert view_files(root) == {"art/u1/b.json": b"b"}
    await store.delete(["art/u1/b.json", "art/u1/missing"])
    assert view_files(root) == {}
    assert sorted(entry.name for entry in root.iterdir()) == [STORE_DIR]  # empty dirs pruned


async def test_streams_and_empty_objects_are_published(store: LocalObjectStore, root: Path) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"a" * 1000, b"b" * 1000):
            yield part

    streamed = await store.put_stream("exports/u/e.zip", chunks())
    assert_published(root, streamed, b"a" * 1000 + b"b" * 1000)
    empty = await store.put("empty", b"")
    assert_published(root, empty, b"")


async def test_failed_precondition_leaves_the_view_alone(
    store: LocalObjectStore, root: Path
) -> None:
    info = await store.put("c", b"first", if_none_match="*")
    with pytest.raises(PreconditionFailed):
        await store.put("c", b"second", if_none_match="*")
    assert_published(root, info, b"first")


async def test_concurrent_writers_leave_the_view_on_the_committed_row(
    store: LocalObjectStore, root: Path
) -> None:
    bodies = [f"writer {n}".encode() for n in range(16)]
    await asyncio.gather(*(store.put("hot", body) for body in bodies))
    await asyncio.gather(
        *(store.put("hot", body) for body in bodies), store.delete("hot"), store.put("hot", b"x")
    )
    current = await store.get("hot")
    if current is None:
        assert not (root / "hot").exists()
    else:
        assert_published(root, current.info, current.data)


# --- keys a file system cannot hold side by side -------------------------------------


async def test_conflicting_keys_stay_readable_and_are_logged_once(
    store: LocalObjectStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    a = await store.put("a", b"file a")
    await store.put("a/b", b"file a/b")  # `a` is a file: no room for a directory
    await store.put("a/b", b"file a/b again")
    await store.put("x/y", b"file x/y")
    await store.put("x", b"file x")  # `x` is a directory of other keys
    assert (await store.get("a")).data == b"file a"  # type: ignore[union-attr]
    assert (await store.get("a/b")).data == b"file a/b again"  # type: ignore[union-attr]
    assert (await store.get("x")).data == b"file x"  # type: ignore[union-attr]
    assert (await store.get("x/y")).data == b"file x/y"  # type: ignore[union-attr]
    assert view_files(root) == {"a": b"file a", "x/y": b"file x/y"}
    assert_published(root, a, b"file a")
    skipped = [r for r in caplog.records if "object_view_skipped" in r.getMessage()]
    assert [("'a/b'" in r.getMessage(), "'x'" in r.getMessage()) for r in skipped] == [
        (True, False),
        (False, True),
    ]
    await store.delete("a")  # the conflict is gone: the next sweep places `a/b`
    assert await store.sweep() == 0
    assert view_files(root) == {"a/b": b"file a/b again", "x/y": b"file x/y"}


async def test_keys_with_empty_segments_have_no_view_file(
    store: LocalObjectStore, root: Path
) -> None:
    for key in ("folder/", "double//slash", "plain"):
        await store.put(key, key.encode())
        assert (await store.get(key)).data == key.encode()  # type: ignore[union-attr]
    assert view_files(root) == {"plain": b"plain"}
    assert not (root / "folder").exists()


async def test_reserved_first_segment_is_refused(store: LocalObjectStore, root: Path) -> None:
    for key in (".asciihub-store/index.sqlite3", ".Asciihub-Store/x", STORE_DIR):
        with pytest.raises(InvalidInput, match="reserved"):
            await store.put(key, b"x")
    assert (root / STORE_DIR / "index.sqlite3").stat().st_size > 0


# --- crash between commit and view change, and repair --------------------------------

CRASH_SCRIPT = r"""
import asyncio, sys, threading
from asciihub.storage.objects.local import LocalObjectStore

root, action, key = sys.argv[1:4]


def freeze(self, keys):
    print("frozen", flush=True)  # the index has committed; the view is untouched
    threading.Event().wait()


async def main():
    store = LocalObjectStore(root)
    LocalObjectStore._sync_view = freeze
    if action == "put":
        await store.put(key, b"committed by the killed writer")
    else:
        await store.delete(key)


asyncio.run(main())
"""


def kill_after_commit(root: Path, action: str, key: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(root), action, key], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"frozen\n"
    proc.kill()
    proc.wait()
    proc.stdout.close()


@pytest.mark.parametrize("action", ["overwrite", "create", "delete"])
async def test_killed_writer_after_commit_view_repaired_on_next_open(
    store: LocalObjectStore, root: Path, action: str
) -> None:
    old = await store.put("crash/k", b"old body")
    key = "crash/new" if action == "create" else "crash/k"
    kill_after_commit(root, "delete" if action == "delete" else "put", key)

    # the API answers from the index at once; the view is still behind
    body = await store.get(key)
    if action == "delete":
        assert body is None
        assert (root / key).read_bytes() == b"old body"
    else:
        assert body is not None
        assert body.data == b"committed by the killed writer"
        assert body.info.version != old.version
        if action == "create":
            assert not (root / key).exists()
        else:
            assert (root / key).read_bytes() == b"old body"

    reopened = LocalObjectStore(root)  # the killed store never closed: repair on open
    if body is None:
        assert not (root / key).exists()
        assert view_files(root) == {}
    else:
        assert_published(root, body.info, body.data)
    assert list((root / STORE_DIR / "live").iterdir()) != []  # two open stores
    await reopened.close()
    assert await store.sweep() == (0 if action == "create" else 1)  # the unreferenced body
    blobs = [p for p in (root / STORE_DIR / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == (0 if action == "delete" else 1 if action == "overwrite" else 2)


async def test_sweep_repairs_a_view_changed_by_hand(store: LocalObjectStore, root: Path) -> None:
    kept = await store.put("art/kept.json", b"kept")
    missing = await store.put("art/missing.json", b"missing")
    edited = await store.put("art/edited.json", b"edited")
    (root / "art/missing.json").unlink()
    (root / "art/edited.json").unlink()
    (root / "art/edited.json").write_bytes(b"changed by hand")  # a new file, not the body
    os.link(blob_path(root, kept), root / "art/.asciihub-view.0123456789abcdef")  # crash leftover
    os.link(blob_path(root, kept), root / "art/deleted-long-ago.json")  # a stale link
    (root / "notes.txt").write_bytes(b"an operator's own file")

    await store.close()
    clean = LocalObjectStore(root)  # closed cleanly before: open does not walk the tree
    assert (root / "art/edited.json").read_bytes() == b"changed by hand"
    assert await clean.sweep() == 2  # the leftover temp link and the stale link
    assert_published(root, kept, b"kept")
    assert_published(root, missing, b"missing")
    assert_published(root, edited, b"edited")
    assert view_files(root) == {
        "art/kept.json": b"kept",
        "art/missing.json": b"missing",
        "art/edited.json": b"edited",
        "notes.txt": b"an operator's own file",  # one link, not ours: left alone
    }
    await clean.close()


async def test_clean_close_leaves_no_mark(root: Path) -> None:
    first = LocalObjectStore(root)
    second = LocalObjectStore(root)
    assert len(list((root / STORE_DIR / "live").iterdir())) == 2
    await first.close()
    await second.close()
    await second.close()
    assert list((root / STORE_DIR / "live").iterdir()) == []
