"""Backups of a whole deployment: ``asciihub backup FILE`` and ``asciihub restore FILE``.

A backup is one tar file (gzip-compressed when its name ends in ``.gz``) holding every
metadata row as JSON Lines, the objects those rows need, the queue's job messages and
a ``manifest.json`` (written last) with counts and SHA-256 checksums of everything;
``docs/formats.md`` documents the layout.

Consistency under live writes: every table is read inside one snapshot transaction
(SQLite WAL snapshot, PostgreSQL ``REPEATABLE READ``), so rows agree with each other.
Objects are read while that snapshot is open and follow the order in which the
services write (object first, then row; row deleted first, then object):

* an artwork whose object is gone was deleted after the snapshot: its row and the
  rows that hang off it are left out, as if the delete had come first;
* an artwork whose object has another etag was updated after the snapshot: the newer
  object is kept and the row's document facts are re-derived from it, the repair
  ``asciihub fsck`` makes for a crash in the middle of an update;
* thumbnails and cards are kept only for artworks in the backup, uploads only for
  the jobs that still need them (a job whose upload vanished is recorded as failed
  with ``upload_missing``); other objects (exports, avatars) are copied as listed.

What is not in a backup: caches, gallery pages and rate-limit counters (they rebuild
themselves) and sessions (everybody logs in again after a restore). Share links and
API tokens are metadata rows (hashes only), so they are in it. The queue's contents
are the messages of the jobs still queued or running in the snapshot; a restore sends
them again (a running job restarts from the queue).

Restore goes into an empty deployment only, of either kind; it checks every object
against its checksum as it writes it and compares every table's row count and
checksum with the manifest.

Schema revisions: the manifest records the metadata schema revision (Alembic) the
backup was taken at. A backup of the current revision restores as it is. An older
one restores into the empty target taken back to that revision (its tables and
columns as they were), is verified there, and then the migrations run up to the head
with the rows in place, exactly as they would have on the original deployment. A
revision this code does not know (a backup of a newer asciihub) is refused with 400
``backup_schema_unknown`` before anything is written.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from asciihub import __version__
from asciihub.engine.document import DocumentLimits, parse_document
from asciihub.errors import AsciihubError, Conflict, InvalidInput
from asciihub.queue.protocol import JobQueue
from asciihub.services.datamigration import (
    OBJECT_CONCURRENCY,
    Endpoint,
    TableRef,
    all_objects,
    foreign_key_columns,
    row_from_json,
    row_to_json,
    update_checksum,
)
from asciihub.services.jobs import JOB_QUEUES
from asciihub.storage.objects.protocol import HttpMetadata, ObjectBody

log = logging.getLogger(__name__)

FORMAT = "asciihub-backup"
VERSION = 1
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 512 * 1024 * 1024
ARTWORKS_TABLE = "ascii_metadata"
DERIVED_PREFIXES = ("thumbnails/", "cards/")
HANDLED_PREFIXES = ("artworks/", "media/", *DERIVED_PREFIXES)
ACTIVE = ("queued", "running")
FACTS = ("width", "height", "frame_count", "fps", "duration_ms", "etag", "sha256", "size")
Progress = Callable[[str, int, int | None], None]


@dataclass
class BackupSummary:
    """What a backup holds, and what it changed to stay consistent."""

    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    bytes: int = 0
    queue: int = 0
    left_out: list[str] = field(default_factory=list)
    """Artworks deleted while the backup ran (left out with their rows)."""
    rederived: list[str] = field(default_factory=list)
    """Artworks updated while the backup ran (row facts taken from the newer object)."""


@dataclass
class RestoreSummary:
    """What a restore wrote and whether it matches the manifest."""

    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    queue: int = 0
    mismatches: list[str] = field(default_factory=list)
    migrated_from: str | None = None
    """The backup's older schema revision, when the restore migrated it to the head."""
    revision: str | None = None
    """The schema revision the deployment is at after the restore."""

    @property
    def ok(self) -> bool:
        """True when every table matched the manifest."""
        return not self.mismatches


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_backup")


