"""Opaque gallery cursors: the keyset of the last item of a page, base64url JSON."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from asciihub.errors import InvalidInput
from asciihub.storage.metadata.protocol import ArtworkRow, Keyset, Sort

_VERSION = 1


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
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _invalid() from None
    if (
        version != _VERSION
        or cursor_sort != sort
        or not isinstance(artwork_id, str)
        or not isinstance(views, int)
        or created_at.tzinfo is None
    ):
        raise _invalid()
    return Keyset(created_at=created_at, id=artwork_id, views=views)
