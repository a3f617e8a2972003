"""Whole numbers from query strings, form fields and JSON, refused cleanly when odd.

``str.isdigit()`` is true for ``"²"`` and other Unicode digits that ``int()`` refuses,
and ``int()`` refuses more than 4,300 digits; both used to end in a 500. Here only
ASCII digits are read, at most :data:`MAX_DIGITS` of them.
"""

from __future__ import annotations

from typing import Any

MAX_DIGITS = 19  # every value up to 2**63 - 1


def whole_number(value: Any) -> int | None:
    """``value`` as a non-negative int (an int, or ASCII digits); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def whole_number_or(value: Any) -> Any:
    """``value`` as an int when it spells one, else ``value`` unchanged (checked later)."""
    number = whole_number(value)
    return value if number is None else number
