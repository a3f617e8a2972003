"""Streaming stored objects to HTTP clients: conditional and ranged downloads.

One plan serves every download route (the file backend's signed ``/objects/{key}``
links, export files, export-all archives): :func:`plan_download` reads ``If-None-Match``
(304 when the entity tag matches), ``If-Range`` and ``Range`` (one range of bytes: 206
with ``Content-Range``; a range past the end: 416 with ``bytes */SIZE``; several
ranges or a malformed header: the whole object, 200, as RFC 9110 §14.2 allows). The
bytes then come in ranged reads of ``CHUNK_BYTES``, so a download never holds the
whole object in memory.

``presign_get`` of the file store gives ``/objects/{key}?expires=..&sig=..`` (an HMAC
over key and expiry). :meth:`DownloadService.open` checks the signature and the
expiry (a JSON 403 ``signature_mismatch`` or ``link_expired`` otherwise).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from asciihub.errors import NotFound
from asciihub.services.etags import none_match, parse_tags
from asciihub.storage.objects.protocol import ByteRange, ObjectInfo, ObjectStore

CHUNK_BYTES = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class DownloadPlan:
    """What to answer: the status, the bytes ``start..end`` (inclusive) of ``size``."""

    status: int
    size: int
    start: int = 0
    end: int = -1

    @property
    def length(self) -> int:
        """How many bytes the body carries."""
        return max(0, self.end - self.start + 1) if self.status in (200, 206) else 0

    @property
    def content_range(self) -> str | None:
        """The ``Content-Range`` header of a 206 or 416 answer."""
        if self.status == 206:
            return f"bytes {self.start}-{self.end}/{self.size}"
        if self.status == 416:
            return f"bytes */{self.size}"
        return None


def _single_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """``(start, end)`` of a one-range header; None to ignore it; False if unsatisfiable."""
    if "," in header:
        return None  # several ranges: the whole object answers them all
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            return False
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # syntactically invalid: ignored
    if start >= size:
        return False
    return start, min(end, size - 1)


def plan_download(
    etag: str,
    size: int,
    *,
    range_header: str | None = None,
    if_none_match: str | None = None,
    if_range: str | None = None,
) -> DownloadPlan:
    """The answer to a GET of an object with strong entity tag ``etag`` and ``size`` bytes."""
    if none_match(if_none_match, etag):
        return DownloadPlan(304, size)
    whole = DownloadPlan(200, size, 0, size - 1)
    if not range_header:
        return whole
    if if_range is not None and etag not in parse_tags(if_range):
        return whole  # the client's copy is another version: send it all
    found = _single_range(range_header, size)
    if found is None:
        return whole
    if found is False:
        return DownloadPlan(416, size)
    assert isinstance(found, tuple)
    return DownloadPlan(206, size, found[0], found[1])


async def object_chunks(
    objects: ObjectStore, key: str, start: int, length: int
) -> AsyncIterator[bytes]:
    """``length`` bytes of ``key`` from ``start``, in ranged reads of ``CHUNK_BYTES``."""
    offset, remaining = start, length
    while remaining > 0:
        step = min(CHUNK_BYTES, remaining)
        body = await objects.get(key, byte_range=ByteRange(offset=offset, length=step))
        if body is None or not body.data:
            return  # deleted meanwhile: the answer ends short (its length tells)
        yield body.data
        offset += len(body.data)
        remaining -= len(body.data)


@dataclass(frozen=True)
class SignedDownload:
    """An object a valid link opens: its info and a file name."""

    info: ObjectInfo
    filename: str


def _gone() -> NotFound:
    message = "the linked object no longer exists; ask for a new link"
    return NotFound(message, code="object_not_found")


class DownloadService:
    """Opens signed object links."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    async def open(self, key: str, expires: str, sig: str) -> SignedDownload:
        """The object ``key`` if the link is intact and live; 403 or 404 otherwise."""
        self.objects.verify_presigned(key, expires, sig)
        info = await self.objects.head(key)
        if info is None:
            raise _gone()
        filename = _UNSAFE.sub("_", key.rsplit("/", 1)[-1]) or "download"
        return SignedDownload(info, filename)
