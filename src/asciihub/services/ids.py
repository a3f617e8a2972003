"""Random identifiers and secrets.

Artwork ids carry 128 random bits (an unlisted artwork's id is its secret), with no
time prefix or sequence, so nothing can be enumerated from a known id.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

ID_BYTES = 16
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")


def new_id() -> str:
    """A URL-safe id with about 128 random bits (22 characters).

    An id never starts with ``-``: a command line would read it as an option
    (``asciihub artworks show -5o…``), so such a draw (one in 64) is made again.
    """
    while True:
        value = secrets.token_urlsafe(ID_BYTES)
        if _is_usable(value):
            return value


def _is_usable(value: str) -> bool:
    return not value.startswith("-")


def derived_id(seed: str) -> str:
    """The id made from ``seed``: the same for the same seed, by the rule of :func:`new_id`.

    For work that must name its result the same way on every attempt (a job's artwork).
    A digest that would start with ``-`` is derived again with a counter.
    """
    attempt = 0
    while True:
        material = seed if attempt == 0 else f"{seed}\0{attempt}"
        digest = hashlib.sha256(material.encode()).digest()[:ID_BYTES]
        value = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        if _is_usable(value):
            return value
        attempt += 1


def is_valid_id(value: str) -> bool:
    """True when ``value`` has the shape of an id made by :func:`new_id`."""
    return bool(_ID_RE.match(value))


def new_secret() -> str:
    """A URL-safe secret with 256 random bits (43 characters), for tokens."""
    return secrets.token_urlsafe(32)
