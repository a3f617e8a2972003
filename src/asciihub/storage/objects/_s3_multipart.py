"""Multipart uploads for the S3 backend (large objects and streams).

All parts but the last have the configured part size (S3 requires at least 5 MiB);
the object appears whole when the upload completes, and an upload that fails is
aborted (servers also expire forgotten uploads, R2 after 7 days).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from asciihub.errors import NotFound, Unavailable
from asciihub.storage.objects._s3_codec import put_params, s3_errors
from asciihub.storage.objects.options import normalize_etag
from asciihub.storage.objects.protocol import HttpMetadata, ObjectInfo


class MultipartUpload:
    """One multipart upload in progress (parts numbered from 1)."""

    def __init__(self, client: Any, bucket: str, key: str, full: str, upload_id: str) -> None:
        self._client, self._bucket = client, bucket
        self._key, self._full, self._id = key, full, upload_id
        self._parts: list[dict[str, Any]] = []
        self._size = 0
        self._info: tuple[HttpMetadata | None, dict[str, str], str] | None = None

    @classmethod
    async def start(
        cls,
        client: Any,
        bucket: str,
        key: str,
        full: str,
        http_metadata: HttpMetadata | None,
        custom: dict[str, str],
    ) -> MultipartUpload:
        """CreateMultipartUpload with the object's metadata."""
        version = secrets.token_hex(16)
        with s3_errors(f"starting an upload of {key!r}"):
            response = await client.create_multipart_upload(
                Bucket=bucket, Key=full, **put_params(http_metadata, custom, version)
            )
        upload = cls(client, bucket, key, full, str(response["UploadId"]))
        upload._info = (http_metadata, custom, version)
        return upload

    async def send(self, data: bytes) -> None:
        """UploadPart with the next part number."""
        number = len(self._parts) + 1
        with s3_errors(f"uploading part {number} of {self._key!r}"):
            response = await self._client.upload_part(
                Bucket=self._bucket,
                Key=self._full,
                UploadId=self._id,
                PartNumber=number,
                Body=data,
            )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self._size += len(data)

    async def complete(self) -> ObjectInfo:
        """CompleteMultipartUpload; the object appears whole at once."""
        with s3_errors(f"completing the upload of {self._key!r}"):
            response = await self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._full,
                UploadId=self._id,
                MultipartUpload={"Parts": self._parts},
            )
        http_metadata, custom, version = self._info or (None, {}, "")
        return ObjectInfo(
            key=self._key,
            size=self._size,
            etag=normalize_etag(str(response["ETag"])),
            version=version,
            uploaded=datetime.now(UTC),
            http_metadata=http_metadata or HttpMetadata(),
            custom_metadata=custom,
        )

    async def abort(self) -> None:
        """AbortMultipartUpload, ignoring errors (the server expires it otherwise)."""
        try:
            with s3_errors(f"aborting the upload of {self._key!r}"):
                await self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._full, UploadId=self._id
                )
        except (Unavailable, NotFound):
            pass
