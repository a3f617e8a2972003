"""The KV contract (Workers KV semantics), run against every backend.

Rows of docs/bindings.md: K1 limits, K2/K3 expiry, K4 reads, K5 listing, K6 incr.
Time moves only through ``advance_time`` (a fake clock; Redis TTLs are aged by the
same amount on the server), so no test sleeps.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable

import pytest

from asciihub.errors import ConfigError, InvalidInput, TooLarge, Unavailable
from asciihub.storage.kv import KVKey, KVPage, KVStore, open_kv_store

Advance = Callable[[float], Awaitable[None]]
NOW = 1_800_000_000


async def list_all(
    store: KVStore, prefix: str = "", *, limit: int = 1000
) -> tuple[list[KVKey], list[KVPage]]:
    """Every live key, looping until ``list_complete`` (pages may be short or empty)."""
    keys: list[KVKey] = []
    pages: list[KVPage] = []
    cursor = None
    while True:
        page = await store.list(prefix, cursor=cursor, limit=limit)
        pages.append(page)
        keys.extend(page.keys)
        assert len(page.keys) <= limit
        if page.list_complete:
            return keys, pages
        assert page.cursor
        cursor = page.cursor


# --- K4: reads and writes -------------------------------------------------------------


async def test_put_get_delete(kv_store: KVStore) -> None:
    assert await kv_store.get("missing") is None
    await kv_store.put("ascii:1", b"\x00\xffbytes")
    await kv_store.put("text", "héllo ✓")
    assert await kv_store.get("ascii:1") == b"\x00\xffbytes"
    assert await kv_store.get("text") == "héllo ✓".encode()
    await kv_store.put("ascii:1", b"v2")
    assert await kv_store.get("ascii:1") == b"v2"
    await kv_store.delete("ascii:1")
    await kv_store.delete("ascii:1")
    assert await kv_store.get("ascii:1") is None
    await kv_store.put("empty", b"")
    assert await kv_store.get("empty") == b""


async def test_metadata_round_trip(kv_store: KVStore) -> None:
    meta = {"user": "u1", "title": "日本 🎨", "n": 3, "ok": True, "tags": ["a", None]}
    await kv_store.put("m", b"v", metadata=meta)
    assert await kv_store.get_with_metadata("m") == (b"v", meta)
    await kv_store.put("m", b"v2")  # a write without metadata clears it
    assert await kv_store.get_with_metadata("m") == (b"v2", None)
    assert await kv_store.get_with_metadata("none") == (None, None)
    await kv_store.put("scalar", b"v", metadata="just text")
    assert await kv_store.get_with_metadata("scalar") == (b"v", "just text")
    page = await kv_store.list()
    assert {key.name: key.metadata for key in page.keys} == {"m": None, "scalar": "just text"}


async def test_metadata_limits(kv_store: KVStore) -> None:
    await kv_store.put("m", b"v", metadata={"x": "a" * (1024 - 8)})  # {"x":"..."} = 1024
    with pytest.raises(TooLarge):
        await kv_store.put("big", b"v", metadata={"x": "a" * (1024 - 7)})
    with pytest.raises(TooLarge):
        await kv_store.put("big", b"v", metadata={"x": "é" * 600})
    with pytest.raises(InvalidInput):
        await kv_store.put("big", b"v", metadata={"x": object()})
    with pytest.raises(InvalidInput):
        await kv_store.put("big", b"v", metadata=float("nan"))
    assert await kv_store.get("big") is None


async def test_value_limit(kv_store: KVStore) -> None:
    limit = 25 * 1024 * 1024
    with pytest.raises(TooLarge):
        await kv_store.put("huge", b"x" * (limit + 1))
    await kv_store.put("largest", b"x" * limit)
    value = await kv_store.get("largest")
    assert value is not None
    assert len(value) == limit


async def test_get_many(kv_store: KVStore) -> None:
    for n in range(0, 100, 2):
        await kv_store.put(f"k{n}", f"v{n}".encode())
    names = [f"k{n}" for n in range(100)]
    found = await kv_store.get_many(names)
    assert list(found) == names
    assert found == {f"k{n}": (f"v{n}".encode() if n % 2 == 0 else None) for n in range(100)}
    assert await kv_store.get_many([]) == {}
    assert await kv_store.get_many(["k0", "k0"]) == {"k0": b"v0"}
    with pytest.raises(InvalidInput):
        await kv_store.get_many([*names, "k100"])
    with pytest.raises(InvalidInput):
        await kv_store.get_many(["ok", ".."])


# --- K1: validation -------------------------------------------------------------------

BAD_KEYS = ["", ".", "..", "x" * 513, "é" * 257, "lone\ud800"]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_keys_are_refused(kv_store: KVStore, key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await kv_store.put(key, b"v")
    assert caught.value.code == "invalid_key"
    for call in (kv_store.get, kv_store.get_with_metadata, kv_store.delete, kv_store.incr):
        with pytest.raises(InvalidInput):
            await call(key)


async def test_edge_keys_are_accepted(kv_store: KVStore) -> None:
    for key in ["x" * 512, "é" * 256, "...", "./", "a/../b", " ", "\x00nul", "😀"]:
        await kv_store.put(key, key.encode())
        assert await kv_store.get(key) == key.encode()


@pytest.mark.parametrize("ttl", [0, -5, 1.5, "60", True])
async def test_bad_ttl_is_refused(kv_store: KVStore, ttl: object) -> None:
    with pytest.raises(InvalidInput):
        await kv_store.put("t", b"v", ttl=ttl)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await kv_store.incr("t", ttl=ttl)  # type: ignore[arg-type]
    assert await kv_store.get("t") is None


async def test_expiration_must_be_future(kv_store: KVStore) -> None:
    with pytest.raises(InvalidInput):
        await kv_store.put("t", b"v", expiration=NOW)
    with pytest.raises(InvalidInput):
        await kv_store.put("t", b"v", expiration=NOW - 100)


@pytest.mark.parametrize("limit", [0, 1001, -1])
async def test_list_limit_is_checked(kv_store: KVStore, limit: int) -> None:
    with pytest.raises(InvalidInput):
        await kv_store.list(limit=limit)


# --- K2/K3: expiry --------------------------------------------------------------------


async def test_ttl_is_honoured_on_get_and_list_before_any_sweep(
    kv_store: KVStore, advance_time: Advance
) -> None:
    await kv_store.put("session:a", b"a", ttl=60, metadata={"u": 1})
    await kv_store.put("session:b", b"b", ttl=1)
    await kv_store.put("session:c", b"c")
    page = await kv_store.list("session:")
    assert [(k.name, k.expiration) for k in page.keys] == [
        ("session:a", NOW + 60),
        ("session:b", NOW + 1),
        ("session:c", None),
    ]
    await advance_time(2)
    assert await kv_store.get("session:b") is None
    assert await kv_store.get("session:a") == b"a"
    await advance_time(57)
    assert await kv_store.get_with_metadata("session:a") == (b"a", {"u": 1})
    await advance_time(2)
    assert await kv_store.get("session:a") is None
    assert await kv_store.get_with_metadata("session:a") == (None, None)
    assert await kv_store.get_many(["session:a", "session:c"]) == {
        "session:a": None,
        "session:c": b"c",
    }
    keys, _ = await list_all(kv_store, "session:", limit=1)
    assert [k.name for k in keys] == ["session:c"]


async def test_absolute_expiration(kv_store: KVStore, advance_time: Advance) -> None:
    await kv_store.put("abs", b"v", expiration=NOW + 100)
    assert (await kv_store.list()).keys[0].expiration == NOW + 100
    await advance_time(99)
    assert await kv_store.get("abs") == b"v"
    await advance_time(2)
    assert await kv_store.get("abs") is None
    assert (await kv_store.list()).keys == []


async def test_ttl_wins_over_expiration(kv_store: KVStore) -> None:
    await kv_store.put("both", b"v", ttl=10, expiration=NOW + 1000)
    assert (await kv_store.list()).keys[0].expiration == NOW + 10


async def test_overwrite_without_ttl_removes_expiry(
    kv_store: KVStore, advance_time: Advance
) -> None:
    await kv_store.put("k", b"v1", ttl=5)
    await kv_store.put("k", b"v2")
    await advance_time(10)
    assert await kv_store.get("k") == b"v2"


async def test_expired_keys_are_walked_over_by_paging(
    kv_store: KVStore, advance_time: Advance
) -> None:
    for n in range(12):
        await kv_store.put(f"e/{n:02d}", b"x", ttl=5 if n % 3 else 500)
    await advance_time(10)
    live = [f"e/{n:02d}" for n in range(12) if n % 3 == 0]
    for limit in (1, 2, 5):
        keys, pages = await list_all(kv_store, "e/", limit=limit)
        assert [k.name for k in keys] == live
        assert all(page.list_complete == (page is pages[-1]) for page in pages)


# --- K5: listing ----------------------------------------------------------------------

ORDER_KEYS = ["a", "a-b", "a/b", "a0", "B", "b", "é", "ÿ", "Ā", "日本", "\uffee", "😀", "~"]


async def test_list_in_utf8_byte_order(kv_store: KVStore) -> None:
    for key in ORDER_KEYS:
        await kv_store.put(key, b"v")
    keys, _ = await list_all(kv_store)
    assert [k.name for k in keys] == sorted(ORDER_KEYS, key=lambda k: k.encode())


async def test_list_prefix(kv_store: KVStore) -> None:
    for key in ["ascii:1", "ascii:2", "ascii", "asciiz", "session:1", "a"]:
        await kv_store.put(key, b"v")
    assert [k.name for k in (await kv_store.list("ascii:")).keys] == ["ascii:1", "ascii:2"]
    assert [k.name for k in (await kv_store.list("ascii")).keys] == [
        "ascii",
        "ascii:1",
        "ascii:2",
        "asciiz",
    ]
    assert (await kv_store.list("zzz")).keys == []
    assert (await kv_store.list("zzz")).list_complete


@pytest.mark.parametrize("limit", [1, 2, 3, 10])
async def test_cursor_paging_is_complete_and_exactly_once(kv_store: KVStore, limit: int) -> None:
    names = [f"g/{n:02d}" for n in range(21)] + ["g/é", "g/😀", "h/1", "f/1"]
    for key in names:
        await kv_store.put(key, b"v")
    keys, pages = await list_all(kv_store, "g/", limit=limit)
    expected = sorted((k for k in names if k.startswith("g/")), key=lambda k: k.encode())
    assert [k.name for k in keys] == expected
    assert all(page.cursor is None for page in pages if page.list_complete)


async def test_bad_cursor_is_refused(kv_store: KVStore) -> None:
    with pytest.raises(InvalidInput):
        await kv_store.list(cursor="%%%not-a-cursor")


# --- K6: counters ---------------------------------------------------------------------


async def test_concurrent_incr_counts_every_call_once(kv_store: KVStore) -> None:
    # The rate limiter counts a hit before judging it: 50 racing increments must give
    # 50 distinct results, so exactly as many callers see themselves over a limit.
    results = await asyncio.gather(*(kv_store.incr("rl:race", ttl=60) for _ in range(50)))
    assert sorted(results) == list(range(1, 51))
    undone = await asyncio.gather(*(kv_store.incr("rl:race", -1, ttl=60) for _ in range(20)))
    assert sorted(undone) == list(range(30, 50))
    assert await kv_store.get("rl:race") == b"30"


async def test_incr_counts_and_ttl_applies_on_creation(
    kv_store: KVStore, advance_time: Advance
) -> None:
    assert await kv_store.incr("rl:u1", ttl=60) == 1
    assert await kv_store.incr("rl:u1", 5, ttl=60) == 6
    assert await kv_store.incr("rl:u1", -2) == 4
    assert await kv_store.get("rl:u1") == b"4"
    assert (await kv_store.list("rl:")).keys[0].expiration == NOW + 60
    await advance_time(30)
    assert await kv_store.incr("rl:u1", ttl=60) == 5  # ttl not extended
    await advance_time(31)
    assert await kv_store.get("rl:u1") is None
    assert await kv_store.incr("rl:u1", ttl=60) == 1  # a new window
    await kv_store.put("plain", b"41")
    assert await kv_store.incr("plain") == 42
    await kv_store.put("word", b"forty-two")
    with pytest.raises(InvalidInput):
        await kv_store.incr("word")
    assert await kv_store.get("word") == b"forty-two"


async def test_incr_is_atomic_under_concurrency(kv_store: KVStore) -> None:
    results = await asyncio.gather(*(kv_store.incr("hits", ttl=3600) for _ in range(200)))
    assert sorted(results) == list(range(1, 201))
    assert await kv_store.get("hits") == b"200"


INCR_SCRIPT = r"""
import asyncio, sys
from asciihub.storage.kv import open_kv_store

