"""Translation at the S3 backend's edge: metadata headers in and out, driver errors.

Custom metadata travels as ``x-amz-meta-*`` headers. A value that is not plain
printable ASCII (or that has outer spaces, or already looks encoded) is sent as one
RFC 2047 encoded word, ``=?UTF-8?B?{base64}?=``, the same scheme R2's S3 API uses,
and decoded on the way back. Internal fields use a ``.`` in their name
(``asciihub.version``), which user metadata keys (``[a-z0-9_-]``) can never contain.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.header import decode_header
from typing import Any

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError

from asciihub.errors import (
    AsciihubError,
    DependencyDown,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    TooLarge,
    Unavailable,
)
from asciihub.storage.objects.options import normalize_etag
from asciihub.storage.objects.protocol import HttpMetadata, ObjectInfo

VERSION_FIELD = "asciihub.version"
_PLAIN = re.compile(r"[\x20-\x7e]*")
_ENCODED = re.compile(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=(\s+=\?[^?]+\?[bBqQ]\?[^?]*\?=)*")
_HTTP_FIELDS = {
    "content_type": "ContentType",
    "content_language": "ContentLanguage",
    "content_disposition": "ContentDisposition",
    "content_encoding": "ContentEncoding",
    "cache_control": "CacheControl",
}
_S3_DEFAULT_CONTENT_TYPE = "binary/octet-stream"


def encode_value(value: str) -> str:
    """A header-safe form of a metadata value (RFC 2047 when it is not plain ASCII)."""
    if _PLAIN.fullmatch(value) and value == value.strip() and not value.startswith("=?"):
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode()).decode() + "?="


def decode_value(value: str) -> str:
    """The original text of a value made by :func:`encode_value` (or by R2)."""
    if not _ENCODED.fullmatch(value):
        return value
    parts = []
    for chunk, charset in decode_header(value):
        parts.append(chunk.decode(charset or "ascii") if isinstance(chunk, bytes) else chunk)
    return "".join(parts)


def put_params(
    http_metadata: HttpMetadata | None, custom: Mapping[str, str], version: str
) -> dict[str, Any]:
    """PutObject / CreateMultipartUpload arguments for the metadata of one write."""
    metadata = {name: encode_value(value) for name, value in custom.items()}
    metadata[VERSION_FIELD] = version
    params: dict[str, Any] = {"Metadata": metadata}
    if http_metadata is not None:
        for field, param in _HTTP_FIELDS.items():
            value = getattr(http_metadata, field)
            if value is not None:
                params[param] = value
    return params


def info_from_response(key: str, response: Mapping[str, Any], size: int) -> ObjectInfo:
    """An ObjectInfo from a HeadObject or GetObject response."""
    raw = dict(response.get("Metadata") or {})
    version = str(raw.pop(VERSION_FIELD, "") or response.get("VersionId") or "")
    http = {field: response.get(param) for field, param in _HTTP_FIELDS.items()}
    if http["content_type"] == _S3_DEFAULT_CONTENT_TYPE:
        http["content_type"] = None
    uploaded = response.get("LastModified")
    return ObjectInfo(
        key=key,
        size=size,
        etag=normalize_etag(str(response.get("ETag", ""))),
        version=version,
        uploaded=uploaded if isinstance(uploaded, datetime) else datetime.now(UTC),
        http_metadata=HttpMetadata(**http),
        custom_metadata={name: decode_value(str(value)) for name, value in raw.items()},
    )


def error_code(error: BaseException) -> tuple[str, int]:
    """The S3 error code and HTTP status of a botocore ClientError ('', 0 otherwise)."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return "", 0
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def _translate_client_error(code: str, status: int, what: str) -> AsciihubError:
    if code in ("NoSuchKey", "NotFound", "404"):
        message = f"{what}: no such object"
        return NotFound(message)
    if code == "NoSuchUpload":
        message = f"{what}: no such multipart upload (finished or aborted)"
        return NotFound(message)
    if code in ("PreconditionFailed", "ConditionalRequestConflict") or status == 412:
        message = f"{what}: the object changed (precondition failed); read it again and retry"
        return PreconditionFailed(message)
    if code in ("EntityTooLarge", "MetadataTooLarge"):
        message = f"{what}: the S3 server refused the size ({code})"
        return TooLarge(message)
    if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
        message = f"{what}: the body does not match its checksum ({code})"
        return InvalidInput(message, code="checksum_mismatch")
    if code == "InvalidRange" or status == 416:
        message = f"{what}: the range starts past the end of the object"
        return InvalidInput(message, code="range_not_satisfiable")
    if code in ("InvalidArgument", "KeyTooLongError", "InvalidRequest"):
        message = f"{what}: the S3 server refused the request ({code})"
        return InvalidInput(message)
    if code == "NoSuchBucket":
        message = f"{what}: the bucket does not exist; create it or fix objects_url"
        return Unavailable(message, retry_after=60, code="bucket_missing")
    if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        message = f"{what}: the S3 server denied access ({code}); check the AWS_* credentials"
        return Unavailable(message, retry_after=60, code="storage_denied")
    message = f"{what}: the S3 server answered {status} {code}; try again later"
    if status >= 500 or status in (408, 429):  # the store is down or shedding load
        return DependencyDown(message, retry_after=1 if status >= 500 else 5)
    return Unavailable(message, retry_after=5)


@contextmanager
def s3_errors(what: str) -> Iterator[None]:
    """Turn botocore and aiohttp errors into asciihub errors, chaining the cause."""
    try:
        yield
    except ClientError as exc:
        code, status = error_code(exc)
        raise _translate_client_error(code, status, what) from exc
    except (BotoCoreError, aiohttp.ClientError, OSError) as exc:  # OSError covers timeouts
        message = f"{what}: cannot reach the S3 server ({type(exc).__name__}); try again later"
        raise DependencyDown(message, retry_after=5, code="storage_unreachable") from exc
