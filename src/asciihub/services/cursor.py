"""Opaque gallery cursors: the keyset of the last item of a page, base64url JSON."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from asciihub.errors import InvalidInput
from asciihub.services.ids import is_valid_id
from asciihub.storage.metadata.protocol import ArtworkRow, Keyset, Sort

_VERSION = 1
MAX_VIEWS = 2**63 - 1  # the largest count a BIGINT column holds


def encode_cursor(row: ArtworkRow, sort: Sort) -> str:
    """The cursor that continues after ``row`` in ``sort`` order."""
    payload = [_VERSION, sort, row.created_at.isoformat(), row.id, row.views]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid() -> InvalidInput:
    message = "cursor is not valid; use next_cursor from a previous page, unchanged"
    return InvalidInput(message, code="invalid_cursor")


def decode_cursor(cursor: str, sort: Sort) -> Keyset:
    """The keyset in ``cursor``; InvalidInput when it is malformed or for another sort."""
    if len(cursor) > 512:
        raise _invalid()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, cursor_sort, created, artwork_id, views = json.loads(raw)
        created_at = datetime.fromisoformat(created)
        if created_at.tzinfo is None:
            raise _invalid()
        # A far offset at the ends of the calendar cannot be moved to UTC.
        created_at = created_at.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise _invalid() from None
    if (
        version != _VERSION
        or cursor_sort != sort
        or not isinstance(artwork_id, str)
        or not is_valid_id(artwork_id)
        or isinstance(views, bool)
        or not isinstance(views, int)
        or not 0 <= views <= MAX_VIEWS
    ):
        raise _invalid()
    return Keyset(created_at=created_at, id=artwork_id, views=views)