async def main(url, count):
    store = await open_kv_store(url)
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(count):
        await store.incr("shared")
    await store.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def test_incr_is_atomic_across_two_processes(kv_backend: object) -> None:
    url = kv_backend.url  # type: ignore[attr-defined]
    count = 300
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", INCR_SCRIPT, url, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
    for proc in procs:  # release both at once
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    for proc in procs:
        assert await asyncio.to_thread(proc.wait) == 0
        proc.stdin.close()  # type: ignore[union-attr]
        proc.stdout.close()  # type: ignore[union-attr]
    store = kv_backend.store  # type: ignore[attr-defined]
    assert await store.get("shared") == str(2 * count).encode()


# --- durability (embedded backend) ----------------------------------------------------


async def test_sqlite_values_survive_reopen(tmp_path: pytest.TempPathFactory) -> None:
    url = f"sqlite://{tmp_path}/kv.sqlite3"
    store = await open_kv_store(url)
    await store.put("session:s1", b"alive", ttl=86_400, metadata={"user": "u1"})
    await store.incr("counter", 7)
    await store.close()
    reopened = await open_kv_store(url)
    assert await reopened.get_with_metadata("session:s1") == (b"alive", {"user": "u1"})
    assert await reopened.get("counter") == b"7"
    await reopened.close()


