"""Encoding and decoding of message bodies by content type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from asciihub.errors import InvalidInput
from asciihub.queue.limits import (
    CONTENT_TYPES,
    check_batch,
    check_body_size,
    check_delay,
    check_queue_name,
)
from asciihub.queue.protocol import ContentType, OutgoingMessage


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


def encode_batch(
    queue: str,
    messages: Sequence[OutgoingMessage],
    *,
    default_delay: float,
    delay_seconds: float | None,
) -> list[tuple[OutgoingMessage, bytes, float]]:
    """Check a ``send_batch`` and encode it: (message, body bytes, delay) per item.

    Delay precedence (Cloudflare Q6): the item's own delay, else the batch's, else the
    queue's default; ``0`` is a real value that forces "next batch".
    """
    check_queue_name(queue)
    batch_delay = default_delay if delay_seconds is None else check_delay(delay_seconds)
    encoded = [encode_body(item.body, item.content_type) for item in messages]
    check_batch(len(encoded), sum(len(raw) for raw in encoded))
    return [
        (item, raw, batch_delay if item.delay_seconds is None else check_delay(item.delay_seconds))
        for item, raw in zip(messages, encoded, strict=True)
    ]
