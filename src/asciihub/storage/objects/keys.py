"""Object key and custom-metadata validation shared by every object store backend.

The limits are Cloudflare R2's (keys ≤ 1,024 UTF-8 bytes, metadata ≤ 8,192 bytes), so
any key we accept is also valid on real R2. The checks are stricter than R2 in a few
places (control characters, backslashes, ``.``/``..`` segments, metadata key charset)
so that keys map safely onto file systems and URLs. One name is reserved: the file
backend keeps its index and bodies in ``{root}/.asciihub-store/``, next to the files
it publishes at ``{root}/{key}``, so no key may start with that segment (on every
backend, so that a key accepted by one is accepted by all).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from asciihub.errors import InvalidInput, TooLarge

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 8192
MAX_LIST_LIMIT = 1000
MAX_DELETE_KEYS = 1000
RESERVED_SEGMENT = ".asciihub-store"
"""First path segment no key may have: the file backend's own directory under its root."""

HEALTH_PROBE_KEY = "health/probe"
"""The key ``ping`` reads: never written, so a reachable store answers "missing"."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_METADATA_KEY = re.compile(r"[a-z0-9_-]+")


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        message = f"{what} {text!r} is not valid Unicode text (it holds a lone surrogate)"
        raise InvalidInput(message, code="invalid_key") from None


def validate_key(key: str) -> str:
    """Return ``key`` unchanged, or raise InvalidInput saying which rule it breaks."""
    if not isinstance(key, str) or not key:
        message = "object key must be a non-empty string"
        raise InvalidInput(message, code="invalid_key")
    size = len(_utf8(key, "object key"))
    if size > MAX_KEY_BYTES:
        message = f"object key is {size} bytes long; the limit is {MAX_KEY_BYTES} UTF-8 bytes"
        raise InvalidInput(message, code="invalid_key")
    if _CONTROL.search(key):
        message = f"object key {key!r} contains a control character (NUL, newline, ...)"
        raise InvalidInput(message, code="invalid_key")
    if key.startswith("/"):
        message = f"object key {key!r} must not start with '/'"
        raise InvalidInput(message, code="invalid_key")
    if "\\" in key:
        message = f"object key {key!r} must not contain a backslash; use '/' between parts"
        raise InvalidInput(message, code="invalid_key")
    parts = key.split("/")
    if any(part in (".", "..") for part in parts):
        message = f"object key {key!r} must not have a '.' or '..' path segment"
        raise InvalidInput(message, code="invalid_key")
    if is_reserved_segment(parts[0]):
        message = (
            f"object key {key!r} starts with {RESERVED_SEGMENT!r}, a name reserved for "
            "the store's own files; choose another first path segment"
        )
        raise InvalidInput(message, code="invalid_key")
    return key


def is_reserved_segment(segment: str) -> bool:
    """True for the reserved name in any letter case (case-insensitive file systems)."""
    return segment.casefold() == RESERVED_SEGMENT


def validate_prefix(prefix: str) -> str:
    """Return a listing prefix unchanged; it may be empty but must be valid text."""
    if not isinstance(prefix, str):
        message = "list prefix must be a string"
        raise InvalidInput(message, code="invalid_key")
    size = len(_utf8(prefix, "list prefix"))
    if size > MAX_KEY_BYTES:
        message = f"list prefix is {size} bytes long; the limit is {MAX_KEY_BYTES} UTF-8 bytes"
        raise InvalidInput(message, code="invalid_key")
    return prefix


def validate_custom_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of ``metadata`` after checking key charset, value types and total size."""
    if not metadata:
        return {}
    total = 0
    checked: dict[str, str] = {}
    for name, value in metadata.items():
        if not isinstance(name, str) or not _METADATA_KEY.fullmatch(name):
            message = (
                f"custom metadata key {name!r} is not allowed; "
                "use lowercase letters, digits, '_' and '-' only"
            )
            raise InvalidInput(message, code="invalid_metadata")
        if not isinstance(value, str):
            message = f"custom metadata value for {name!r} must be a string"
            raise InvalidInput(message, code="invalid_metadata")
        total += len(name) + len(_utf8(value, "custom metadata value"))
        checked[name] = value
    if total > MAX_METADATA_BYTES:
        message = (
            f"custom metadata is {total} bytes (keys plus UTF-8 values); "
            f"the limit is {MAX_METADATA_BYTES}"
        )
        raise TooLarge(message, code="metadata_too_large")
    return checked