def _http_json(meta: HttpMetadata) -> dict[str, str]:
    return {k: v for k, v in asdict(meta).items() if v is not None}


def _add(tar: tarfile.TarFile, name: str, data: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o600
    tar.addfile(info, data)


class Backup:
    """Writes a consistent backup of ``source`` to a file."""

    def __init__(
        self,
        source: Endpoint,
        *,
        limits: DocumentLimits,
        progress: Progress | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.source = source
        self.limits = limits
        self.progress = progress or (lambda phase, done, total: None)
        self.clock = clock
        self.summary = BackupSummary()
        self._objects: list[dict[str, Any]] = []
        self._keys: set[str] = set()
        self._kept: set[str] = set()
        self._left_out: set[str] = set()
        self._queue: list[dict[str, Any]] = []

    async def write(self, path: Path) -> BackupSummary:
        """Write the backup to ``path`` (atomically: a partial file never has its name)."""
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        mode = "w:gz" if path.name.endswith(".gz") else "w"
        try:
            with tarfile.open(partial, mode, format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                manifest = await self._write(tar)
                body = orjson.dumps(manifest, option=orjson.OPT_INDENT_2)
                _add(tar, MANIFEST, io.BytesIO(body), len(body))
            with partial.open("rb") as handle:
                os.fsync(handle.fileno())
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return self.summary

    async def _write(self, tar: tarfile.TarFile) -> dict[str, Any]:
        started = self.clock()
        tables: dict[str, Any] = {}
        revision = await self.source.revision()
        self.source = await self.source.as_stored()  # the tables as this revision has them
        async with self.source.snapshot() as conn:
            for table in self.source.tables():
                tables[str(table.name)] = await self._table(tar, conn, table)
        for prefix in DERIVED_PREFIXES:
            await self._derived(tar, prefix)
        await self._others(tar)
        self.summary.queue = len(self._queue)
        return {
            "format": FORMAT,
            "version": VERSION,
            "asciihub_version": __version__,
            "schema_revision": revision,
            "started_at": started.isoformat(),
            "finished_at": self.clock().isoformat(),
            "tables": tables,
            "objects": self._objects,
            "queue": self._queue,
            "kv": [],
            "left_out": sorted(self._left_out),
            "rederived": sorted(self.summary.rederived),
        }

    async def _table(self, tar: tarfile.TarFile, conn: Any, table: TableRef) -> dict[str, Any]:
        member = f"rows/{table.name}.jsonl"
        children = foreign_key_columns(table, ARTWORKS_TABLE)
        digest, file_digest, count = hashlib.sha256(), hashlib.sha256(), 0
        with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as spool:
            async for batch in self.source.snapshot_rows(conn, table):
                rows = batch
                if table.name == ARTWORKS_TABLE:
                    rows = await self._artworks(tar, batch)
                elif children:
                    rows = [r for r in batch if not any(r[c] in self._left_out for c in children)]
                if table.name == "jobs":
                    rows = [await self._job(tar, row) for row in rows]
                for row in rows:
                    line = orjson.dumps(row_to_json(table, row)) + b"\n"
                    spool.write(line)
                    file_digest.update(line)
                    update_checksum(digest, table, row)
                count += len(rows)
                self.progress(f"rows:{table.name}", len(rows), None)
            size = spool.tell()
            spool.seek(0)
            _add(tar, member, spool, size)
        self.summary.rows[str(table.name)] = count
        return {
            "member": member,
            "rows": count,
            "checksum": digest.hexdigest(),
            "sha256": file_digest.hexdigest(),
        }

    async def _artworks(self, tar: tarfile.TarFile, batch: list[dict[str, Any]]) -> list[Any]:
        kept: list[dict[str, Any]] = []
        for start in range(0, len(batch), OBJECT_CONCURRENCY):
            chunk = batch[start : start + OBJECT_CONCURRENCY]
            bodies = await asyncio.gather(*(self.source.objects.get(r["r2_key"]) for r in chunk))
            for row, found in zip(chunk, bodies, strict=True):
                body = found or await self._moved(row)
                if body is None:  # deleted after the snapshot: as if deleted before
                    self._left_out.add(row["id"])
                    self.summary.left_out.append(row["id"])
                    continue
                if body.info.etag != row["etag"] and not self._rederive(row, body):
                    self._left_out.add(row["id"])
                    continue
                self._kept.add(row["id"])
                self._object(tar, body)
                kept.append(row)
        return kept

    async def _moved(self, row: dict[str, Any]) -> ObjectBody | None:
        """The newer version of an artwork updated after the snapshot, if it still exists.

        An update writes the document at a new key and then moves the row to it, so the
        snapshot's key can be gone while the artwork lives on under another one.
        """
        key = await self.source.current_artwork_key(row["id"])
        if key is None or key == row["r2_key"]:
            return None
        body = await self.source.objects.get(key)
        if body is not None:
            row["r2_key"] = key
        return body

    def _rederive(self, row: dict[str, Any], body: ObjectBody) -> bool:
        """Take the row's document facts from the newer object; False if unreadable."""
        try:
            document = parse_document(orjson.loads(body.data), limits=self.limits)
        except (AsciihubError, orjson.JSONDecodeError):
            log.warning("event=backup_unreadable_document id=%s", row["id"])
            return False
        row.update(
            width=document.width,
            height=document.height,
            frame_count=document.frame_count,
            fps=document.fps,
            duration_ms=document.duration_ms,
            etag=body.info.etag,
            sha256=hashlib.sha256(body.data).hexdigest(),
            size=len(body.data),
        )
        self.summary.rederived.append(row["id"])
        return True

    async def _job(self, tar: tarfile.TarFile, row: dict[str, Any]) -> dict[str, Any]:
        if row["status"] not in ACTIVE:
            return row
        row = {**row, "status": "queued"}  # a running attempt is not in the backup
        params = row.get("params") or {}
        key = params.get("media_key") if isinstance(params, dict) else None
        if isinstance(key, str):
            body = await self.source.objects.get(key)
            if body is None:
                message = "the uploaded file was gone when the backup was taken; upload it again"
                return {
                    **row,
                    "status": "failed",
                    "error_code": "upload_missing",
                    "error_message": message,
                    "finished_at": self.clock(),
                }
            self._object(tar, body)
        if row["kind"] in JOB_QUEUES:
            body_json = {"type": row["kind"], "job_id": row["id"]}
            self._queue.append({"queue": JOB_QUEUES[row["kind"]], "body": body_json})
        return row

    async def _derived(self, tar: tarfile.TarFile, prefix: str) -> None:
        async for info in all_objects(self.source.objects, prefix=prefix):
            artwork_id = info.key[len(prefix) :].removesuffix(".png").rsplit("/", 1)[-1]
            if artwork_id in self._kept:
                await self._copy(tar, info.key)

    async def _others(self, tar: tarfile.TarFile) -> None:
        async for info in all_objects(self.source.objects):
            if not info.key.startswith(HANDLED_PREFIXES) and info.key not in self._keys:
                await self._copy(tar, info.key)

    async def _copy(self, tar: tarfile.TarFile, key: str) -> None:
        body = await self.source.objects.get(key)
        if body is not None:  # None: deleted since it was listed
            self._object(tar, body)

    def _object(self, tar: tarfile.TarFile, body: ObjectBody) -> None:
        if body.info.key in self._keys:
            return
        member = f"objects/{len(self._objects):08d}"
        _add(tar, member, io.BytesIO(body.data), len(body.data))
        self._keys.add(body.info.key)
        self._objects.append(
            {
                "key": body.info.key,
                "member": member,
                "size": len(body.data),
                "sha256": hashlib.sha256(body.data).hexdigest(),
                "http_metadata": _http_json(body.info.http_metadata),
                "custom_metadata": dict(body.info.custom_metadata),
            }
        )
        self.summary.objects += 1
        self.summary.bytes += len(body.data)
        self.progress("objects", 1, None)


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    """The manifest of an open backup, checked for format and version."""
    try:
        info = tar.getmember(MANIFEST)
    except KeyError:
        message = "this file is not an asciihub backup: it holds no manifest.json"
        raise _invalid(message) from None
    if not info.isfile() or info.size > MAX_MANIFEST_BYTES:
        message = "the backup's manifest.json is not a regular file of a sane size"
        raise _invalid(message)
    handle = tar.extractfile(info)
    try:
        manifest = orjson.loads(handle.read() if handle is not None else b"")
    except orjson.JSONDecodeError:
        message = "the backup's manifest.json is not valid JSON; the file is damaged"
        raise _invalid(message) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        message = f"this file is not an asciihub backup (its manifest has no format {FORMAT!r})"
        raise _invalid(message)
    version = manifest.get("version")
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        message = (
            f"backup format version {version!r} is not one this asciihub reads "
            f"(1 to {VERSION}); restore it with a newer asciihub"
        )
        raise _invalid(message)
    return manifest


def backup_revision(manifest: Mapping[str, Any]) -> str:
    """The schema revision a backup was taken at; refused unless this code knows it.

    A revision this code does not know is newer than it (or from another line of
    development): restoring it would drop what the newer schema holds.
    """
    revision = manifest.get("schema_revision")
    known = Endpoint.known_revisions()
    if not isinstance(revision, str) or revision not in known:
        message = (
            f"the backup was taken at metadata schema revision {revision!r}, which this "
            f"asciihub {__version__} does not know (it knows {known[0]} to {known[-1]}); "
            "restore it with the asciihub version that took it, or a newer one"
        )
        raise InvalidInput(message, code="backup_schema_unknown")
    return revision


def _member(tar: tarfile.TarFile, name: Any) -> bytes:
    try:
        info = tar.getmember(str(name))
    except KeyError:
        message = f"the backup lacks its member {name!r}; the file is damaged or cut short"
        raise _invalid(message) from None
    handle = tar.extractfile(info) if info.isfile() else None
    if handle is None:
        message = f"the backup member {name!r} is not a regular file"
        raise _invalid(message)
    return handle.read()


def _lines(data: bytes) -> Iterator[Any]:
    for line in data.splitlines():
        if line.strip():
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                message = "a row of the backup is not valid JSON; the file is damaged"
                raise _invalid(message) from None


class Restore:
    """Fills an empty deployment from a backup file."""

    def __init__(
        self,
        target: Endpoint,
        *,
        queue: JobQueue | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.target = target
        self.queue = queue
        self.progress = progress or (lambda phase, done, total: None)

    async def check_empty(self) -> None:
        """Raise Conflict unless the target has no rows (but its built-in user) nor objects."""
        held: list[str] = []
        for table in self.target.tables():
            count = await self.target.count(table)
            if table.name == "users" and count == 1:
                count -= await self._builtin_users()
            if count:
                held.append(f"{table.name} ({count} rows)")
        async for info in all_objects(self.target.objects):
            held.append(f"objects (such as {info.key})")
            break
        if held:
            message = (
                f"the target deployment is not empty: {', '.join(held[:5])}; restore only "
                "into an empty deployment (a new data directory, database and bucket)"
            )
            raise Conflict(message, code="restore_target_not_empty")

    async def _builtin_users(self) -> int:
        users = next(t for t in self.target.tables() if t.name == "users")
        async with self.target.snapshot() as conn:
            async for batch in self.target.snapshot_rows(conn, users):
                return sum(1 for row in batch if row.get("is_local"))
        return 0

    async def run(self, path: Path) -> RestoreSummary:
        """Restore ``path``; the summary says whether every table matched the manifest."""
        try:
            tar = tarfile.open(path, "r:*")
        except (OSError, tarfile.TarError) as exc:
            message = f"{path} is not a readable backup file: {exc}"
            raise _invalid(message) from None
        with tar:
            manifest = read_manifest(tar)
            revision = backup_revision(manifest)
            await self.check_empty()
            summary = RestoreSummary()
            current = await self.target.revision()
            if revision != current:  # an older backup: restore at its revision, then migrate
                log.info("event=restore_older_schema backup=%s target=%s", revision, current)
                self.target = await self.target.downgrade(revision)
                summary.migrated_from = revision
            etags = await self._objects(tar, manifest, summary)
            patched = await self._rows(tar, manifest, etags, summary)
            await self._verify(manifest, patched, summary)
            if summary.migrated_from is not None:
                self.target = await self.target.upgrade()
                for table in self.target.tables():
                    summary.rows[str(table.name)] = await self.target.count(table)
            summary.revision = await self.target.revision()
            await self.target.reset_sequences()
            await self.target.reindex()
            await self._queue(manifest, summary)
        return summary

    async def _objects(
        self, tar: tarfile.TarFile, manifest: Mapping[str, Any], summary: RestoreSummary
    ) -> dict[str, str]:
        etags: dict[str, str] = {}
        entries = manifest.get("objects") or []
        for start in range(0, len(entries), OBJECT_CONCURRENCY):
            chunk = entries[start : start + OBJECT_CONCURRENCY]
            await asyncio.gather(*(self._object(tar, entry, etags) for entry in chunk))
            summary.objects += len(chunk)
            self.progress("objects", len(chunk), len(entries))
        return etags

    async def _object(self, tar: tarfile.TarFile, entry: Any, etags: dict[str, str]) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            message = "an object entry of the backup's manifest has no key"
            raise _invalid(message)
        data = _member(tar, entry.get("member"))
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            message = f"object {entry['key']!r} does not match its checksum; the backup is damaged"
            raise _invalid(message)
        http = entry.get("http_metadata") or {}
        info = await self.target.objects.put(
            entry["key"],
            data,
            http_metadata=HttpMetadata(**{k: v for k, v in http.items() if isinstance(v, str)}),
            custom_metadata={
                str(k): str(v) for k, v in (entry.get("custom_metadata") or {}).items()
            },
            sha256=entry["sha256"],
        )
        etags[entry["key"]] = info.etag

    async def _rows(
        self,
        tar: tarfile.TarFile,
        manifest: Mapping[str, Any],
        etags: Mapping[str, str],
        summary: RestoreSummary,
    ) -> set[str]:
        tables = manifest.get("tables") or {}
        patched: set[str] = set()
        for table in self.target.tables():
            entry = tables.get(table.name)
            if entry is None:
                continue  # a table newer than the backup: it stays empty
            data = _member(tar, entry.get("member"))
            if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                message = f"the rows of table {table.name} do not match their checksum"
                raise _invalid(message)
            batch: list[dict[str, Any]] = []
            for item in _lines(data):
                row = row_from_json(table, item)
                if (
                    table.name == ARTWORKS_TABLE
                    and etags.get(row["r2_key"], row["etag"]) != row["etag"]
                ):
                    row["etag"] = etags[row["r2_key"]]  # the target store's etag of the same bytes
                    patched.add(table.name)
                batch.append(row)
                if len(batch) == 200:
                    await self.target.write_rows(table, batch)
                    self.progress(f"rows:{table.name}", len(batch), entry.get("rows"))
                    batch = []
            await self.target.write_rows(table, batch)
            self.progress(f"rows:{table.name}", len(batch), entry.get("rows"))
            summary.rows[str(table.name)] = await self.target.count(table)
        return patched

    async def _queue(self, manifest: Mapping[str, Any], summary: RestoreSummary) -> None:
        if self.queue is None:
            return
        for entry in manifest.get("queue") or []:
            if isinstance(entry, dict) and entry.get("queue") in JOB_QUEUES.values():
                await self.queue.send(entry["queue"], entry.get("body"))
                summary.queue += 1

    async def _verify(
        self, manifest: Mapping[str, Any], patched: set[str], summary: RestoreSummary
    ) -> None:
        tables = manifest.get("tables") or {}
        for table in self.target.tables():
            entry = tables.get(table.name)
            if entry is None:
                continue
            count, checksum = await self.target.checksum(table)
            if count != entry.get("rows"):
                summary.mismatches.append(f"{table.name}: {count} rows, backup has {entry['rows']}")
            elif table.name not in patched and checksum != entry.get("checksum"):
                summary.mismatches.append(f"{table.name}: rows differ from the backup's")
