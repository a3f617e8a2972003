"""The object store binding (R2 role): the protocol, its value types and the factory.

:func:`open_object_store` is the only code that knows URL schemes:
``file:///abs/path`` or ``file://relative/path`` for the embedded backend and
``s3://BUCKET[/prefix]`` for any S3-compatible server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from asciihub.errors import ConfigError
from asciihub.storage.objects.keys import validate_custom_metadata, validate_key
from asciihub.storage.objects.protocol import (
    ByteRange,
    HttpMetadata,
    ObjectBody,
    ObjectInfo,
    ObjectPage,
    ObjectStore,
)

__all__ = [
    "ByteRange",
    "HttpMetadata",
    "ObjectBody",
    "ObjectInfo",
    "ObjectPage",
    "ObjectStore",
    "open_object_store",
    "validate_custom_metadata",
    "validate_key",
]

DEFAULT_PART_SIZE = 8 * 1024 * 1024


def file_url_path(url: str) -> Path:
    """The directory of a ``file://`` URL: ``file:///abs`` or ``file://relative``."""
    rest = url[len("file://") :]
    if not rest:
        message = f"objects_url {url!r} names no directory; use file:///absolute/path"
        raise ConfigError(message)
    return Path(unquote(rest))


async def open_object_store(
    url: str,
    *,
    signing_secret: str | None = None,
    create_bucket: bool = False,
    part_size: int = DEFAULT_PART_SIZE,
    max_page_size: int = 1000,
    clock: Callable[[], float] = time.time,
) -> ObjectStore:
    """Open the backend named by ``url``; raise ConfigError for an unknown scheme.

    ``signing_secret`` signs the file backend's download links (empty: a random key
    kept in the directory). ``create_bucket`` and ``part_size`` apply to S3.
    ``max_page_size`` caps list pages below ``limit`` (pages may be short, as on R2).
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "file":
        from asciihub.storage.objects.local import LocalObjectStore

        return LocalObjectStore(
            file_url_path(url),
            signing_secret=signing_secret or None,
            max_page_size=max_page_size,
            clock=clock,
        )
    if scheme == "s3":
        from asciihub.storage.objects.s3 import S3ObjectStore

        parts = urlsplit(url)
        if not parts.netloc:
            message = f"objects_url {url!r} names no bucket; use s3://BUCKET[/prefix]"
            raise ConfigError(message)
        return await S3ObjectStore.open(
            parts.netloc,
            prefix=unquote(parts.path),
            create_bucket=create_bucket,
            part_size=part_size,
            max_page_size=max_page_size,
        )
    message = f"objects_url {url!r} has an unknown scheme; use file:///path or s3://BUCKET"
    raise ConfigError(message)