def validate_limit(limit: int) -> int:
    """Return a list ``limit`` in 1..1000, or raise InvalidInput."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        message = f"list limit must be an integer from 1 to {MAX_LIST_LIMIT}, not {limit!r}"
        raise InvalidInput(message, code="invalid_limit")
    return limit


def validate_sha256(sha256: str | None) -> str | None:
    """Return a lowercase hex SHA-256, or raise InvalidInput when it is malformed."""
    if sha256 is None:
        return None
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        message = "sha256 must be 64 hexadecimal characters"
        raise InvalidInput(message, code="invalid_checksum")
    return sha256.lower()


def key_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix``.

    None when no such string exists (empty prefix, or only U+10FFFF characters).
    Code point order equals UTF-8 byte order, so this bounds byte-ordered ranges.
    """
    text = prefix.rstrip("\U0010ffff")
    if not text:
        return None
    last = ord(text[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:
        last = 0xE000
    return text[:-1] + chr(last)


# --- the product's key layout ----------------------------------------------------------
# Every object key asciihub writes is named here, so a prefix is typed once.

ARTWORKS_PREFIX = "artworks/"
THUMBNAILS_PREFIX = "thumbnails/"
CARDS_PREFIX = "cards/"
AVATARS_PREFIX = "avatars/"
EXPORTS_PREFIX = "exports/"
MEDIA_PREFIX = "media/"
IMAGE_PREFIXES = (THUMBNAILS_PREFIX, CARDS_PREFIX)
"""Images rendered from an artwork, keyed by its id."""


def artwork_key(user_id: str, artwork_id: str, version: str | None = None) -> str:
    """Where one version of an artwork's document lives (``None``: the first one).

    An update writes a new version next to the old one and only then points the row
    at it, so a reader always finds a whole document: the old one or the new one.
    """
    suffix = f".{version}" if version else ""
    return f"{ARTWORKS_PREFIX}{user_id}/{artwork_id}{suffix}.json"


def artwork_id_of(key: str) -> str | None:
    """The artwork id an artwork document key belongs to, or None for another key."""
    if not key.startswith(ARTWORKS_PREFIX) or not key.endswith(".json"):
        return None
    name = key[len(ARTWORKS_PREFIX) : -len(".json")].rsplit("/", 1)[-1]
    return name.split(".", 1)[0] or None


def image_key(kind: str, artwork_id: str) -> str:
    """An artwork's rendered ``thumbnail`` or ``card``."""
    prefix = THUMBNAILS_PREFIX if kind == "thumbnail" else CARDS_PREFIX
    return f"{prefix}{artwork_id}.png"


def image_artwork_id(key: str) -> str | None:
    """The artwork id a thumbnail or card key belongs to, or None for another key."""
    for prefix in IMAGE_PREFIXES:
        if key.startswith(prefix) and key.endswith(".png"):
            return key[len(prefix) : -len(".png")] or None
    return None


def avatar_key(user_id: str) -> str:
    """A user's avatar."""
    return f"{AVATARS_PREFIX}{user_id}.png"


def export_key(user_id: str, export_id: str, extension: str) -> str:
    """An export's file."""
    return f"{EXPORTS_PREFIX}{user_id}/{export_id}.{extension}"


ARTWORK_EXPORTS_PREFIX = f"{EXPORTS_PREFIX}artworks/"
"""Exports shared by everyone who may view an artwork: one object per version and format."""


def artwork_export_key(artwork_id: str, version: str, extension: str) -> str:
    """The shared export of one version of an artwork in one format."""
    return f"{ARTWORK_EXPORTS_PREFIX}{artwork_id}/{version}.{extension}"


def artwork_exports_prefix(artwork_id: str) -> str:
    """The prefix of every shared export of one artwork (deleted with it)."""
    return f"{ARTWORK_EXPORTS_PREFIX}{artwork_id}/"


def artwork_export_parts(key: str) -> tuple[str, str] | None:
    """``(artwork_id, version)`` of a shared export key, or None for another key."""
    if not key.startswith(ARTWORK_EXPORTS_PREFIX):
        return None
    artwork_id, _, name = key[len(ARTWORK_EXPORTS_PREFIX) :].partition("/")
    version = name.rsplit(".", 1)[0]
    if not artwork_id or not version or "/" in name:
        return None
    return artwork_id, version


def user_exports_prefix(user_id: str) -> str:
    """The prefix of every export file of one user."""
    return f"{EXPORTS_PREFIX}{user_id}/"


def media_key(user_id: str, media_id: str) -> str:
    """Where an upload waits for its conversion job."""
    return f"{MEDIA_PREFIX}{user_id}/{media_id}"


CHAT_IMAGE_MARK = "chat-"
"""How a chat attachment's name starts inside ``media/{user_id}/`` (no job holds it)."""


def chat_image_key(user_id: str, image_id: str) -> str:
    """An image attached to room chat: ``media/{user_id}/chat-{image_id}``."""
    return media_key(user_id, f"{CHAT_IMAGE_MARK}{image_id}")


def is_chat_image_key(key: str) -> bool:
    """True for a chat attachment's key (kept, unlike an upload no job holds)."""
    return key.startswith(MEDIA_PREFIX) and key.rsplit("/", 1)[-1].startswith(CHAT_IMAGE_MARK)
