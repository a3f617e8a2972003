"""The KV binding (the KV role: cache, sessions, counters, share tokens).

Semantics follow Cloudflare Workers KV (see docs/bindings.md) with one deliberate
difference: any TTL of at least one second is accepted. An expired key is invisible
to ``get`` and ``list`` at once, before any sweeper removes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

JsonValue = Any


@dataclass(frozen=True)
class KVKey:
    """One listed key: its name, absolute expiry (epoch seconds) and metadata."""

    name: str
    expiration: int | None = None
    metadata: JsonValue | None = None


@dataclass(frozen=True)
class KVPage:
    """One page of a listing in UTF-8 byte order; loop until ``list_complete``."""

    keys: Sequence[KVKey]
    list_complete: bool
    cursor: str | None


@runtime_checkable
class KVStore(Protocol):
    """Keys: 1..512 bytes, not ``.`` or ``..``; values up to 25 MiB; metadata ≤ 1 KiB."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired."""
        ...

    async def get_with_metadata(self, key: str) -> tuple[bytes | None, JsonValue | None]:
        """The value and its metadata (both None when missing)."""
        ...

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes | None]:
        """Up to 100 keys at once; missing ones map to None."""
        ...

    async def put(
        self,
        key: str,
        value: bytes | str,
        *,
        ttl: int | None = None,
        expiration: int | None = None,
        metadata: JsonValue | None = None,
    ) -> None:
        """Store ``value``; ``ttl`` seconds from now or absolute ``expiration`` (epoch s)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        ...

    async def list(
        self, prefix: str = "", *, cursor: str | None = None, limit: int = 1000
    ) -> KVPage:
        """Live keys under ``prefix`` in UTF-8 byte order, ``limit`` at most (1..1000)."""
        ...

    async def incr(self, key: str, amount: int = 1, *, ttl: int | None = None) -> int:
        """Atomically add ``amount`` to an integer counter; ``ttl`` applies on creation."""
        ...

    async def ping(self) -> None:
        """Answer when the store is reachable; raise ``DependencyDown`` when not."""
        ...

    async def purge_expired(self) -> int:
        """Delete entries past their TTL that the backend does not drop itself; how many."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...