async def test_sqlite_purge_removes_expired_rows(tmp_path: pytest.TempPathFactory) -> None:
    from asciihub.storage.kv.sqlite import SqliteKVStore

    now = [float(NOW)]
    store = SqliteKVStore(f"{tmp_path}/kv.sqlite3", clock=lambda: now[0], purge_every=5)
    for n in range(4):
        await store.put(f"old{n}", b"v", ttl=1)
    await store.put("keep", b"v")
    assert await store.purge_expired() == 0
    now[0] += 2
    await store.put("trigger", b"v")  # fifth write... purge runs on every fifth
    assert await store.purge_expired() in (0, 4)
    rows = store._conn.execute("SELECT key FROM kv ORDER BY key").fetchall()
    assert [row[0] for row in rows] == ["keep", "trigger"]
    await store.close()


async def test_sqlite_read_copy_never_serves_another_writers_old_value(
    tmp_path: pytest.TempPathFactory,
) -> None:
    """Reads come from an in-process copy; any other connection's commit voids it."""
    import subprocess
    import sys

    url = f"sqlite://{tmp_path}/kv.sqlite3"
    reader, writer = await open_kv_store(url), await open_kv_store(url)
    await writer.put("ascii:a", b"one", metadata={"v": 1})
    for _ in range(3):  # the second and third reads come from the copy
        assert await reader.get_with_metadata("ascii:a") == (b"one", {"v": 1})
    await writer.put("ascii:a", b"two", metadata={"v": 2})
    assert await reader.get_with_metadata("ascii:a") == (b"two", {"v": 2})
    await writer.delete("ascii:a")
    assert await reader.get("ascii:a") is None
    await reader.put("ascii:b", b"mine")
    assert await reader.get("ascii:b") == b"mine"
    await reader.put("ascii:b", b"mine again")  # its own write drops its own copy
    assert await reader.get("ascii:b") == b"mine again"
    script = (
        "import asyncio, sys\n"
        "from asciihub.storage.kv import open_kv_store\n"
        "async def main():\n"
        "    store = await open_kv_store(sys.argv[1])\n"
        "    await store.put('ascii:b', b'from another process')\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", script, url], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert await reader.get("ascii:b") == b"from another process"
    await reader.close()
    await writer.close()


async def test_sqlite_read_copy_honours_expiry(tmp_path: pytest.TempPathFactory) -> None:
    from asciihub.storage.kv.sqlite import SqliteKVStore

    now = [float(NOW)]
    store = SqliteKVStore(f"{tmp_path}/kv.sqlite3", clock=lambda: now[0])
    await store.put("session:s", b"v", ttl=60)
    assert await store.get("session:s") == b"v"
    assert await store.get("session:s") == b"v"  # from the copy
    now[0] += 61
    assert await store.get("session:s") is None
    await store.close()


async def test_unreachable_redis_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = await open_kv_store(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(Unavailable) as caught:
        await store.get("k")
    assert caught.value.__cause__ is not None
    await store.close()


async def test_unknown_kv_url_scheme() -> None:
    with pytest.raises(ConfigError):
        await open_kv_store("memcached://x")


async def test_ping_and_purge_are_part_of_the_protocol(kv_store: KVStore) -> None:
    await kv_store.ping()
    assert await kv_store.purge_expired() >= 0
