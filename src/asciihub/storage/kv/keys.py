"""KV key, value, metadata, expiry and cursor rules shared by every KV backend.

The limits are Workers KV's (key 1..512 UTF-8 bytes and not ``.`` or ``..``, value
≤ 25 MiB, metadata ≤ 1,024 bytes of JSON, list ``limit`` 1..1000, ``get_many`` ≤ 100
keys). One deliberate difference: a TTL may be any integer of at least 1 second,
where Workers KV asks for 60.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import orjson

from asciihub.errors import InvalidInput, TooLarge

HEALTH_PROBE_KEY = "health:probe"
"""The key ``ping`` reads: never written, so a reachable store answers "missing"."""
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 25 * 1024 * 1024
MAX_METADATA_BYTES = 1024
MAX_LIST_LIMIT = 1000
MAX_GET_MANY = 100


def validate_key(key: str) -> str:
    """Return ``key`` unchanged, or raise InvalidInput naming the broken rule."""
    if not isinstance(key, str) or not key:
        message = "KV key must be a non-empty string"
        raise InvalidInput(message, code="invalid_key")
    if key in (".", ".."):
        message = f"KV key {key!r} is not allowed; '.' and '..' are reserved"
        raise InvalidInput(message, code="invalid_key")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        message = f"KV key {key!r} is not valid Unicode text (it holds a lone surrogate)"
        raise InvalidInput(message, code="invalid_key") from None
    if size > MAX_KEY_BYTES:
        message = f"KV key is {size} bytes long; the limit is {MAX_KEY_BYTES} UTF-8 bytes"
        raise InvalidInput(message, code="invalid_key")
    return key


def validate_prefix(prefix: str) -> str:
    """Return a list prefix (possibly empty) after checking it is encodable text."""
    if not isinstance(prefix, str):
        message = "KV list prefix must be a string"
        raise InvalidInput(message, code="invalid_key")
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError:
        message = f"KV list prefix {prefix!r} is not valid Unicode text"
        raise InvalidInput(message, code="invalid_key") from None
    return prefix


def encode_value(value: bytes | str) -> bytes:
    """The stored bytes of a value (text as UTF-8), at most 25 MiB."""
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    else:
        message = f"KV value must be bytes or str, not {type(value).__name__}"
        raise InvalidInput(message, code="invalid_value")
    if len(data) > MAX_VALUE_BYTES:
        message = f"KV value is {len(data)} bytes; the limit is {MAX_VALUE_BYTES} (25 MiB)"
        raise TooLarge(message, code="value_too_large")
    return data


def encode_metadata(metadata: Any) -> str | None:
    """Metadata as compact JSON (None stays None), at most 1,024 bytes."""
    if metadata is None:
        return None
    try:
        text = json.dumps(metadata, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        message = f"KV metadata must be JSON-serialisable: {exc}"
        raise InvalidInput(message, code="invalid_metadata") from None
    size = len(text.encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        message = f"KV metadata is {size} bytes as JSON; the limit is {MAX_METADATA_BYTES}"
        raise TooLarge(message, code="metadata_too_large")
    return text


def decode_metadata(text: str | bytes | None) -> Any:
    """The metadata stored by :func:`encode_metadata` (orjson; json for what it refuses)."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # e.g. an integer wider than 64 bits
        return json.loads(text)


def expiry_of(ttl: int | None, expiration: int | None, now: float) -> int | None:
    """Absolute expiry in epoch seconds, or None; ``ttl`` wins when both are given.

    A TTL must be an integer ≥ 1 (Workers KV asks for ≥ 60); an absolute
    ``expiration`` must be an integer later than ``now``.
    """
    if ttl is not None:
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1:
            message = f"KV ttl must be an integer number of seconds, at least 1, not {ttl!r}"
            raise InvalidInput(message, code="invalid_ttl")
        return int(now) + ttl
    if expiration is not None:
        if isinstance(expiration, bool) or not isinstance(expiration, int):
            message = f"KV expiration must be integer epoch seconds, not {expiration!r}"
            raise InvalidInput(message, code="invalid_ttl")
        if expiration <= now:
            message = f"KV expiration {expiration} is not in the future (now is {int(now)})"
            raise InvalidInput(message, code="invalid_ttl")
        return expiration
    return None


def validate_limit(limit: int) -> int:
    """Return a list ``limit`` in 1..1000, or raise InvalidInput."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        message = f"KV list limit must be an integer from 1 to {MAX_LIST_LIMIT}, not {limit!r}"
        raise InvalidInput(message, code="invalid_limit")
    return limit


def validate_many(keys: Sequence[str]) -> list[str]:
    """The keys of a ``get_many`` call (at most 100), each validated."""
    names = [keys] if isinstance(keys, str) else list(keys)
    if len(names) > MAX_GET_MANY:
        message = f"get_many takes at most {MAX_GET_MANY} keys, not {len(names)}"
        raise InvalidInput(message, code="too_many_keys")
    for name in names:
        validate_key(name)
    return names


def validate_amount(amount: int) -> int:
    """An ``incr`` step: any integer."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        message = f"incr amount must be an integer, not {amount!r}"
        raise InvalidInput(message, code="invalid_amount")
    return amount


def encode_cursor(last_key: str) -> str:
    """An opaque cursor resuming a listing after ``last_key``."""
    return base64.urlsafe_b64encode(last_key.encode("utf-8")).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The key inside a cursor from :func:`encode_cursor`, or InvalidInput."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        message = "KV list cursor is not one this store returned; list again without it"
        raise InvalidInput(message, code="invalid_cursor") from None


def key_upper_bound(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (or None)."""
    text = prefix.rstrip("\U0010ffff")
    if not text:
        return None
    last = ord(text[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:
        last = 0xE000
    return text[:-1] + chr(last)


# --- the product's key layout ----------------------------------------------------------
# Every KV key asciihub writes is named here, so a prefix is typed once.

ARTWORK_CACHE_PREFIX = "ascii:"
SESSION_PREFIX = "session:"
SESSION_INDEX_PREFIX = "user-sessions:"
GALLERY_GENERATION_KEY = "gallery:gen"
VIEWED_PREFIX = "viewed:"
STATE_PREFIXES = (SESSION_PREFIX,)
"""Prefixes of entries that are state rather than cache (copied by ``migrate-data``)."""


def artwork_cache_key(artwork_id: str) -> str:
    """An artwork's cached response body."""
    return f"{ARTWORK_CACHE_PREFIX}{artwork_id}"


def session_key(session_id: str) -> str:
    """One login session."""
    return f"{SESSION_PREFIX}{session_id}"


def session_index_prefix(user_id: str) -> str:
    """The prefix of one user's session index entries."""
    return f"{SESSION_INDEX_PREFIX}{user_id}:"


def gallery_page_key(generation: int | str, digest: str) -> str:
    """One cached gallery page of a cache generation."""
    return f"gallery:{generation}:{digest}"


def viewed_key(artwork_id: str, viewer_digest: str) -> str:
    """Marks that one viewer's view of an artwork was counted in this window."""
    return f"{VIEWED_PREFIX}{artwork_id}:{viewer_digest}"


def share_mail_key(share_id: str) -> str:
    """A share link's token, held only until its "shared with you" e-mail is sent."""
    return f"share-mail:{share_id}"
