"""The embedded object store: a directory of plain files at their keys' paths, and the
store's own directory holding a SQLite index and one file per body.

Layout under the root: ``{key}`` for every committed object (the key-path view: a hard
link to the object's body file, so an operator finds ``artworks/u1/a1.json`` as a file),
and ``.asciihub-store/`` (a name no key may start with) holding ``index.sqlite3`` (key
→ body file, size, etag, version, uploaded time, metadata), ``blobs/xx/{version}``
(bodies), ``tmp/`` (bodies being written), ``live/`` (one locked mark per open store)
and ``signing.key`` (the download-link secret when no setting gives one).

Write order, so that a crash at any point never shows a partial object or an object
with the wrong metadata:

1. the body goes to ``tmp/``, is made read-only and fsynced (a crash leaves a temp
   file: invisible, swept after 7 days);
2. under the index's write transaction (a lock across threads and processes) the
   preconditions are checked, the body is renamed into ``blobs/`` and that directory is
   fsynced (a crash leaves an unreferenced body: invisible, swept);
3. the index row is written and the transaction commits: the object now exists,
   with the metadata of the same row;
4. under the write lock again, the committed row of the key is published at
   ``{root}/{key}`` (link to a temp name, rename over the key path) and the directory
   is fsynced (a crash leaves the view behind the index: repaired, see below);
5. the previous body of the key is unlinked (a crash leaves it unreferenced: swept).

A delete commits, then unlinks the key path, then the body. Reads never touch the view:
they go through the index. The view is repaired (missing or stale files published,
files of deleted keys and leftover temp links removed) when a store opens after another
store on the directory ended without closing, and on every :meth:`sweep`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from asciihub.errors import DependencyDown, InvalidInput
from asciihub.storage.objects._files import (
    TempFile,
    blob_name,
    fsync_dir,
    iter_blob_names,
    prepare_layout,
    sweep_temp_files,
)
from asciihub.storage.objects._local_index import (
    IndexRow,
    ObjectIndex,
    decode_cursor,
    encode_cursor,
)
from asciihub.storage.objects._local_view import KeyView, OpenMark, abandoned_marks, fsync_dirs
from asciihub.storage.objects._presign import (
    check_expires_in,
    load_or_create_secret,
    signed_path,
    verify_signature,
)
from asciihub.storage.objects.keys import (
    HEALTH_PROBE_KEY,
    RESERVED_SEGMENT,
    validate_custom_metadata,
    validate_key,
    validate_limit,
    validate_prefix,
    validate_sha256,
)
from asciihub.storage.objects.options import PutConditions, check_range, resolve_range
from asciihub.storage.objects.protocol import (
    ByteRange,
    HttpMetadata,
    ObjectBody,
    ObjectInfo,
    ObjectPage,
)

INLINE_READ_BYTES = 64 * 1024
"""Reads up to this size run on the event loop; larger ones go to a worker thread."""
STREAM_BUFFER_BYTES = 1024 * 1024
STREAM_THREADS = 2  # threads that write streamed puts (see put_stream)
T = TypeVar("T")
TEMP_MAX_AGE = 7 * 24 * 3600.0
_SWEEP_BATCH = 500

log = logging.getLogger(__name__)


def _http_json(http_metadata: HttpMetadata | None) -> str | None:
    if http_metadata is None:
        return None
    fields = {k: v for k, v in dataclasses.asdict(http_metadata).items() if v is not None}
    for name, value in fields.items():
        if not isinstance(value, str):
            message = f"http metadata {name} must be a string, not {value!r}"
            raise InvalidInput(message, code="invalid_metadata")
    return json.dumps(fields, ensure_ascii=False) if fields else None


class LocalObjectStore:
    """Object store on a local directory; safe for several processes on one machine."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        signing_secret: str | bytes | None = None,
        max_page_size: int = 1000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        own = self.root / RESERVED_SEGMENT
        prepare_layout(own)
        self._tmp = own / "tmp"
        self._blobs = own / "blobs"
        self._index = ObjectIndex(own / "index.sqlite3")
        if isinstance(signing_secret, str):
            signing_secret = signing_secret.encode()
        self._secret = signing_secret or load_or_create_secret(own / "signing.key")
        self._max_page = validate_limit(max_page_size)
        self._clock = clock
        self._view = KeyView(self.root)
        self._mark = OpenMark(own / "live", self._tmp)
        self._stream_pool: ThreadPoolExecutor | None = None
        self._repair_after_unclosed(own / "live")

    # --- writes ------------------------------------------------------------------

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
        """Store ``data`` whole at ``key`` (see the module docstring for the order)."""
        validate_key(key)
        custom = validate_custom_metadata(custom_metadata)
        http = _http_json(http_metadata)
        conditions = PutConditions.of(if_match, if_none_match)
        expected = validate_sha256(sha256)
        body = bytes(data)
        return await asyncio.to_thread(
            self._put_whole, key, body, http, custom, conditions, expected
        )

    def _put_whole(
        self,
        key: str,
        body: bytes,
        http: str | None,
        custom: dict[str, str],
        conditions: PutConditions,
        expected_sha256: str | None,
    ) -> ObjectInfo:
        temp = TempFile(self._tmp)
        try:
            if expected_sha256 is not None:
                temp.track_sha256()
            temp.write(body)
        except BaseException:
            temp.discard()
            raise
        return self._commit(key, temp, http, custom, conditions, expected_sha256)

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Write chunks to a temp file as they come, then commit like :meth:`put`."""
        validate_key(key)
        custom = validate_custom_metadata(custom_metadata)
        http = _http_json(http_metadata)
        # Streams (uploads, large objects) write and fsync on their own few threads, so
        # a burst of them never queues small reads and writes behind megabytes of I/O.
        temp = await self._streaming(TempFile, self._tmp)
        try:
            buffer = bytearray()
            async for chunk in chunks:
                buffer += chunk
                if len(buffer) >= STREAM_BUFFER_BYTES:
                    await self._streaming(temp.write, bytes(buffer))
                    buffer.clear()
            if buffer:
                await self._streaming(temp.write, bytes(buffer))
        except BaseException:
            await asyncio.to_thread(temp.discard)
            raise
        return await self._streaming(self._commit, key, temp, http, custom, PutConditions(), None)

    async def _streaming(self, function: Callable[..., T], *args: Any) -> T:
        if self._stream_pool is None:
            self._stream_pool = ThreadPoolExecutor(
                max_workers=STREAM_THREADS, thread_name_prefix="objects-stream"
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._stream_pool, functools.partial(function, *args))

    def _commit(
        self,
        key: str,
        temp: TempFile,
        http: str | None,
        custom: dict[str, str],
        conditions: PutConditions,
        expected_sha256: str | None,
    ) -> ObjectInfo:
        try:
            temp.finish()
            if expected_sha256 is not None and temp.sha256_hex != expected_sha256:
                message = (
                    f"the body's SHA-256 is {temp.sha256_hex}, not {expected_sha256}; "
                    "nothing was stored"
                )
                raise InvalidInput(message, code="checksum_mismatch")
            version = secrets.token_hex(16)
            row = IndexRow(
                key=key,
                blob=blob_name(version),
                size=temp.size,
                etag=temp.md5_hex,
                version=version,
                uploaded=self._clock(),
                http=http,
                custom=json.dumps(custom, ensure_ascii=False) if custom else None,
            )
            with self._index.transaction() as tx:
                current = tx.lookup(key)
                conditions.check(key, None if current is None else current.etag)
                target = self._blobs / row.blob
                os.replace(temp.path, target)
                try:
                    fsync_dir(target.parent)
                    tx.upsert(row)
                except BaseException:
                    target.unlink(missing_ok=True)
                    raise
        except BaseException:
            temp.discard()
            raise
        self._sync_view([key])
        if current is not None:
            (self._blobs / current.blob).unlink(missing_ok=True)
        return row.info()

    async def delete(self, keys: str | Sequence[str]) -> None:
        """Delete one key or many; missing keys are ignored."""
        names = [keys] if isinstance(keys, str) else list(dict.fromkeys(keys))
        for name in names:
            validate_key(name)
        if names:
            await asyncio.to_thread(self._delete_sync, names)

    def _delete_sync(self, names: list[str]) -> None:
        with self._index.transaction() as tx:
            removed = tx.remove(names)
        if removed:
            self._sync_view([key for key, _ in removed])
        for _, blob in removed:
            (self._blobs / blob).unlink(missing_ok=True)

    # --- the key-path view ---------------------------------------------------------

    def _sync_view(self, keys: Sequence[str]) -> int:
        """Make the view files of ``keys`` match their committed rows; count the changes.

        Runs after a commit, so it never fails the write: errors are logged, and the
        next :meth:`sweep` repairs what was left behind.
        """
        changed: set[Path] = set()
        count = 0
        try:
            with self._index.transaction() as tx:
                for key in keys:
                    row = tx.lookup(key)
                    try:
                        if row is None:
                            dirs = self._view.remove(key)
                        else:
                            dirs = self._view.place(key, self._blobs / row.blob)
                    except OSError as exc:
                        log.warning("event=object_view_failed key=%r error=%r", key, str(exc))
                        continue
                    count += bool(dirs)
                    changed.update(dirs)
            fsync_dirs(changed)
        except (OSError, sqlite3.Error) as exc:
            log.warning("event=object_view_failed keys=%d error=%r", len(keys), str(exc))
        return count

    def _drop_strays(self, strays: Sequence[tuple[str, Path]]) -> int:
        """Remove view files whose keys have no committed row; count them."""
        changed: set[Path] = set()
        count = 0
        with self._index.transaction() as tx:
            for key, path in strays:
                if tx.lookup(key) is not None:
                    continue  # written since the walk: its writer publishes it
                try:
                    dirs = self._view.remove_file(path)
                except OSError as exc:
                    log.warning("event=object_view_failed key=%r error=%r", key, str(exc))
                    continue
                count += bool(dirs)
                changed.update(dirs)
        fsync_dirs(changed)
        return count

    def _repair_after_unclosed(self, live_dir: Path) -> None:
        """Repair the view when a store on this directory ended without closing."""
        try:
            with abandoned_marks(live_dir) as abandoned:
                if not abandoned:
                    return
                published, removed = self._repair_view()
        except (OSError, sqlite3.Error) as exc:
            log.warning(
                "event=object_view_repair_failed root=%s error=%r note=%r",
                self.root,
                str(exc),
                "reads are unaffected; the next open or sweep() tries again",
            )
            return
        log.info(
            "event=object_view_repaired root=%s reason=unclosed_store published=%d removed=%d",
            self.root,
            published,
            removed,
        )

    def _repair_view(self) -> tuple[int, int]:
        """Publish every key whose view file is missing or stale, remove stray files.

        Returns ``(published, removed)``. Checks run without the lock; each fix re-reads
        the committed row under it, so writers running meanwhile are never undone.
        """
        published = 0
        after: str | None = None
        with self._index.own_reader() as reader:
            while rows := reader.scan(after, _SWEEP_BATCH):
                behind = [
                    row.key
                    for row in rows
                    if not self._view.is_current(row.key, self._blobs / row.blob)
                ]
                if behind:
                    published += self._sync_view(behind)
                after = rows[-1].key
            strays = [
                (key, path) for key, path in self._view.strays() if reader.lookup(key) is None
            ]
        removed = 0
        for start in range(0, len(strays), _SWEEP_BATCH):
            removed += self._drop_strays(strays[start : start + _SWEEP_BATCH])
        return published, removed

    # --- reads -------------------------------------------------------------------

    async def ping(self) -> None:
        """Read the info of the health probe key (absent): the store answers or raises."""
        await self.head(HEALTH_PROBE_KEY)

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's info, or None."""
        validate_key(key)
        row = self._index.lookup(key)
        return None if row is None else row.info()

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectBody | None:
        """The object or the asked range of it; a range past the end gives fewer bytes."""
        validate_key(key)
        checked = check_range(byte_range)
        for _attempt in range(16):
            row = self._index.lookup(key)
            if row is None:
                return None
            start, length = resolve_range(checked, row.size)
            try:
                if length <= INLINE_READ_BYTES:
                    data = self._read(row.blob, start, length)
                else:
                    data = await asyncio.to_thread(self._read, row.blob, start, length)
            except FileNotFoundError:
                continue  # overwritten or deleted between the lookup and the open
            return ObjectBody(info=row.info(), data=data, range_start=start)
        message = f"object {key!r} kept changing while it was read; try again"
        raise DependencyDown(message, retry_after=1)

    def _read(self, blob: str, start: int, length: int) -> bytes:
        with (self._blobs / blob).open("rb") as handle:
            if start:
                handle.seek(start)
            return handle.read(length)

    async def list(
        self,
        prefix: str = "",
        *,
        cursor: str | None = None,
        limit: int = 1000,
        delimiter: str | None = None,
    ) -> ObjectPage:
        """Keys under ``prefix`` in UTF-8 byte order; pages may be shorter than ``limit``."""
        validate_prefix(prefix)
        validate_limit(limit)
        if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
            message = "list delimiter must be a non-empty string"
            raise InvalidInput(message, code="invalid_delimiter")
        position = decode_cursor(cursor) if cursor else None
        count = min(limit, self._max_page)
        rows, prefixes, after = self._index.page(prefix, position, count, delimiter)
        return ObjectPage(
            objects=[row.info() for row in rows],
            truncated=after is not None,
            cursor=None if after is None else encode_cursor(after),
            delimited_prefixes=prefixes,
        )

    # --- links and housekeeping ----------------------------------------------------

    async def presign_get(self, key: str, *, expires_in: int) -> str | None:
        """A relative ``/objects/{key}?expires=..&sig=..`` path signed with HMAC-SHA256."""
        validate_key(key)
        check_expires_in(expires_in)
        return signed_path(self._secret, key, int(self._clock()) + expires_in)

    def verify_presigned(self, key: str, expires: str, sig: str) -> None:
        """Raise Forbidden unless the link made by :meth:`presign_get` is intact and live."""
        verify_signature(self._secret, key, expires, sig, now=self._clock())

    async def sweep(self, *, older_than: float = TEMP_MAX_AGE) -> int:
        """Repair the key-path view, then remove stale temp files and unreferenced bodies.

        Returns how many files went: stray view files, temp files, bodies. Republished
        view files are logged, not counted.
        """
        return await asyncio.to_thread(self._sweep_sync, older_than)

    def _sweep_sync(self, older_than: float) -> int:
        published, removed = self._repair_view()  # first: strays still link their bodies
        if published or removed:
            log.info(
                "event=object_view_repaired root=%s reason=sweep published=%d removed=%d",
                self.root,
                published,
                removed,
            )
        removed += sweep_temp_files(self._tmp, older_than=older_than, now=self._clock())
        names = iter_blob_names(self._blobs)
        for start in range(0, len(names), _SWEEP_BATCH):
            with self._index.transaction() as tx:
                for name in names[start : start + _SWEEP_BATCH]:
                    if not tx.is_referenced(name):
                        (self._blobs / name).unlink(missing_ok=True)
                        removed += 1
        return removed

    async def close(self) -> None:
        """Close the index and drop this store's open mark."""
        if self._stream_pool is not None:
            self._stream_pool.shutdown(wait=True)
            self._stream_pool = None
        self._index.close()
        self._mark.close()
