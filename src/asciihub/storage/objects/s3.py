"""The scale-out object store on any S3-compatible server (Cloudflare R2, AWS S3, MinIO).

Endpoint and credentials come from the standard ``AWS_ENDPOINT_URL_S3``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_DEFAULT_REGION`` variables,
which botocore reads itself. Conditional puts send real ``If-Match`` /
``If-None-Match: *`` headers, so the server decides atomically; ``if_none_match`` with
an etag (which S3 servers do not support) is done optimistically: read the current
etag, check it, then write with ``If-Match`` on exactly that etag (or
``If-None-Match: *`` when absent), retrying a few times if the object moved meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

from asciihub.errors import (
    ConfigError,
    DependencyDown,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
)
from asciihub.storage.objects._presign import check_expires_in
from asciihub.storage.objects._s3_codec import (
    info_from_response,
    put_params,
    s3_errors,
)
from asciihub.storage.objects._s3_multipart import MultipartUpload
from asciihub.storage.objects.keys import (
    HEALTH_PROBE_KEY,
    MAX_DELETE_KEYS,
    MAX_KEY_BYTES,
    validate_custom_metadata,
    validate_key,
    validate_limit,
    validate_prefix,
    validate_sha256,
)
from asciihub.storage.objects.options import PutConditions, check_range, normalize_etag
from asciihub.storage.objects.protocol import (
    ByteRange,
    HttpMetadata,
    ObjectBody,
    ObjectInfo,
    ObjectPage,
)

MIN_PART_SIZE = 5 * 1024 * 1024
DEFAULT_PART_SIZE = 8 * 1024 * 1024
_OPTIMISTIC_ATTEMPTS = 4
STALE_UPLOAD_AGE = 7 * 24 * 3600.0
"""Unfinished multipart uploads older than this are aborted by :meth:`S3ObjectStore.sweep`."""


@functools.cache
def _session() -> Any:
    """One aiobotocore session per process: it caches the parsed service models."""
    from aiobotocore.session import get_session

    return get_session()


def _range_header(byte_range: ByteRange | None) -> str | None:
    """The HTTP Range value, '' when the answer is surely empty, None for everything."""
    if byte_range is None:
        return None
    if byte_range.suffix is not None:
        return f"bytes=-{byte_range.suffix}" if byte_range.suffix else ""
    offset = byte_range.offset or 0
    if byte_range.length is None:
        return f"bytes={offset}-" if offset else None
    return f"bytes={offset}-{offset + byte_range.length - 1}" if byte_range.length else ""


class S3ObjectStore:
    """Object store on an S3 bucket, optionally under a key prefix."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        prefix: str = "",
        exit_stack: AsyncExitStack | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        max_page_size: int = 1000,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._stack = exit_stack
        if part_size < MIN_PART_SIZE:
            message = f"S3 part size {part_size} is below the S3 minimum of {MIN_PART_SIZE} bytes"
            raise ConfigError(message)
        self._part_size = part_size
        self._max_page = validate_limit(max_page_size)

    @classmethod
    async def open(
        cls,
        bucket: str,
        *,
        prefix: str = "",
        create_bucket: bool = False,
        endpoint_url: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        max_page_size: int = 1000,
    ) -> S3ObjectStore:
        """Connect with the standard AWS settings and check (or create) the bucket."""
        from aiobotocore.config import AioConfig

        session = _session()
        custom_endpoint = (
            endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
        )
        config = AioConfig(
            retries={"mode": "standard"},  # 3 attempts unless AWS_MAX_ATTEMPTS says
            connect_timeout=5,
            read_timeout=60,
            s3={"addressing_style": "path" if custom_endpoint else "auto"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        stack = AsyncExitStack()
        with s3_errors(f"opening bucket {bucket!r}"):
            client = await stack.enter_async_context(
                session.create_client("s3", endpoint_url=endpoint_url, config=config)
            )
        store = cls(
            client,
            bucket,
            prefix=prefix,
            exit_stack=stack,
            part_size=part_size,
            max_page_size=max_page_size,
        )
        try:
            await store._ensure_bucket(create=create_bucket)
        except BaseException:
            await stack.aclose()
            raise
        return store

    async def _ensure_bucket(self, *, create: bool) -> None:
        try:
            with s3_errors(f"checking bucket {self._bucket!r}"):
                await self._client.head_bucket(Bucket=self._bucket)
            return
        except NotFound:
            if not create:
                message = (
                    f"S3 bucket {self._bucket!r} does not exist; create it, or set "
                    "objects_s3_create_bucket = true"
                )
                raise ConfigError(message) from None
        with s3_errors(f"creating bucket {self._bucket!r}"):
            await self._client.create_bucket(Bucket=self._bucket)

    def _full_key(self, key: str) -> str:
        validate_key(key)
        full = self._prefix + key
        size = len(full.encode())
        if size > MAX_KEY_BYTES:
            message = (
                f"object key with the store prefix {self._prefix!r} is {size} bytes; "
                f"the limit is {MAX_KEY_BYTES}"
            )
            raise InvalidInput(message, code="invalid_key")
        return full

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
        """Store ``data`` whole; the server applies the preconditions atomically."""
        full = self._full_key(key)
        custom = validate_custom_metadata(custom_metadata)
        conditions = PutConditions.of(if_match, if_none_match)
        expected = validate_sha256(sha256)
        body = bytes(data)
        if expected is not None:
            actual = await asyncio.to_thread(lambda: hashlib.sha256(body).hexdigest())
            if actual != expected:
                message = f"the body's SHA-256 is {actual}, not {expected}; nothing was stored"
                raise InvalidInput(message, code="checksum_mismatch")
        if conditions.if_none_match not in (None, "*"):
            return await self._put_unless_etag(key, body, http_metadata, custom, conditions)
        headers: dict[str, str] = {}
        if conditions.if_match is not None:
            headers["IfMatch"] = "*" if conditions.if_match == "*" else f'"{conditions.if_match}"'
        if conditions.if_none_match == "*":
            headers["IfNoneMatch"] = "*"
        return await self._put_once(key, full, body, http_metadata, custom, headers)

    async def _put_once(
        self,
        key: str,
        full: str,
        body: bytes,
        http_metadata: HttpMetadata | None,
        custom: dict[str, str],
        headers: dict[str, str],
    ) -> ObjectInfo:
        version = secrets.token_hex(16)
        params = put_params(http_metadata, custom, version)
        try:
            with s3_errors(f"writing object {key!r}"):
                response = await self._client.put_object(
                    Bucket=self._bucket, Key=full, Body=body, **params, **headers
                )
        except NotFound as exc:  # If-Match on a missing object
            message = f"object {key!r} does not exist, so the if_match precondition fails"
            raise PreconditionFailed(message) from exc
        return ObjectInfo(
            key=key,
            size=len(body),
            etag=normalize_etag(str(response["ETag"])),
            version=version,
            uploaded=datetime.now(UTC),
            http_metadata=http_metadata or HttpMetadata(),
            custom_metadata=custom,
        )

    async def _put_unless_etag(
        self,
        key: str,
        body: bytes,
        http_metadata: HttpMetadata | None,
        custom: dict[str, str],
        conditions: PutConditions,
    ) -> ObjectInfo:
        full = self._full_key(key)
        for _attempt in range(_OPTIMISTIC_ATTEMPTS):
            current = await self.head(key)
            conditions.check(key, None if current is None else current.etag)
            pin = {"IfNoneMatch": "*"} if current is None else {"IfMatch": current.http_etag}
            try:
                return await self._put_once(key, full, body, http_metadata, custom, pin)
            except PreconditionFailed:
                continue  # the object moved between head and put; judge it again
        message = f"object {key!r} kept changing during a conditional write; try again"
        raise PreconditionFailed(message)

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Buffer up to one part; small bodies go in one PUT, larger ones as multipart."""
        full = self._full_key(key)
        custom = validate_custom_metadata(custom_metadata)
        buffer = bytearray()
        upload: MultipartUpload | None = None
        try:
            async for chunk in chunks:
                buffer += chunk
                while len(buffer) >= self._part_size:
                    if upload is None:
                        upload = await MultipartUpload.start(
                            self._client, self._bucket, key, full, http_metadata, custom
                        )
                    await upload.send(bytes(buffer[: self._part_size]))
                    del buffer[: self._part_size]
            if upload is None:
                return await self._put_once(key, full, bytes(buffer), http_metadata, custom, {})
            if buffer:
                await upload.send(bytes(buffer))
            return await upload.complete()
        except BaseException:
            if upload is not None:
                await upload.abort()
            raise

    async def delete(self, keys: str | Sequence[str]) -> None:
        """Delete one key or many (in batches of 1,000); missing keys are ignored."""
        names = [keys] if isinstance(keys, str) else list(dict.fromkeys(keys))
        fulls = [self._full_key(name) for name in names]
        for start in range(0, len(fulls), MAX_DELETE_KEYS):
            batch = fulls[start : start + MAX_DELETE_KEYS]
            with s3_errors(f"deleting {len(batch)} object(s)"):
                if len(batch) == 1:
                    await self._client.delete_object(Bucket=self._bucket, Key=batch[0])
                    continue
                response = await self._client.delete_objects(
                    Bucket=self._bucket,
                    Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
                )
            failed = response.get("Errors") or []
            if failed:
                first = failed[0]
                message = (
                    f"deleting objects: {len(failed)} failed, first {first.get('Key')!r} "
                    f"with {first.get('Code')}; try again"
                )
                raise DependencyDown(message, retry_after=1)

    # --- reads -------------------------------------------------------------------

    async def ping(self) -> None:
        """Read the info of the health probe key (absent): the store answers or raises."""
        await self.head(HEALTH_PROBE_KEY)

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's info, or None."""
        full = self._full_key(key)
        try:
            with s3_errors(f"reading object {key!r}"):
                response = await self._client.head_object(Bucket=self._bucket, Key=full)
        except NotFound:
            return None
        return info_from_response(key, response, int(response["ContentLength"]))

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectBody | None:
        """The object or the asked range of it; a range past the end gives fewer bytes."""
        full = self._full_key(key)
        header = _range_header(check_range(byte_range))
        if header == "":
            return await self._empty_body(key, byte_range)
        params: dict[str, Any] = {"Bucket": self._bucket, "Key": full}
        if header is not None:
            params["Range"] = header
        try:
            with s3_errors(f"reading object {key!r}"):
                response = await self._client.get_object(**params)
                async with response["Body"] as stream:
                    data = await stream.read()
        except NotFound:
            return None
        except InvalidInput as exc:
            if exc.code != "range_not_satisfiable":
                raise
            return await self._empty_body(key, byte_range)
        size, start = len(data), 0
        content_range = str(response.get("ContentRange") or "")
        if content_range.startswith("bytes "):
            span, _, total = content_range[6:].partition("/")
            start, size = int(span.split("-")[0]), int(total)
        info = info_from_response(key, response, size)
        return ObjectBody(info=info, data=bytes(data), range_start=start)

    async def _empty_body(self, key: str, byte_range: ByteRange | None) -> ObjectBody | None:
        info = await self.head(key)
        if info is None:
            return None
        start = info.size
        if byte_range is not None and byte_range.suffix is None:
            start = min(byte_range.offset or 0, info.size)
        return ObjectBody(info=info, data=b"", range_start=start)

    async def list(
        self,
        prefix: str = "",
        *,
        cursor: str | None = None,
        limit: int = 1000,
        delimiter: str | None = None,
    ) -> ObjectPage:
        """ListObjectsV2 under ``prefix``; ``version`` and metadata need :meth:`head`."""
        validate_prefix(prefix)
        validate_limit(limit)
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Prefix": self._prefix + prefix,
            "MaxKeys": min(limit, self._max_page),
        }
        if delimiter is not None:
            if not isinstance(delimiter, str) or not delimiter:
                message = "list delimiter must be a non-empty string"
                raise InvalidInput(message, code="invalid_delimiter")
            params["Delimiter"] = delimiter
        if cursor:
            params["ContinuationToken"] = cursor
        with s3_errors(f"listing {prefix!r}"):
            response = await self._client.list_objects_v2(**params)
        cut = len(self._prefix)
        objects = [
            ObjectInfo(
                key=str(item["Key"])[cut:],
                size=int(item["Size"]),
                etag=normalize_etag(str(item["ETag"])),
                version="",
                uploaded=item["LastModified"],
            )
            for item in response.get("Contents") or []
        ]
        prefixes = [str(item["Prefix"])[cut:] for item in response.get("CommonPrefixes") or []]
        truncated = bool(response.get("IsTruncated"))
        return ObjectPage(
            objects=objects,
            truncated=truncated,
            cursor=str(response["NextContinuationToken"]) if truncated else None,
            delimited_prefixes=prefixes,
        )

    async def sweep(self, *, older_than: float = STALE_UPLOAD_AGE) -> int:
        """Abort multipart uploads under the prefix started ``older_than`` seconds ago.

        An upload a crashed process left open is invisible but keeps its parts stored
        (R2 expires it after 7 days); returns how many were aborted.
        """
        cutoff = datetime.now(UTC).timestamp() - older_than
        params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._prefix}
        aborted = 0
        while True:
            with s3_errors("listing unfinished uploads"):
                response = await self._client.list_multipart_uploads(**params)
            for upload in response.get("Uploads") or []:
                if upload["Initiated"].timestamp() >= cutoff:
                    continue
                try:
                    with s3_errors(f"aborting an unfinished upload of {upload['Key']!r}"):
                        await self._client.abort_multipart_upload(
                            Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                except NotFound:
                    continue  # finished or aborted meanwhile
                aborted += 1
            if not response.get("IsTruncated"):
                return aborted
            params["KeyMarker"] = response["NextKeyMarker"]
            params["UploadIdMarker"] = response["NextUploadIdMarker"]

    def verify_presigned(self, key: str, expires: str, sig: str) -> None:
        """Refuse: S3 links are served (and checked) by S3, never by the app."""
        message = "this server does not serve signed object links; the store does"
        raise Forbidden(message, code="signature_mismatch")

    async def presign_get(self, key: str, *, expires_in: int) -> str | None:
        """A SigV4 presigned GET URL valid for ``expires_in`` seconds (1 s to 7 days)."""
        full = self._full_key(key)
        check_expires_in(expires_in)
        with s3_errors(f"signing a link to {key!r}"):
            url = await self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": full}, ExpiresIn=expires_in
            )
        return str(url)

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
