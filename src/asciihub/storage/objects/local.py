"""The embedded object store: a directory holding a SQLite index and one file per body.

Layout under the root: ``index.sqlite3`` (key → body file, size, etag, version,
uploaded time, metadata), ``blobs/xx/{version}`` (bodies), ``tmp/`` (bodies being
written) and ``signing.key`` (the download-link secret when no setting gives one).

Write order, so that a crash at any point never shows a partial object or an object
with the wrong metadata:

1. the body goes to ``tmp/`` and is fsynced (a crash leaves a temp file: invisible,
   swept after 7 days);
2. under the index's write transaction (a lock across threads and processes) the
   preconditions are checked, the body is renamed into ``blobs/`` and that directory is
   fsynced (a crash leaves an unreferenced body: invisible, swept);
3. the index row is written and the transaction commits: the object now exists,
   with the metadata of the same row;
4. the previous body of the key is unlinked (a crash leaves it unreferenced: swept).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

from asciihub.errors import InvalidInput, Unavailable
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
from asciihub.storage.objects._presign import (
    check_expires_in,
    load_or_create_secret,
    signed_path,
    verify_signature,
)
from asciihub.storage.objects.keys import (
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
TEMP_MAX_AGE = 7 * 24 * 3600.0
_SWEEP_BATCH = 500


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
        prepare_layout(self.root)
        self._tmp = self.root / "tmp"
        self._blobs = self.root / "blobs"
        self._index = ObjectIndex(self.root / "index.sqlite3")
        if isinstance(signing_secret, str):
            signing_secret = signing_secret.encode()
        self._secret = signing_secret or load_or_create_secret(self.root / "signing.key")
        self._max_page = validate_limit(max_page_size)
        self._clock = clock

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
        temp = await asyncio.to_thread(TempFile, self._tmp)
        try:
            buffer = bytearray()
            async for chunk in chunks:
                buffer += chunk
                if len(buffer) >= STREAM_BUFFER_BYTES:
                    await asyncio.to_thread(temp.write, bytes(buffer))
                    buffer.clear()
            if buffer:
                await asyncio.to_thread(temp.write, bytes(buffer))
        except BaseException:
            await asyncio.to_thread(temp.discard)
            raise
        return await asyncio.to_thread(self._commit, key, temp, http, custom, PutConditions(), None)

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
            blobs = tx.remove(names)
        for blob in blobs:
            (self._blobs / blob).unlink(missing_ok=True)

    # --- reads -------------------------------------------------------------------

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
        raise Unavailable(message, retry_after=1)

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
        """Remove stale temp files and unreferenced bodies; return how many went."""
        return await asyncio.to_thread(self._sweep_sync, older_than)

    def _sweep_sync(self, older_than: float) -> int:
        removed = sweep_temp_files(self._tmp, older_than=older_than, now=self._clock())
        names = iter_blob_names(self._blobs)
        for start in range(0, len(names), _SWEEP_BATCH):
            with self._index.transaction() as tx:
                for name in names[start : start + _SWEEP_BATCH]:
                    if not tx.is_referenced(name):
                        (self._blobs / name).unlink(missing_ok=True)
                        removed += 1
        return removed

    async def close(self) -> None:
        """Close the index."""
        self._index.close()
