"""Backend fixtures for the binding contract suites.

Each binding has one parametrized fixture; a new backend adds one param here and the
whole suite runs against it. Redis and S3 params use the real servers of
``tests/conftest.py`` (skipped on a laptop without them, failed under ``CI=true``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from asciihub.storage.kv import KVStore, open_kv_store
from asciihub.storage.objects import ObjectStore, open_object_store

OBJECT_BACKENDS = ["local", "s3"]
KV_BACKENDS = ["sqlite", "redis"]

START = 1_800_000_000.0


class FakeClock:
    """An epoch-seconds clock that moves only when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- object store ------------------------------------------------------------------


@pytest.fixture(params=OBJECT_BACKENDS)
def object_backend(request: pytest.FixtureRequest) -> str:
    """The name of the object store backend under test."""
    return str(request.param)


@pytest.fixture
def object_url(object_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty location for the backend: a directory or a new bucket."""
    if object_backend == "local":
        return f"file://{tmp_path / 'objects'}"
    request.getfixturevalue("s3_env")
    return f"s3://test-{uuid.uuid4().hex[:16]}"


OpenObjects = Callable[..., Awaitable[ObjectStore]]


@pytest.fixture
async def open_objects(object_url: str) -> AsyncIterator[OpenObjects]:
    """Open (another) store on the same location, with options; all closed at the end."""
    opened: list[ObjectStore] = []

    async def opener(**options: Any) -> ObjectStore:
        store = await open_object_store(object_url, create_bucket=True, **options)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        await store.close()


@pytest.fixture
async def object_store(open_objects: OpenObjects) -> ObjectStore:
    """An empty object store of each backend."""
    return await open_objects()


# --- KV ------------------------------------------------------------------------------

_ADVANCE_REDIS = """
local names = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, name in ipairs(names) do
  local key = ARGV[1] .. name
  local left = redis.call('PTTL', key)
  if left > 0 then
    if left <= tonumber(ARGV[2]) then
      redis.call('PEXPIREAT', key, 1)
    else
      redis.call('PEXPIRE', key, left - tonumber(ARGV[2]))
    end
  end
end
return #names
"""


@dataclass
class KVBackend:
    """A KV store under test and a way to move its time forward."""

    name: str
    store: KVStore
    clock: FakeClock
    url: str
    advance: Callable[[float], Awaitable[None]]


@pytest.fixture(params=KV_BACKENDS)
async def kv_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KVBackend]:
    """Each KV backend with a fake clock; ``advance(s)`` also ages Redis TTLs by ``s``."""
    clock = FakeClock()
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'kv.sqlite3'}"
        store = await open_kv_store(url, clock=clock)

        async def advance(seconds: float) -> None:
            clock.now += seconds

    else:
        redis_url = request.getfixturevalue("redis_url")
        namespace = f"t{uuid.uuid4().hex[:8]}"
        url = f"{redis_url}?namespace={namespace}"
        store = await open_kv_store(url, clock=clock)
        import redis.asyncio as aioredis

        admin = aioredis.Redis.from_url(redis_url)

        async def advance(seconds: float) -> None:
            clock.now += seconds
            await admin.eval(
                _ADVANCE_REDIS, 1, f"{namespace}:kv-index", f"{namespace}:kv:", int(seconds * 1000)
            )

    backend = KVBackend(str(request.param), store, clock, url, advance)
    yield backend
    await store.close()
    if request.param == "redis":
        await admin.aclose()


@pytest.fixture
def kv_store(kv_backend: KVBackend) -> KVStore:
    """An empty KV store of each backend."""
    return kv_backend.store


@pytest.fixture
def advance_time(kv_backend: KVBackend) -> Callable[[float], Awaitable[None]]:
    """Move the store's clock (and Redis TTLs) forward by some seconds."""
    return kv_backend.advance


# --- realtime rooms -------------------------------------------------------------------

ROOM_BACKENDS = ["sqlite", "redis"]


@dataclass
class RoomBackend:
    """A room backend under test: how to open hubs on it and move presence time."""

    name: str
    url: str
    clock: FakeClock
    open: Callable[[], Awaitable[Any]]


@pytest.fixture(params=ROOM_BACKENDS)
async def room_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[RoomBackend]:
    """Each room backend; ``open()`` gives another hub on the same rooms (a process)."""
    from asciihub.realtime import open_room_hub

    clock = FakeClock()
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'rooms.sqlite3'}"
    else:
        url = f"{request.getfixturevalue('redis_url')}?namespace=r{uuid.uuid4().hex[:8]}"
    opened: list[Any] = []

    async def opener() -> Any:
        hub = await open_room_hub(url, clock=clock)
        opened.append(hub)
        return hub

    yield RoomBackend(str(request.param), url, clock, opener)
    for hub in opened:
        await hub.close()
