"""Importing files from other tools (and from asciihub itself) as new private artworks.

What is read (the kind comes from the file name's extension, else from its bytes):

* ``cast``: ``.cast`` asciicast v2 or v3; one artwork, a frame per screen with its
  timing and colours;
* ``text``: ``.txt``, ``.asc``, ``.ans``, ``.nfo`` (UTF-8 or CP437, SAUCE stripped);
  one artwork (frames split on form-feed lines);
* ``json``: ``.json``, an asciihub artwork document; one artwork;
* ``zip``: ``.zip``, an asciihub export bundle or export-all archive; one artwork per
  ``*.json`` document in it.

An import never takes ownership, visibility, share links, tokens or counts from the
file: every artwork it makes belongs to the importer and is ``private``. Every
document goes through the same checks and limits as ``POST /api/artworks`` (frames,
width, height, characters) before the first artwork is stored. Archives are read by
:class:`~asciihub.services.archives.SafeZip`; nothing is written anywhere but the new
artworks' own keys.
"""

from __future__ import annotations

import base64
import logging
import posixpath
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from asciihub.engine.ansi_import import read_text_art
from asciihub.engine.cast_import import read_cast
from asciihub.engine.document import ArtworkDocument, DocumentLimits, build_document, parse_document
from asciihub.errors import AsciihubError, InvalidInput, TooLarge
from asciihub.services.archives import ArchiveLimits, SafeZip
from asciihub.services.ids import new_id
from asciihub.services.jobs import JobService
from asciihub.services.principals import Principal, writer_id
from asciihub.storage.objects.keys import media_key
from asciihub.storage.objects.protocol import HttpMetadata, ObjectStore

log = logging.getLogger(__name__)

IMPORT_KIND = "import"
KINDS = ("cast", "text", "json", "zip")
EXTENSIONS = {
    ".cast": "cast",
    ".txt": "text",
    ".asc": "text",
    ".ans": "text",
    ".nfo": "text",
    ".json": "json",
    ".zip": "zip",
}
MAX_TITLE = 100


@dataclass(frozen=True)
class ImportLimits:
    """Caps on imports (filled from Settings)."""

    max_bytes: int = 20 * 1024 * 1024
    archive: ArchiveLimits = ArchiveLimits()
    idle_time_limit: float = 3.0
    document: DocumentLimits = DocumentLimits()


def kind_of(filename: str, head: bytes) -> str:
    """The import kind of a file, from its extension or else its first bytes."""
    extension = posixpath.splitext(filename.lower())[1]
    if extension in EXTENSIONS:
        return EXTENSIONS[extension]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    stripped = head.lstrip()
    if stripped.startswith(b'{"version"') or b'"version": 2' in head[:200]:
        return "cast"
    if stripped.startswith(b"{") and b"asciihub.artwork" in head[:4096]:
        return "json"
    return "text"


def _title(filename: str, given: str | None) -> str:
    base = posixpath.basename(filename.replace("\\", "/"))
    stem = posixpath.splitext(base)[0]
    return (given or stem or "Imported")[:MAX_TITLE]


def _payload(document: ArtworkDocument, title: str) -> dict[str, Any]:
    data = document.to_json()
    return {
        "title": title,
        "visibility": "private",
        "fps": data["fps"],
        "width": data["width"],
        "height": data["height"],
        "frames": data["frames"],
    }


def _frames(items: Sequence[tuple[str, int | None, bytes | None]]) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    for text, duration, colors in items:
        frame: dict[str, Any] = {"text": text}
        if duration is not None:
            frame["duration_ms"] = duration
        if colors is not None:
            frame["colors"] = base64.b64encode(colors).decode("ascii")
        frames.append(frame)
    return frames


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        message = f"the {what} is not UTF-8 text"
        raise InvalidInput(message, code="invalid_encoding") from None


def _document_json(data: bytes, limits: DocumentLimits, where: str) -> ArtworkDocument:
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        message = f"{where} is not valid JSON"
        raise InvalidInput(message, code="invalid_document") from None
    return parse_document(raw, limits=limits)


