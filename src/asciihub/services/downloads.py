"""Signed object links the app serves itself: the file backend's presigned downloads.

``presign_get`` of the file store gives ``/objects/{key}?expires=..&sig=..`` (an HMAC
over key and expiry). :meth:`DownloadService.open` checks the signature and the
expiry (a JSON 403 ``signature_mismatch`` or ``link_expired`` otherwise), then the
route streams the object in ranged reads of ``CHUNK_BYTES``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from asciihub.errors import NotFound
from asciihub.storage.objects.protocol import ByteRange, ObjectInfo, ObjectStore

CHUNK_BYTES = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class SignedDownload:
    """An object a valid link opens: its info, a file name and its bytes in chunks."""

    info: ObjectInfo
    filename: str
    chunks: AsyncIterator[bytes]


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
        return SignedDownload(info, filename, self._chunks(key, info.size))

    async def _chunks(self, key: str, size: int) -> AsyncIterator[bytes]:
        offset = 0
        while offset < size:
            length = min(CHUNK_BYTES, size - offset)
            body = await self.objects.get(key, byte_range=ByteRange(offset=offset, length=length))
            if body is None or not body.data:
                return  # deleted meanwhile: the answer ends short (its length tells)
            yield body.data
            offset += len(body.data)
