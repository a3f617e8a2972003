"""File-system steps of the file backend: durable temp files, renames, sweeping.

These paths live in the store's own directory (``{root}/.asciihub-store/``). Every
body is first written to ``tmp/`` (same file system as ``blobs/``), flushed, fsynced
and made read-only (write bits removed: the key-path view shares the inode, and an
in-place edit there must not change a committed body); only then is it renamed into
``blobs/`` and its directory fsynced. A temp file left by a crash is never visible and
is removed by :func:`sweep_temp_files`.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import time
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".part"
BLOB_FANOUT = 256


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside directory ``path`` durable."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def prepare_layout(root: Path) -> None:
    """Create ``root/tmp`` and the fan-out directories ``root/blobs/00`` .. ``ff``.

    ``root`` is the store's own directory; it and its parent are fsynced when created.
    """
    if not root.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        fsync_dir(root.parent)
    blobs = root / "blobs"
    (root / "tmp").mkdir(exist_ok=True)
    blobs.mkdir(exist_ok=True)
    created = False
    for index in range(BLOB_FANOUT):
        sub = blobs / f"{index:02x}"
        if not sub.is_dir():
            sub.mkdir(exist_ok=True)
            created = True
    if created:
        fsync_dir(blobs)
        fsync_dir(root)


def blob_name(version: str) -> str:
    """The path of a body under ``blobs/`` for a version id (hex)."""
    return f"{version[:2]}/{version}"


class TempFile:
    """A body being written to ``tmp/``: hashes as it goes, fsyncs on :meth:`finish`."""

    def __init__(self, tmp_dir: Path) -> None:
        self.path = tmp_dir / f"{secrets.token_hex(12)}{TEMP_SUFFIX}"
        self._handle: BinaryIO = self.path.open("xb")
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha256: hashlib._Hash | None = None
        self.size = 0

    def track_sha256(self) -> None:
        """Also compute a SHA-256 of everything written from now on."""
        self._sha256 = hashlib.sha256()

    def write(self, data: bytes) -> None:
        """Append ``data`` and feed the hashes."""
        self._handle.write(data)
        self._md5.update(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        self.size += len(data)

    def finish(self) -> None:
        """Flush, make read-only and fsync the file, then close it."""
        self._handle.flush()
        descriptor = self._handle.fileno()
        mode = stat.S_IMODE(os.fstat(descriptor).st_mode)
        os.fchmod(descriptor, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        os.fsync(descriptor)
        self._handle.close()

    @property
    def md5_hex(self) -> str:
        """Hex MD5 of the bytes written so far."""
        return self._md5.hexdigest()

    @property
    def sha256_hex(self) -> str | None:
        """Hex SHA-256 of the bytes written, when tracked."""
        return None if self._sha256 is None else self._sha256.hexdigest()

    def discard(self) -> None:
        """Close and remove the file (after a failure or a failed precondition)."""
        if not self._handle.closed:
            self._handle.close()
        self.path.unlink(missing_ok=True)


def sweep_temp_files(tmp_dir: Path, *, older_than: float, now: float | None = None) -> int:
    """Remove temp files not modified for ``older_than`` seconds; return how many."""
    cutoff = (time.time() if now is None else now) - older_than
    removed = 0
    for entry in os.scandir(tmp_dir):
        if not entry.name.endswith(TEMP_SUFFIX):
            continue
        try:
            if entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def iter_blob_names(blobs_dir: Path) -> list[str]:
    """Every ``xx/version`` body name present under ``blobs/``."""
    names: list[str] = []
    for sub in sorted(os.scandir(blobs_dir), key=lambda entry: entry.name):
        if sub.is_dir():
            names.extend(f"{sub.name}/{entry.name}" for entry in os.scandir(sub.path))
    return names
