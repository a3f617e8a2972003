"""Encoding and decoding of message bodies by content type."""

from __future__ import annotations

from typing import Any

import orjson

from asciihub.errors import InvalidInput
from asciihub.queue.limits import CONTENT_TYPES, check_body_size
from asciihub.queue.protocol import ContentType


def check_content_type(content_type: str) -> ContentType:
    """Return ``content_type`` if it is json, text or bytes."""
    if content_type not in CONTENT_TYPES:
        message = (
            f"content_type {content_type!r} is not supported; use one of {', '.join(CONTENT_TYPES)}"
        )
        raise InvalidInput(message, code="invalid_content_type")
    return content_type  # type: ignore[return-value]


def encode_body(body: Any, content_type: str) -> bytes:
    """The stored bytes of ``body``; raise when it does not match ``content_type``."""
    kind = check_content_type(content_type)
    if kind == "json":
        try:
            raw = orjson.dumps(body)
        except TypeError as exc:
            message = f"body is not JSON-serialisable ({exc}); use content_type 'bytes' or 'text'"
            raise InvalidInput(message, code="content_type_mismatch") from None
    elif kind == "text":
        if not isinstance(body, str):
            message = f"content_type 'text' needs a str body, not {type(body).__name__}"
            raise InvalidInput(message, code="content_type_mismatch")
        raw = body.encode("utf-8")
    else:
        if not isinstance(body, bytes | bytearray | memoryview):
            message = f"content_type 'bytes' needs a bytes body, not {type(body).__name__}"
            raise InvalidInput(message, code="content_type_mismatch")
        raw = bytes(body)
    check_body_size(len(raw))
    return raw


def decode_body(raw: bytes, content_type: str) -> Any:
    """The body value stored as ``raw`` under ``content_type``."""
    if content_type == "json":
        return orjson.loads(raw)
    if content_type == "text":
        return raw.decode("utf-8")
    return raw
