"""The scale-out KV store on Redis (``redis.asyncio``).

Layout under a namespace ``ns`` (so that deployments and tests can share a Redis):

* ``{ns}:kv:{name}`` is a hash with fields ``v`` (value), ``m`` (metadata JSON) and
  ``e`` (absolute expiry, for ``list``). Value and metadata live in one key, so a
  read of both is consistent, and the hash carries the native TTL (``EXPIRE``).
* ``{ns}:kv-index`` is a sorted set of every name, all with score 0, so that
  ``ZRANGEBYLEX`` walks names in byte order (``SCAN`` has no order). A name whose
  hash has expired stays in the index until a listing walks over it: the listing
  script checks each name and drops dead ones in the same atomic step. Such a page
  can therefore be short or even empty while ``list_complete`` is false, exactly as
  Workers KV allows.

Writes run as ``MULTI`` transactions or Lua scripts, so the hash and the index never
disagree about a live key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from asciihub.errors import DependencyDown, InvalidInput, Unavailable
from asciihub.storage.kv.keys import (
    HEALTH_PROBE_KEY,
    decode_cursor,
    decode_metadata,
    encode_cursor,
    encode_metadata,
    encode_value,
    expiry_of,
    key_upper_bound,
    validate_amount,
    validate_key,
    validate_limit,
    validate_many,
    validate_prefix,
)
from asciihub.storage.kv.protocol import JsonValue, KVKey, KVPage

DEFAULT_NAMESPACE = "asciihub"

_INCR_SCRIPT = """
local created = redis.call('EXISTS', KEYS[1]) == 0
local n = redis.call('HINCRBY', KEYS[1], 'v', ARGV[1])
if created then
  if ARGV[2] ~= '' then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    redis.call('HSET', KEYS[1], 'e', ARGV[3])
  end
  redis.call('ZADD', KEYS[2], 0, ARGV[4])
