"""Fractional order keys: base-62 strings that sort frames without renumbering them.

The scheme is the one of the ``fractional-indexing`` package (David Greenspan's
"Implementing Fractional Indexing", used by Figma-style and Excalidraw editors). A key
is an *integer part* followed by an optional *fraction*:

- the integer part starts with a head letter giving its length: ``a``..``z`` mean 2..27
  characters (positive integers, ``a0`` is the first key ever made), ``A``..``Z`` mean
  27..2 characters (negative integers, for inserting before ``a0`` repeatedly);
- the fraction is base-62 digits (``0-9A-Za-z``, in ASCII order) that never end in
  ``0``, so there is always room for another key before it.

Keys compare as plain strings. Appending at the end only increments the integer part
(``a0``, ``a1``, ... ``az``, ``b00``), so it grows logarithmically; inserting again and
again at one spot halves a gap each time and grows by one character about every six
inserts (62 ≈ 2^6). Two clients can pick the same key for different frames; frames are
then ordered by (key, id), and a client moves one of them to separate them.
"""

from __future__ import annotations

from asciihub.errors import InvalidInput

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MAX_KEY_CHARS = 256
_SMALLEST_INTEGER = "A" + "0" * 26
_DIGIT_SET = frozenset(DIGITS)


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_order_key")


def _integer_length(head: str) -> int:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    message = f"order key head {head!r} must be a letter"
    raise _bad(message)


def _integer_part(key: str) -> str:
    length = _integer_length(key[0])
    if length > len(key):
        message = f"order key {key!r} is shorter than its head letter says ({length})"
        raise _bad(message)
    return key[:length]


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid order key, else raise ``InvalidInput``."""
    if not key or len(key) > MAX_KEY_CHARS:
        message = f"an order key must be 1 to {MAX_KEY_CHARS} characters"
        raise _bad(message)
    if not _DIGIT_SET.issuperset(key):
        message = f"order key {key!r} may hold only the base-62 digits 0-9, A-Z, a-z"
        raise _bad(message)
    if key == _SMALLEST_INTEGER:
        message = f"order key {key!r} leaves no room before it"
        raise _bad(message)
    integer = _integer_part(key)
    if key[len(integer) :].endswith("0"):
        message = f"order key {key!r} must not end in 0 after its integer part"
        raise _bad(message)
    return key


def _midpoint(a: str, b: str | None) -> str:
    """A fraction strictly between fractions ``a`` and ``b`` (None is 1)."""
    if b is not None:
        n = 0
        while n < len(b) and (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    digit_a = DIGITS.index(a[0]) if a else 0
    digit_b = DIGITS.index(b[0]) if b else len(DIGITS)
    if digit_b - digit_a > 1:
        return DIGITS[(digit_a + digit_b + 1) // 2]
    if b is not None and len(b) > 1:
        return b[:1]
    return DIGITS[digit_a] + _midpoint(a[1:], None)


def _increment(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in reversed(range(len(digits))):
        d = DIGITS.index(digits[i]) + 1
        if d < len(DIGITS):
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = "0"
    if head == "Z":
        return "a0"
    if head == "z":
        return None
    new_head = chr(ord(head) + 1)
    if new_head > "a":
        digits.append("0")
    else:
        digits.pop()
    return new_head + "".join(digits)


def _decrement(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in reversed(range(len(digits))):
        d = DIGITS.index(digits[i]) - 1
        if d >= 0:
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = DIGITS[-1]
    if head == "a":
        return "Z" + DIGITS[-1]
    if head == "A":
        return None
    new_head = chr(ord(head) - 1)
    if new_head < "Z":
        digits.append(DIGITS[-1])
    else:
        digits.pop()
    return new_head + "".join(digits)


def _before(b: str) -> str:
    integer = _integer_part(b)
    if integer == _SMALLEST_INTEGER:
        return integer + _midpoint("", b[len(integer) :])
    if integer < b:
        return integer
    lower = _decrement(integer)
    if lower is None:  # pragma: no cover - only _SMALLEST_INTEGER has no predecessor
        message = f"no order key fits before {b!r}"
        raise _bad(message)
    return lower


def _after(a: str) -> str:
    integer = _integer_part(a)
    higher = _increment(integer)
    return integer + _midpoint(a[len(integer) :], None) if higher is None else higher


def key_between(a: str | None, b: str | None) -> str:
    """A new order key that sorts strictly after ``a`` and before ``b``.

    None means "no neighbour": ``key_between(None, None)`` is the first key (``a0``),
    ``key_between(last, None)`` appends, ``key_between(None, first)`` prepends. Raises
    ``InvalidInput`` (``invalid_order_key``) for a malformed key or when ``a >= b``.
    """
    if a is not None:
        check_key(a)
    if b is not None:
        check_key(b)
    if a is not None and b is not None and a >= b:
        message = f"order key {a!r} must sort before {b!r} to put a key between them"
        raise _bad(message)
    if a is None:
        return "a0" if b is None else _before(b)
    if b is None:
        return _after(a)
    integer_a = _integer_part(a)
    integer_b = _integer_part(b)
    if integer_a == integer_b:
        return integer_a + _midpoint(a[len(integer_a) :], b[len(integer_b) :])
    higher = _increment(integer_a)
    if higher is not None and higher < b:
        return higher
    return integer_a + _midpoint(a[len(integer_a) :], None)
