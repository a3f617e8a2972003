"""Files made into a spooled temporary file, then streamed out, never whole in memory.

A renderer (an export format, the export-all ZIP writer) writes into a
``tempfile.SpooledTemporaryFile``: it stays in memory up to ``threshold`` bytes and
spills to a temporary file past that. :func:`spool` runs the writer and measures
the result (size, SHA-256) in one pass; :func:`file_chunks` then reads it back in
chunks for ``ObjectStore.put_stream`` or a local file, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import IO, BinaryIO

READ_BYTES = 1024 * 1024
DEFAULT_SPOOL_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Spooled:
    """A finished spooled file: its handle (at offset 0), size and hex SHA-256."""

    file: IO[bytes]
    size: int
    sha256: str


def measure(file: IO[bytes]) -> tuple[int, str]:
    """Size and hex SHA-256 of a whole file, read from its start; left at offset 0."""
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while block := file.read(READ_BYTES):
        digest.update(block)
        size += len(block)
    file.seek(0)
    return size, digest.hexdigest()


def spool(write: Callable[[BinaryIO], None], threshold: int) -> Spooled:
    """Run ``write(file)`` into a spooled temporary file and measure it; the caller closes
    ``Spooled.file`` (a failed ``write`` closes it here).

    Blocking: call it from a worker thread (``asyncio.to_thread``) for big files.
    """
    file = tempfile.SpooledTemporaryFile(max_size=threshold, mode="w+b")
    try:
        write(file)  # type: ignore[arg-type]
        size, sha256 = measure(file)
    except BaseException:
        file.close()
        raise
    return Spooled(file, size, sha256)


async def file_chunks(file: IO[bytes], *, chunk_bytes: int = READ_BYTES) -> AsyncIterator[bytes]:
    """The rest of ``file`` in chunks, each read in a worker thread."""
    while block := await asyncio.to_thread(file.read, chunk_bytes):
        yield block
