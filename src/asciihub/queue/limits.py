"""Queue limits (Cloudflare Queues' numbers) and the checks every backend applies."""

from __future__ import annotations

import math
import re

from asciihub.errors import InvalidInput, TooLarge

MAX_BODY_BYTES = 128 * 1024
"""Largest encoded message body."""
MAX_BATCH_MESSAGES = 100
"""Most messages in one ``send_batch``."""
MAX_BATCH_BYTES = 256 * 1024
"""Largest total of encoded bodies in one ``send_batch``."""
MAX_DELAY_SECONDS = 43_200
"""Longest send or retry delay (12 hours)."""
MAX_VISIBILITY_TIMEOUT = 43_200
"""Longest lease a consumer may take (12 hours)."""
MAX_RECEIVE = 100
"""Most messages one ``receive`` may lease."""
CONTENT_TYPES = ("json", "text", "bytes")
"""Accepted content types."""

_QUEUE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def check_queue_name(name: str) -> str:
    """Return ``name`` if it is 1..63 of ``a-z 0-9 _ -`` starting alphanumeric."""
    if not isinstance(name, str) or not _QUEUE_NAME.fullmatch(name):
        message = (
            f"queue name {name!r} is not valid: use 1 to 63 characters from a-z, 0-9, "
            "'_' and '-', starting with a letter or digit"
        )
        raise InvalidInput(message, code="invalid_queue_name")
    return name


def parse_queue_names(text: str) -> list[str]:
    """Split a comma-separated list of queue names and check each one."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        message = "no queue names given: name at least one queue, e.g. 'generation'"
        raise InvalidInput(message, code="invalid_queue_name")
    return [check_queue_name(name) for name in names]


def check_delay(delay_seconds: float, *, what: str = "delay_seconds") -> float:
    """Return the delay as a float if it lies in 0..43200 seconds."""
    if isinstance(delay_seconds, bool) or not isinstance(delay_seconds, int | float):
        message = f"{what} must be a number of seconds, not {type(delay_seconds).__name__}"
        raise InvalidInput(message, code="invalid_delay")
    value = float(delay_seconds)
    if not math.isfinite(value) or not 0 <= value <= MAX_DELAY_SECONDS:
        message = f"{what} is {delay_seconds!r}; it must lie in 0..{MAX_DELAY_SECONDS} seconds"
        raise InvalidInput(message, code="invalid_delay")
    return value


def check_visibility_timeout(seconds: float) -> float:
    """Return the lease length if it lies in (0, 43200] seconds."""
    value = float(seconds)
    if not math.isfinite(value) or not 0 < value <= MAX_VISIBILITY_TIMEOUT:
        message = (
            f"visibility_timeout is {seconds!r}; it must be above 0 and at most "
            f"{MAX_VISIBILITY_TIMEOUT} seconds"
        )
        raise InvalidInput(message, code="invalid_visibility_timeout")
    return value


def check_max_messages(count: int) -> int:
    """Return ``count`` if one receive may lease that many (1..100)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_RECEIVE:
        message = f"max_messages is {count!r}; it must be an integer in 1..{MAX_RECEIVE}"
        raise InvalidInput(message, code="invalid_max_messages")
    return count


def check_body_size(size: int) -> None:
    """Refuse an encoded body larger than 128 KiB."""
    if size > MAX_BODY_BYTES:
        message = (
            f"message body is {size} bytes encoded; the limit is {MAX_BODY_BYTES} bytes "
            "(128 KiB): store large payloads in the object store and send their key"
        )
        raise TooLarge(message, code="message_too_large")


def check_batch(count: int, total_bytes: int) -> None:
    """Refuse an empty batch, one over 100 messages, or one over 256 KiB in all."""
    if not 1 <= count <= MAX_BATCH_MESSAGES:
        message = f"send_batch got {count} messages; send 1 to {MAX_BATCH_MESSAGES} at a time"
        raise InvalidInput(message, code="invalid_batch")
    if total_bytes > MAX_BATCH_BYTES:
        message = (
            f"send_batch bodies total {total_bytes} bytes; the limit is {MAX_BATCH_BYTES} "
            "bytes (256 KiB): split the batch"
        )
        raise TooLarge(message, code="batch_too_large")
