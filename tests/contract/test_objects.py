"""The object store contract (R2 semantics), run against every backend.

Rows of docs/bindings.md: R1 limits, R2 fields, R3 metadata, R4 conditional puts, R5
ranges, R6 deletes, R7 listing, R8 consistency, R9 streams, R10 presigned links.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import pytest

from asciihub.errors import (
    ConfigError,
    Forbidden,
    InvalidInput,
    PreconditionFailed,
    TooLarge,
    Unavailable,
)
from asciihub.storage.objects import (
    ByteRange,
    HttpMetadata,
    ObjectPage,
    ObjectStore,
    open_object_store,
)
from asciihub.storage.objects.local import TEMP_MAX_AGE, LocalObjectStore

OpenObjects = Callable[..., Awaitable[ObjectStore]]


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


BODY = b"0123456789abcdefghij"  # 20 bytes


async def list_all(
    store: ObjectStore, prefix: str = "", *, limit: int = 1000, delimiter: str | None = None
) -> tuple[list[str], list[str], list[ObjectPage]]:
    """Every key and rolled-up prefix, looping on ``truncated`` as callers must."""
    keys: list[str] = []
    prefixes: list[str] = []
    pages: list[ObjectPage] = []
    cursor = None
    while True:
        page = await store.list(prefix, cursor=cursor, limit=limit, delimiter=delimiter)
        pages.append(page)
        keys.extend(item.key for item in page.objects)
        prefixes.extend(page.delimited_prefixes)
        if not page.truncated:
            assert page.cursor is None
            return keys, prefixes, pages
        assert page.cursor
        cursor = page.cursor


# --- R2/R8: read-after-write, fields, overwrite -------------------------------------


async def test_read_after_write_with_md5_etag(object_store: ObjectStore) -> None:
    info = await object_store.put("artworks/u1/a1.json", BODY)
    assert info.key == "artworks/u1/a1.json"
    assert info.size == len(BODY)
    assert info.etag == hashlib.md5(BODY).hexdigest()
    assert info.http_etag == f'"{info.etag}"'
    assert info.version
    body = await object_store.get("artworks/u1/a1.json")
    assert body is not None
    assert body.data == BODY
    assert body.range_start == 0
    assert body.info.etag == info.etag
    assert body.info.version == info.version
    head = await object_store.head("artworks/u1/a1.json")
    assert head is not None
    assert (head.size, head.etag, head.version) == (len(BODY), info.etag, info.version)


async def test_missing_object_is_none(object_store: ObjectStore) -> None:
    assert await object_store.get("nope") is None
    assert await object_store.head("nope") is None
    assert await object_store.get("nope", byte_range=ByteRange(suffix=3)) is None


async def test_overwrite_last_writer_wins_and_version_changes(object_store: ObjectStore) -> None:
    first = await object_store.put("k", b"one", custom_metadata={"n": "1"})
    second = await object_store.put("k", b"two")
    assert second.version != first.version
    assert second.etag == hashlib.md5(b"two").hexdigest()
    body = await object_store.get("k")
    assert body is not None
    assert body.data == b"two"
    assert body.info.version == second.version
    assert dict(body.info.custom_metadata) == {}  # metadata belongs to the write
    same = await object_store.put("k", b"two")
    assert same.etag == second.etag
    assert same.version != second.version


async def test_empty_object(object_store: ObjectStore) -> None:
    info = await object_store.put("empty", b"")
    assert info.size == 0
    assert info.etag == hashlib.md5(b"").hexdigest()
    body = await object_store.get("empty")
    assert body is not None
    assert body.data == b""
    ranged = await object_store.get("empty", byte_range=ByteRange(offset=5, length=3))
    assert ranged is not None
    assert ranged.data == b""


# --- R3/R11: metadata ---------------------------------------------------------------


async def test_custom_and_http_metadata_round_trip(object_store: ObjectStore) -> None:
    custom = {
        "userid": "u1",
        "visibility": "public",
        "title": "Café ☕ — 日本 🎨",
        "padded": "  spaces around  ",
        "looks-encoded": "=?UTF-8?B?aGk=?=",
        "empty": "",
        "created_at": "2025-01-01T00:00:00Z",
    }
    http = HttpMetadata(
        content_type="application/json; charset=utf-8",
        content_language="fr",
        content_disposition='attachment; filename="art.json"',
        content_encoding="identity",
        cache_control="public, max-age=60",
    )
    await object_store.put("m", BODY, http_metadata=http, custom_metadata=custom)
    for info in (await object_store.head("m"), (await object_store.get("m")).info):  # type: ignore[union-attr]
        assert info is not None
        assert dict(info.custom_metadata) == custom
        assert info.http_metadata == http


@pytest.mark.parametrize("name", ["Upper", "with space", "dot.ted", "ünï", ""])
async def test_bad_metadata_key_is_refused(object_store: ObjectStore, name: str) -> None:
    with pytest.raises(InvalidInput):
        await object_store.put("m", BODY, custom_metadata={name: "x"})
    assert await object_store.head("m") is None


async def test_metadata_size_limit(object_store: ObjectStore) -> None:
    await object_store.put("ok", BODY, custom_metadata={"a": "x" * (8192 - 1)})
    with pytest.raises(TooLarge):
        await object_store.put("big", BODY, custom_metadata={"a": "x" * 8192})
    with pytest.raises(TooLarge):
        await object_store.put("big", BODY, custom_metadata={"a": "é" * 4096})
    assert await object_store.head("big") is None


# --- R4: conditional puts -----------------------------------------------------------


async def test_if_none_match_star_only_creates(object_store: ObjectStore) -> None:
    first = await object_store.put("c", b"first", if_none_match="*")
    with pytest.raises(PreconditionFailed):
        await object_store.put("c", b"second", if_none_match="*")
    body = await object_store.get("c")
    assert body is not None
    assert (body.data, body.info.version) == (b"first", first.version)


async def test_if_match_needs_the_current_etag(object_store: ObjectStore) -> None:
    first = await object_store.put("c", b"first")
    second = await object_store.put("c", b"second", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        await object_store.put("c", b"stale", if_match=first.etag)
    body = await object_store.get("c")
    assert body is not None
    assert (body.data, body.info.version) == (b"second", second.version)
    third = await object_store.put("c", b"third", if_match=second.http_etag)  # quoted form
    assert third.etag == hashlib.md5(b"third").hexdigest()


async def test_if_match_on_missing_object_fails(object_store: ObjectStore) -> None:
    with pytest.raises(PreconditionFailed):
        await object_store.put("absent", b"x", if_match=hashlib.md5(b"x").hexdigest())
    assert await object_store.head("absent") is None


async def test_if_none_match_with_an_etag(object_store: ObjectStore) -> None:
    first = await object_store.put("c", b"first")
    with pytest.raises(PreconditionFailed):
        await object_store.put("c", b"again", if_none_match=first.etag)
    other = hashlib.md5(b"other").hexdigest()
    await object_store.put("c", b"replaced", if_none_match=other)
    await object_store.put("new", b"created", if_none_match=other)
    assert (await object_store.get("c")).data == b"replaced"  # type: ignore[union-attr]
    assert (await object_store.get("new")).data == b"created"  # type: ignore[union-attr]


@pytest.mark.parametrize("writers", [2, 8])
async def test_concurrent_create_only_writers_exactly_one_wins(
    object_store: ObjectStore, writers: int
) -> None:
    for round_ in range(5):
        key = f"race/{writers}/{round_}"
        bodies = [f"writer {n}".encode() for n in range(writers)]
        results = await asyncio.gather(
            *(object_store.put(key, body, if_none_match="*") for body in bodies),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1, results
        assert all(isinstance(r, PreconditionFailed) for r in losers), results
        stored = await object_store.get(key)
        assert stored is not None
        assert stored.info.etag == winners[0].etag


async def test_sha256_mismatch_stores_nothing(object_store: ObjectStore) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(InvalidInput) as caught:
        await object_store.put("s", BODY, sha256=wrong)
    assert caught.value.code == "checksum_mismatch"
    assert await object_store.head("s") is None
    await object_store.put("s", b"keep")
    with pytest.raises(InvalidInput):
        await object_store.put("s", BODY, sha256=wrong)
    assert (await object_store.get("s")).data == b"keep"  # type: ignore[union-attr]
    good = hashlib.sha256(BODY).hexdigest().upper()
    await object_store.put("s", BODY, sha256=good)
    assert (await object_store.get("s")).data == BODY  # type: ignore[union-attr]


# --- R5: ranged reads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("byte_range", "expected", "start"),
    [
        (ByteRange(offset=2, length=3), BODY[2:5], 2),
        (ByteRange(offset=15), BODY[15:], 15),
        (ByteRange(length=4), BODY[:4], 0),
        (ByteRange(suffix=5), BODY[-5:], 15),
        (ByteRange(offset=18, length=10), BODY[18:], 18),
        (ByteRange(offset=20), b"", 20),
        (ByteRange(offset=50, length=5), b"", 20),
        (ByteRange(suffix=100), BODY, 0),
        (ByteRange(offset=3, length=0), b"", 3),
        (ByteRange(suffix=0), b"", 20),
        (ByteRange(), BODY, 0),
    ],
)
async def test_ranged_get(
    object_store: ObjectStore, byte_range: ByteRange, expected: bytes, start: int
) -> None:
    await object_store.put("r", BODY)
    body = await object_store.get("r", byte_range=byte_range)
    assert body is not None
    assert body.data == expected
    assert body.range_start == start
    assert body.info.size == len(BODY)
    assert body.info.etag == hashlib.md5(BODY).hexdigest()


@pytest.mark.parametrize(
    "byte_range",
    [ByteRange(offset=-1), ByteRange(length=-2), ByteRange(suffix=2, offset=1)],
)
async def test_bad_range_is_refused(object_store: ObjectStore, byte_range: ByteRange) -> None:
    await object_store.put("r", BODY)
    with pytest.raises(InvalidInput):
        await object_store.get("r", byte_range=byte_range)


# --- R6: deletes ----------------------------------------------------------------------


async def test_delete_one_many_and_missing(object_store: ObjectStore) -> None:
    for key in ("d/1", "d/2", "d/3", "d/4"):
        await object_store.put(key, key.encode())
    await object_store.delete("d/1")
    await object_store.delete("d/1")  # missing: fine
    await object_store.delete(["d/2", "d/3", "d/missing", "d/2"])
    await object_store.delete([])
    assert await object_store.get("d/1") is None
    assert await object_store.head("d/3") is None
    keys, _, _ = await list_all(object_store, "d/")
    assert keys == ["d/4"]


# --- R7: listing ----------------------------------------------------------------------

UNICODE_KEYS = [
    "a",
    "a-b",
    "a/b",
    "a0",
    "B",
    "b",
    "z",
    "é",
    "ä/x",
    "ÿ",
    "Ā",
    "日本/語",
    "\uffee",
    "😀",
    "𝄞",
    "~tilde",
]


async def test_list_is_in_utf8_byte_order(object_store: ObjectStore) -> None:
    for key in UNICODE_KEYS:
        await object_store.put(key, key.encode())
    keys, prefixes, _ = await list_all(object_store)
    assert keys == sorted(UNICODE_KEYS, key=lambda k: k.encode())
    assert prefixes == []
    page = await object_store.list()
    assert not page.truncated
    assert page.cursor is None
    sizes = {item.key: item.size for item in page.objects}
    assert sizes["日本/語"] == len("日本/語".encode())
    etags = {item.key: item.etag for item in page.objects}
    assert etags["😀"] == hashlib.md5("😀".encode()).hexdigest()


async def test_list_prefix(object_store: ObjectStore) -> None:
    for key in ("p/1", "p/2", "p0", "pa", "q/1", "o", "p/sub/3"):
        await object_store.put(key, b"x")
    keys, _, _ = await list_all(object_store, "p/")
    assert keys == ["p/1", "p/2", "p/sub/3"]
    keys, _, _ = await list_all(object_store, "p")
    assert keys == ["p/1", "p/2", "p/sub/3", "p0", "pa"]
    keys, _, _ = await list_all(object_store, "nothing")
    assert keys == []


async def test_list_delimiter(object_store: ObjectStore) -> None:
    names = [
        "photos/2024/a.png",
        "photos/2024/b.png",
        "photos/2025/c.png",
        "photos/x.png",
        "photos/y/",
        "docs/z",
        "root",
    ]
    for key in names:
        await object_store.put(key, b"x")
    page = await object_store.list("photos/", delimiter="/")
    assert [item.key for item in page.objects] == ["photos/x.png"]
    assert list(page.delimited_prefixes) == ["photos/2024/", "photos/2025/", "photos/y/"]
    top = await object_store.list(delimiter="/")
    assert [item.key for item in top.objects] == ["root"]
    assert list(top.delimited_prefixes) == ["docs/", "photos/"]
    for limit in (1, 2, 3):
        keys, prefixes, _ = await list_all(object_store, "photos/", limit=limit, delimiter="/")
        assert keys == ["photos/x.png"]
        assert prefixes == ["photos/2024/", "photos/2025/", "photos/y/"]


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
async def test_cursor_paging_sees_every_key_once(object_store: ObjectStore, limit: int) -> None:
    names = [f"page/{n:03d}" for n in range(23)] + ["page/é", "page/😀", "other"]
    for key in names:
        await object_store.put(key, b"x")
    keys, _, pages = await list_all(object_store, "page/", limit=limit)
    expected = sorted((k for k in names if k.startswith("page/")), key=lambda k: k.encode())
    assert keys == expected
    assert all(len(page.objects) <= limit for page in pages)


async def test_short_pages_are_handled_by_looping(open_objects: OpenObjects) -> None:
    writer = await open_objects()
    names = [f"short/{n:02d}" for n in range(11)]
    for key in names:
        await writer.put(key, b"x")
    capped = await open_objects(max_page_size=3)
    first = await capped.list("short/", limit=10)
    assert first.truncated
    assert 0 < len(first.objects) < 10  # a short page that is not the last one
    keys, _, pages = await list_all(capped, "short/", limit=10)
    assert keys == names
    assert len(pages) >= 4


@pytest.mark.parametrize("limit", [0, 1001, -1])
async def test_list_limit_is_checked(object_store: ObjectStore, limit: int) -> None:
    with pytest.raises(InvalidInput):
        await object_store.list(limit=limit)


async def test_list_sees_writes_and_deletes_at_once(object_store: ObjectStore) -> None:
    await object_store.put("now/a", b"x")
    assert [o.key for o in (await object_store.list("now/")).objects] == ["now/a"]
    await object_store.delete("now/a")
    assert (await object_store.list("now/")).objects == []


# --- R1: key validation ---------------------------------------------------------------

BAD_KEYS = [
    "",
    "/leading",
    "a/../b",
    "..",
    ".",
    "a/./b",
    "trailing/.",
    "back\\slash",
    "nul\x00",
    "new\nline",
    "tab\there",
    "del\x7f",
    "x" * 1025,
    "é" * 513,
    "lone\ud800surrogate",
    ".asciihub-store",
    ".asciihub-store/index.sqlite3",
    ".ASCIIHUB-Store/blobs/00/x",
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_keys_are_refused_everywhere(object_store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await object_store.put(key, b"x")
    assert caught.value.code == "invalid_key"
    assert caught.value.message
    with pytest.raises(InvalidInput):
        await object_store.get(key)
    with pytest.raises(InvalidInput):
        await object_store.head(key)
    with pytest.raises(InvalidInput):
        await object_store.delete([key])


async def test_reserved_first_segment_is_explained(object_store: ObjectStore) -> None:
    with pytest.raises(InvalidInput) as caught:
        await object_store.put(".asciihub-store/signing.key", b"x")
    assert "reserved" in caught.value.message
    for key in ("x/.asciihub-store/y", ".asciihub-store2/y", ".asciihub-storey"):
        await object_store.put(key, b"ok")
        assert (await object_store.get(key)).data == b"ok"  # type: ignore[union-attr]


async def test_a_key_and_keys_below_it_coexist(object_store: ObjectStore) -> None:
    """``a`` and ``a/b`` are two objects (a file system could not hold both as files)."""
    await object_store.put("nest/a", b"file a")
    await object_store.put("nest/a/b", b"file a/b")
    await object_store.put("deep/x/y", b"first x/y")
    await object_store.put("deep/x", b"then x")
    for key, data in [
        ("nest/a", b"file a"),
        ("nest/a/b", b"file a/b"),
        ("deep/x/y", b"first x/y"),
        ("deep/x", b"then x"),
    ]:
        assert (await object_store.get(key)).data == data  # type: ignore[union-attr]
    keys, _, _ = await list_all(object_store)
    assert keys == ["deep/x", "deep/x/y", "nest/a", "nest/a/b"]
    await object_store.delete("nest/a")
    assert (await object_store.get("nest/a/b")).data == b"file a/b"  # type: ignore[union-attr]


async def test_longest_key_is_accepted(object_store: ObjectStore) -> None:
    key = "k/" + "é" * 511  # 2 + 1022 = 1024 bytes
    assert len(key.encode()) == 1024
    await object_store.put(key, b"x")
    assert (await object_store.get(key)).data == b"x"  # type: ignore[union-attr]
    assert [o.key for o in (await object_store.list("k/")).objects] == [key]


# --- R9: streams ----------------------------------------------------------------------


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_put_stream_small(object_store: ObjectStore) -> None:
    data = bytes(range(256)) * 100
    info = await object_store.put_stream(
        "stream/small",
        chunks_of(data, 1000),
        http_metadata=HttpMetadata(content_type="application/zip"),
        custom_metadata={"kind": "export"},
    )
    assert info.size == len(data)
    assert info.etag == hashlib.md5(data).hexdigest()
    body = await object_store.get("stream/small")
    assert body is not None
    assert body.data == data
    assert body.info.custom_metadata == {"kind": "export"}
    assert body.info.http_metadata.content_type == "application/zip"


async def test_put_stream_large_is_whole(object_store: ObjectStore) -> None:
    data = hashlib.sha256(b"seed").digest() * (12 * 1024 * 1024 // 32 + 7)  # > 12 MiB
    info = await object_store.put_stream("stream/large", chunks_of(data, 1024 * 1024 + 3))
    assert info.size == len(data)
    body = await object_store.get("stream/large")
    assert body is not None
    assert body.data == data
    tail = await object_store.get("stream/large", byte_range=ByteRange(suffix=10))
    assert tail is not None
    assert tail.data == data[-10:]


async def test_failed_stream_leaves_no_object(object_store: ObjectStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (6 * 1024 * 1024)
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await object_store.put_stream("stream/broken", broken())
    assert await object_store.head("stream/broken") is None
    assert (await object_store.list("stream/")).objects == []


# --- R10: links -----------------------------------------------------------------------


async def test_presign_get(object_store: ObjectStore, object_backend: str) -> None:
    await object_store.put("dl/file.txt", BODY)
    url = await object_store.presign_get("dl/file.txt", expires_in=60)
    assert url is not None
    if object_backend == "s3":
        async with httpx.AsyncClient() as client:
            response = await client.get(url)
        assert response.status_code == 200
        assert response.content == BODY
    else:
        assert url.startswith("/objects/dl/file.txt?expires=")
    for bad in (0, 604_801):
        with pytest.raises(InvalidInput):
            await object_store.presign_get("dl/file.txt", expires_in=bad)
    await object_store.presign_get("dl/file.txt", expires_in=604_800)


# --- file backend only: crash safety and signed links --------------------------------

CRASH_SCRIPT = r"""
import asyncio, sys, threading
from asciihub.storage.objects import local as local_module
from asciihub.storage.objects.local import LocalObjectStore