class ImportParser:
    """Turns one file's bytes into checked ``POST /api/artworks`` payloads (no I/O)."""

    def __init__(self, limits: ImportLimits) -> None:
        self.limits = limits

    def parse(
        self, filename: str, data: bytes, *, title: str | None = None
    ) -> list[dict[str, Any]]:
        """The payloads of the artworks ``data`` makes; InvalidInput/TooLarge if none."""
        if len(data) > self.limits.max_bytes:
            message = (
                f"the file is {len(data)} bytes; the limit is {self.limits.max_bytes} "
                "(import_max_bytes)"
            )
            raise TooLarge(message, code="import_too_large")
        kind = kind_of(filename, data[:4096])
        doc_limits = self.limits.document
        if kind == "zip":
            return self._zip(data, filename, title)
        if kind == "json":
            document = _document_json(data, doc_limits, "the artwork document")
            return [_payload(document, _title(filename, title))]
        if kind == "cast":
            recording = read_cast(
                _decode(data, "recording"),
                limits=doc_limits,
                idle_limit=self.limits.idle_time_limit,
            )
            items = [(f.text, f.duration_ms, f.colors) for f in recording.frames]
            document = build_document(
                _frames(items), width=recording.width, height=recording.height, limits=doc_limits
            )
            return [_payload(document, _title(filename, title or recording.title))]
        art = read_text_art(data, limits=doc_limits)
        document = build_document(
            _frames([(text, None, colors) for text, colors in art.frames]),
            width=art.width,
            limits=doc_limits,
        )
        return [_payload(document, _title(filename, title or art.title))]

    def precheck(self, filename: str, data: bytes) -> str:
        """The file's kind, after the checks that need no parsing (size, archive directory)."""
        if not data:
            message = "the file is empty"
            raise InvalidInput(message, code="empty_file")
        kind = kind_of(filename, data[:4096])
        if kind == "zip":
            SafeZip(data, self.limits.archive)
        return kind

    def _zip(self, data: bytes, filename: str, title: str | None) -> list[dict[str, Any]]:
        archive = SafeZip(data, self.limits.archive)
        titles = self._titles(archive)
        payloads: list[dict[str, Any]] = []
        for info in archive.files:
            if not info.filename.lower().endswith(".json"):
                continue
            body = archive.read(info)
            if b"asciihub.artwork" not in body[:4096]:
                continue  # a manifest or other JSON: not a document
            document = _document_json(body, self.limits.document, f"entry {info.filename!r}")
            folder = posixpath.dirname(info.filename)
            name = titles.get(folder) or (folder and posixpath.basename(folder)) or filename
            payloads.append(_payload(document, _title(str(name), title)))
        if not payloads:
            message = "the archive holds no asciihub artwork document (*.json)"
            raise InvalidInput(message, code="nothing_to_import")
        return payloads

    def _titles(self, archive: SafeZip) -> dict[str, str]:
        """Titles by folder, from ``artwork.cast`` headers and ``artwork-info.json`` files."""
        titles: dict[str, str] = {}
        for info in archive.files:
            base = posixpath.basename(info.filename)
            if base not in ("artwork.cast", "artwork-info.json") or info.file_size > 1 << 20:
                continue
            body = archive.read(info)
            first = body.split(b"\n", 1)[0]
            try:
                header = orjson.loads(first if base.endswith(".cast") else body)
            except orjson.JSONDecodeError:
                continue
            value = header.get("title") if isinstance(header, dict) else None
            if isinstance(value, str) and value.strip():
                titles[posixpath.dirname(info.filename)] = value
        return titles


class ImportService:
    """Imports now (CLI) or through the queue (``POST /api/import``)."""

    def __init__(
        self, *, artworks: Any, jobs: JobService, objects: ObjectStore, limits: ImportLimits
    ) -> None:
        self.artworks = artworks
        self.jobs = jobs
        self.objects = objects
        self.limits = limits
        self.parser = ImportParser(limits)

    async def import_now(
        self, principal: Principal, filename: str, data: bytes, *, title: str | None = None
    ) -> list[dict[str, Any]]:
        """Make the file's artworks at once; their JSON."""
        writer_id(principal, "import artworks")
        payloads = self.parser.parse(filename, data, title=title)
        return [await self.artworks.create(principal, payload) for payload in payloads]

    async def submit(
        self,
        principal: Principal,
        chunks: AsyncIterator[bytes],
        *,
        filename: str,
        title: str | None = None,
    ) -> dict[str, Any]:
        """Check and store the upload at ``media/{user_id}/{id}``, queue its import.

        The cheap checks run before anything is stored, so they answer 4xx at once:
        the size and, for an archive, every entry of its directory (names, links,
        encryption, counts, declared sizes). Parsing the content is the job's work; a
        file it refuses fails the job with the same error code.
        """
        user_id = writer_id(principal, "import artworks")
        key = media_key(user_id, new_id())
        limit = self.limits.max_bytes
        data = bytearray()
        async for chunk in chunks:
            data.extend(chunk)
            if len(data) > limit:
                message = f"the file is over {limit} bytes (import_max_bytes)"
                raise TooLarge(message, code="import_too_large")
        self.parser.precheck(filename, bytes(data))
        info = await self.objects.put(
            key,
            bytes(data),
            http_metadata=HttpMetadata(content_type="application/octet-stream"),
            custom_metadata={"user_id": user_id, "kind": "import"},
        )
        params: dict[str, Any] = {
            "media_key": key,
            "media_size": info.size,
            "filename": filename[:200],
            "title": title[:MAX_TITLE] if title else None,
            "visibility": "private",
        }
        if principal.token_id:
            params["token_id"] = principal.token_id
        try:
            return await self.jobs.submit(user_id, IMPORT_KIND, params)
        except AsciihubError:
            await self.objects.delete(key)
            raise
