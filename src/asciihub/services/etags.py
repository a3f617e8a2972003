"""Entity tags in conditional requests: one parser for every route and the fast lane.

``If-None-Match`` holds ``*`` or a comma-separated list of entity tags, each quoted
and maybe weak (``W/"…"``). Matching is the weak comparison of RFC 9110 §13.1.2,
which is what a ``GET`` revalidation uses: tags are equal when their quoted values
are, whether either side is weak or not.
"""

from __future__ import annotations


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag[:2] in ("W/", "w/") else tag


def parse_tags(header: str) -> list[str]:
    """The entity tags of an ``If-None-Match`` / ``If-Match`` value, weak prefixes dropped.

    A comma inside a quoted tag does not split it. ``*`` is kept as ``"*"``.
    """
    tags: list[str] = []
    current: list[str] = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            tags.append("".join(current))
            current = []
            continue
        current.append(char)
    tags.append("".join(current))
    return [_opaque(tag) for tag in tags if tag.strip()]


def none_match(header: str | bytes | None, etag: str) -> bool:
    """True when ``If-None-Match: header`` matches ``etag`` (answer 304 then)."""
    if header is None:
        return False
    text = header.decode("latin-1") if isinstance(header, bytes) else header
    wanted = _opaque(etag)
    return any(tag in ("*", wanted) for tag in parse_tags(text))