root, key, stage = sys.argv[1:4]


def freeze(*args):
    print("frozen", flush=True)
    threading.Event().wait()


async def main():
    store = LocalObjectStore(root)
    if stage == "renamed":
        # fsync_dir runs right after the rename into blobs/, before the index commit
        local_module.fsync_dir = freeze
        await store.put(key, b"new body" * 1000)
    else:
        async def chunks():
            yield b"n" * (3 * 1024 * 1024)
            print("frozen", flush=True)
            await asyncio.Event().wait()
        await store.put_stream(key, chunks())


asyncio.run(main())
"""


def blob_files(root: Path) -> list[Path]:
    return [path for path in (root / ".asciihub-store" / "blobs").rglob("*") if path.is_file()]


@pytest.mark.parametrize("stage", ["temp", "renamed"])
async def test_killed_writer_leaves_no_visible_object(tmp_path: Path, stage: str) -> None:
    root = tmp_path / "objects"
    store = LocalObjectStore(root)
    old = await store.put("crash/k", b"old body")
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(root), "crash/k", stage],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"frozen\n"  # the writer is stuck mid-write
    proc.kill()
    proc.wait()
    proc.stdout.close()

    reopened = LocalObjectStore(root)
    body = await reopened.get("crash/k")
    assert body is not None
    assert body.data == b"old body"
    assert body.info.version == old.version
    assert [o.key for o in (await reopened.list("crash/")).objects] == ["crash/k"]
    tmp = root / ".asciihub-store" / "tmp"
    leftovers = list(tmp.iterdir()) + blob_files(root)
    assert len(leftovers) == 2  # the old body plus the dead writer's file

    assert await reopened.sweep() == (1 if stage == "renamed" else 0)  # fresh temp files stay
    assert await reopened.sweep(older_than=0) == (1 if stage == "temp" else 0)
    assert list(tmp.iterdir()) == []
    assert len(blob_files(root)) == 1
    assert (await reopened.get("crash/k")).data == b"old body"  # type: ignore[union-attr]
    await reopened.put("crash/k", b"after")
    assert (await reopened.get("crash/k")).data == b"after"  # type: ignore[union-attr]
    await store.close()
    await reopened.close()


async def test_leftover_temp_file_is_invisible(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    (tmp_path / "objects" / ".asciihub-store" / "tmp" / "deadbeef.part").write_bytes(b"partial")
    assert (await store.list()).objects == []
    assert await store.sweep(older_than=TEMP_MAX_AGE) == 0
    assert await store.sweep(older_than=0) == 1
    await store.close()


async def test_objects_survive_reopen(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    info = await store.put("keep", BODY, custom_metadata={"a": "b"})
    await store.close()
    reopened = LocalObjectStore(tmp_path / "objects")
    head = await reopened.head("keep")
    assert head == info
    await reopened.close()


async def test_local_signed_link_verifies_and_refuses_tampering(tmp_path: Path) -> None:
    clock = FakeClock(1_800_000_000.0)
    store = LocalObjectStore(tmp_path / "objects", clock=clock)
    path = await store.presign_get("dl/ü file.txt", expires_in=60)
    assert path is not None
    parsed = urlsplit(path)
    assert parsed.path == "/objects/dl/%C3%BC%20file.txt"
    query = dict(parse_qsl(parsed.query))
    key = unquote(parsed.path.removeprefix("/objects/"))
    store.verify_presigned(key, query["expires"], query["sig"])
    with pytest.raises(Forbidden):
        store.verify_presigned("dl/other", query["expires"], query["sig"])
    with pytest.raises(Forbidden):
        store.verify_presigned(key, str(int(query["expires"]) + 3600), query["sig"])
    with pytest.raises(Forbidden):
        store.verify_presigned(key, query["expires"], "0" * 64)
    with pytest.raises(Forbidden):
        store.verify_presigned(key, "soon", query["sig"])
    clock.now += 60
    with pytest.raises(Forbidden) as caught:
        store.verify_presigned(key, query["expires"], query["sig"])
    assert caught.value.code == "link_expired"
    other = LocalObjectStore(tmp_path / "objects", clock=clock)  # same kept secret
    clock.now -= 1
    other.verify_presigned(key, query["expires"], query["sig"])
    await store.close()
    await other.close()


async def test_unreachable_s3_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(Unavailable) as caught:
        await open_object_store("s3://nowhere")
    assert caught.value.retry_after > 0
    assert caught.value.__cause__ is not None


async def test_unknown_object_url_scheme() -> None:
    with pytest.raises(ConfigError):
        await open_object_store("ftp://x")


async def test_ping_and_sweep_are_part_of_the_protocol(object_store: ObjectStore) -> None:
    await object_store.ping()
    assert await object_store.sweep() >= 0
