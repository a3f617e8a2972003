"""The object store binding (the R2 role): one narrow async interface, several backends.

Semantics follow Cloudflare R2 (see docs/bindings.md): read-after-write, whole objects
only (no partial writes are ever visible), lexicographic listing by UTF-8 bytes with an
opaque cursor and possibly short pages, conditional puts on etags.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class HttpMetadata:
    """Standard HTTP headers stored with an object (R2 ``httpMetadata``)."""

    content_type: str | None = None
    content_language: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    cache_control: str | None = None


@dataclass(frozen=True)
class ObjectInfo:
    """What ``head`` returns and every listed object carries (R2 ``R2Object``)."""

    key: str
    size: int
    etag: str
    """Hex MD5 of the body for single-part objects; opaque otherwise."""
    version: str
    """A new random id for every write."""
    uploaded: datetime
    http_metadata: HttpMetadata = field(default_factory=HttpMetadata)
    custom_metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def http_etag(self) -> str:
        """The etag quoted, as HTTP headers carry it."""
        return f'"{self.etag}"'


@dataclass(frozen=True)
class ByteRange:
    """A ranged read: ``offset``/``length``, or ``suffix`` (the last N bytes)."""

    offset: int | None = None
    length: int | None = None
    suffix: int | None = None


@dataclass(frozen=True)
class ObjectBody:
    """An object's info with its bytes (the requested range of them)."""

    info: ObjectInfo
    data: bytes
    range_start: int = 0
    """Offset in the whole object of ``data[0]``."""


@dataclass(frozen=True)
class ObjectPage:
    """One page of a listing; loop while ``truncated``, never on the count."""

    objects: Sequence[ObjectInfo]
    truncated: bool
    cursor: str | None
    delimited_prefixes: Sequence[str] = ()


@runtime_checkable
class ObjectStore(Protocol):
    """Keys are validated by every backend (see ``keys.validate_key``)."""

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        sha256: str | None = None,
    ) -> ObjectInfo:
        """Store ``data`` whole at ``key``.

        ``if_match`` (an etag) or ``if_none_match`` (an etag or ``"*"``) make the write
        conditional; a failed precondition raises ``PreconditionFailed`` and stores
        nothing. ``sha256`` (hex) is checked before the object becomes visible.
        """
        ...

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Store a large object from a stream of chunks (multipart on S3)."""
        ...

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectBody | None:
        """The object (or the asked range of it), or None if there is none."""
        ...

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's info without its body, or None."""
        ...

    async def delete(self, keys: str | Sequence[str]) -> None:
        """Delete one key or many; a missing key is not an error."""
        ...

    async def list(
        self,
        prefix: str = "",
        *,
        cursor: str | None = None,
        limit: int = 1000,
        delimiter: str | None = None,
    ) -> ObjectPage:
        """Keys under ``prefix`` in UTF-8 byte order, ``limit`` at most (1..1000)."""
        ...

    async def presign_get(self, key: str, *, expires_in: int) -> str | None:
        """A time-limited download URL, or None when the backend serves bytes itself."""
        ...

    def verify_presigned(self, key: str, expires: str, sig: str) -> None:
        """Raise ``Forbidden`` unless a link :meth:`presign_get` made is intact and live.

        Only for links the app serves itself (the file backend's ``/objects/...``); a
        store whose links point at itself (S3) refuses every one.
        """
        ...

    async def ping(self) -> None:
        """Answer when the store is reachable; raise ``DependencyDown`` when not."""
        ...

    async def sweep(self, *, older_than: float = 7 * 24 * 3600.0) -> int:
        """Remove what interrupted writes left behind (temp files, stale uploads); how many.

        Only what is older than ``older_than`` seconds goes (a write may be in flight).
        """
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...