end
return n
"""

_LIST_SCRIPT = """
local names = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, ARGV[3])
local live = {}
for _, name in ipairs(names) do
  local key = ARGV[4] .. name
  if redis.call('EXISTS', key) == 1 then
    local fields = redis.call('HMGET', key, 'm', 'e')
    live[#live + 1] = name
    live[#live + 1] = fields[1] or ''
    live[#live + 1] = fields[2] or ''
  else
    redis.call('ZREM', KEYS[1], name)
  end
end
return {names, live}
"""


@contextmanager
def _redis_errors(what: str) -> Iterator[None]:
    """Turn redis-py errors into asciihub errors at the edge, chaining the cause."""
    try:
        yield
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        message = f"{what}: cannot reach Redis ({type(exc).__name__}); try again later"
        raise DependencyDown(message, retry_after=5, code="kv_unreachable") from exc
    except redis_errors.RedisError as exc:
        message = f"{what}: Redis answered an error ({exc}); try again later"
        raise DependencyDown(message, retry_after=5, code="kv_error") from exc


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


class RedisKVStore:
    """KV on Redis with native TTLs and an ordered per-namespace name index."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._clock = clock
        self.namespace = namespace
        self._key_prefix = f"{namespace}:kv:"
        self._index = f"{namespace}:kv-index"
        self._incr = client.register_script(_INCR_SCRIPT)
        self._list = client.register_script(_LIST_SCRIPT)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        clock: Callable[[], float] = time.time,
        max_connections: int = 64,
    ) -> RedisKVStore:
        """A store on ``redis://host:port/db`` (no connection is made until first use).

        At most ``max_connections`` are open at once; further callers wait for one
        (up to 10 s) instead of failing. A command that meets a dead connection (one
        pooled before Redis restarted) is sent once more on a new connection, so the
        first use of each stale connection does not answer 503 after Redis is back.
        """
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=10,
            socket_connect_timeout=5,
            socket_timeout=10,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 1),
        )
        return cls(aioredis.Redis.from_pool(pool), namespace=namespace, clock=clock)

    def _key(self, name: str) -> str:
        return self._key_prefix + name

    # --- reads -------------------------------------------------------------------

    async def ping(self) -> None:
        """Read the health probe key (absent): the store answers or raises."""
        await self.get(HEALTH_PROBE_KEY)

    async def get(self, key: str) -> bytes | None:
        """The value (``HGET``), or None when missing or expired."""
        validate_key(key)
        with _redis_errors("KV get"):
            value = await self._redis.hget(self._key(key), "v")
        return None if value is None else _as_bytes(value)

    async def get_with_metadata(self, key: str) -> tuple[bytes | None, JsonValue | None]:
        """Value and metadata from one ``HMGET`` of the same hash."""
        validate_key(key)
        with _redis_errors("KV get"):
            value, metadata = await self._redis.hmget(self._key(key), ["v", "m"])
        if value is None:
            return None, None
        return _as_bytes(value), decode_metadata(metadata)

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes | None]:
        """Up to 100 keys in one pipelined round trip."""
        names = validate_many(keys)
        if not names:
            return {}
        with _redis_errors("KV get_many"):
            async with self._redis.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.hget(self._key(name), "v")
                values = await pipe.execute()
        return {
            name: None if value is None else _as_bytes(value)
            for name, value in zip(names, values, strict=True)
        }

    async def list(
        self, prefix: str = "", *, cursor: str | None = None, limit: int = 1000
    ) -> KVPage:
        """Names from the index in byte order; dead names are dropped as they are met."""
        validate_prefix(prefix)
        validate_limit(limit)
        after = decode_cursor(cursor) if cursor else None
        low = f"({after}" if after is not None and after >= prefix else f"[{prefix}"
        upper = key_upper_bound(prefix)
        high = "+" if upper is None else f"({upper}"
        with _redis_errors("KV list"):
            scanned, live = await self._list(
                keys=[self._index], args=[low, high, limit + 1, self._key_prefix]
            )
        complete = len(scanned) <= limit
        boundary: bytes = b"" if complete else scanned[limit - 1]
        keys: list[KVKey] = []
        for start in range(0, len(live), 3):
            raw_name, metadata, expiry = live[start : start + 3]
            if not complete and raw_name > boundary:
                break  # the extra name fetched only to learn whether more exist
            keys.append(
                KVKey(
                    name=raw_name.decode(),
                    expiration=int(expiry) if expiry else None,
                    metadata=decode_metadata(metadata) if metadata else None,
                )
            )
        return KVPage(
            keys=keys,
            list_complete=complete,
            cursor=None if complete else encode_cursor(boundary.decode()),
        )

    # --- writes ------------------------------------------------------------------

    async def put(
        self,
        key: str,
        value: bytes | str,
        *,
        ttl: int | None = None,
        expiration: int | None = None,
        metadata: JsonValue | None = None,
    ) -> None:
        """Replace the hash and index the name in one ``MULTI``; TTL is native."""
        validate_key(key)
        data = encode_value(value)
        now = self._clock()
        expiry = expiry_of(ttl, expiration, now)
        meta = encode_metadata(metadata)
        fields: dict[str, bytes | str | int] = {"v": data}
        if meta is not None:
            fields["m"] = meta
        if expiry is not None:
            fields["e"] = expiry
        name = self._key(key)
        with _redis_errors("KV put"):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(name)
                pipe.hset(name, mapping=fields)  # type: ignore[arg-type]
                if ttl is not None:
                    pipe.expire(name, ttl)
                elif expiry is not None:
                    pipe.pexpire(name, max(1, int((expiry - now) * 1000)))
                pipe.zadd(self._index, {key: 0})
                await pipe.execute()

    async def delete(self, key: str) -> None:
        """Remove the hash and its index entry in one ``MULTI``."""
        validate_key(key)
        with _redis_errors("KV delete"):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key(key))
                pipe.zrem(self._index, key)
                await pipe.execute()

    async def incr(self, key: str, amount: int = 1, *, ttl: int | None = None) -> int:
        """``HINCRBY`` in a Lua script that sets the TTL only when it creates the key."""
        validate_key(key)
        validate_amount(amount)
        expiry = expiry_of(ttl, None, self._clock())
        try:
            with _redis_errors("KV incr"):
                result = await self._incr(
                    keys=[self._key(key), self._index],
                    args=[amount, ttl or "", expiry or "", key],
                )
        except Unavailable as exc:
            if "not an integer" not in str(exc.__cause__):
                raise
            message = f"KV key {key!r} holds a value that is not an integer; incr needs one"
            raise InvalidInput(message, code="not_a_counter") from exc.__cause__
        return int(result)

    async def purge_expired(self) -> int:
        """Nothing to do: Redis drops expired keys itself."""
        return 0

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
