"""Reading untrusted ZIP archives: every entry checked before a byte is unpacked.

Nothing is ever extracted to disk: the entries an import wants are read into memory,
counted while they stream, and handed to the parsers. Refused with a 4xx error
(``InvalidInput`` 400, ``TooLarge`` 413), before anything is stored:

* names that climb or root (``../x``, ``/abs``, ``C:\\x``, ``..\\x``, a NUL, look-alike
  dots that NFKC folds to ``..``), and two entries with the same name (compared after
  NFKC and case folding);
* links (symbolic links, or any Unix mode that is not a file or a directory);
* encrypted entries, and compression methods other than stored and deflated;
* more than ``max_entries`` entries; entries whose declared sizes sum past
  ``max_unpacked_bytes``; an entry whose declared size is more than ``max_ratio`` times
  its compressed size (once it is above 1 MiB); entries that overlap in the file;
* an entry that unpacks to more bytes than it declared, or whose bytes fail their
  CRC (sizes that lie), counted while reading.
"""

from __future__ import annotations

import io
import stat
import unicodedata
import zipfile
from dataclasses import dataclass

from asciihub.errors import InvalidInput, TooLarge

RATIO_FLOOR = 1024 * 1024  # entries smaller than this may compress as well as they like
_LOCAL_HEADER = 30
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on one archive (filled from Settings)."""

    max_entries: int = 1000
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_ratio: int = 100


def _refuse(message: str, code: str = "unsafe_archive") -> InvalidInput:
    return InvalidInput(message, code=code)


def check_name(name: str) -> str:
    """The entry name, or InvalidInput if it could land outside the archive's own place."""
    folded = unicodedata.normalize("NFKC", name)
    if "\x00" in folded or "\\" in folded:
        message = f"archive entry {name!r} has a backslash or NUL in its name"
        raise _refuse(message)
    if folded.startswith("/") or (len(folded) > 1 and folded[1] == ":"):
        message = f"archive entry {name!r} has an absolute path"
        raise _refuse(message)
    if any(part in ("..", ".") for part in folded.rstrip("/").split("/")):
        message = f"archive entry {name!r} climbs out of the archive ('..' in its path)"
        raise _refuse(message)
    return name


def _check_kind(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        message = f"archive entry {info.filename!r} is encrypted; asciihub imports plain archives"
        raise _refuse(message, "encrypted_entry")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        message = f"archive entry {info.filename!r} is a link or a special file, not a file"
        raise _refuse(message, "link_entry")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        message = f"archive entry {info.filename!r} uses a compression asciihub does not read"
        raise _refuse(message, "unsupported_compression")


def _check_sizes(infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    total = 0
    for info in infos:
        total += info.file_size
        if total > limits.max_unpacked_bytes:
            message = (
                f"the archive unpacks to more than {limits.max_unpacked_bytes} bytes "
                "(import_max_unpacked_bytes)"
            )
            raise TooLarge(message, code="archive_too_large")
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            message = (
                f"archive entry {info.filename!r} unpacks to more than {limits.max_ratio} "
                "times its packed size (import_max_ratio): refused as a zip bomb"
            )
            raise TooLarge(message, code="zip_bomb")
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for first, second in zip(ordered, ordered[1:], strict=False):
        end = first.header_offset + _LOCAL_HEADER + len(first.orig_filename.encode())
        if end + first.compress_size > second.header_offset:
            message = f"archive entries {first.filename!r} and {second.filename!r} overlap"
            raise _refuse(message, "overlapping_entries")


class SafeZip:
    """An archive whose directory passed every check; read entries with :meth:`read`."""

    def __init__(self, data: bytes, limits: ArchiveLimits) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            message = f"the file is not a readable ZIP archive ({exc})"
            raise _refuse(message, "invalid_archive") from None
        if len(infos) > limits.max_entries:
            message = (
                f"the archive has {len(infos)} entries; the limit is {limits.max_entries} "
                "(import_max_entries)"
            )
            raise TooLarge(message, code="archive_too_many_entries")
        seen: set[str] = set()
        for info in infos:
            check_name(info.filename)
            _check_kind(info)
            folded = unicodedata.normalize("NFKC", info.filename).casefold()
            if folded in seen:
                message = f"the archive holds two entries named {info.filename!r}"
                raise _refuse(message, "duplicate_entry")
            seen.add(folded)
        _check_sizes(infos, limits)
        self.limits = limits
        self.files = [info for info in infos if not info.is_dir()]
        self._read = 0

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """The bytes of one entry, counted against its declared size and the total cap."""
        out = bytearray()
        try:
            with self._zip.open(info) as handle:
                while chunk := handle.read(_CHUNK):
                    out.extend(chunk)
                    self._read += len(chunk)
                    if len(out) > info.file_size or self._read > self.limits.max_unpacked_bytes:
                        message = f"archive entry {info.filename!r} unpacks past its declared size"
                        raise TooLarge(message, code="archive_too_large")
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            message = f"archive entry {info.filename!r} is damaged ({exc})"
            raise _refuse(message, "invalid_archive") from None
        return bytes(out)
