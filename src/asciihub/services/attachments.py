"""File names of downloads and their ``Content-Disposition`` header (RFC 6266, RFC 5987).

A download is named after the artwork's title: letters, digits and a few marks kept,
every other run of characters made one ``-``, at most ``MAX_STEM`` characters. The
header carries an ASCII ``filename=`` for old clients and the exact UTF-8 name in
``filename*=UTF-8''…`` (percent-encoded), which current browsers prefer.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_STEM = 80
_UNSAFE = re.compile(r"[^\w.() -]+", re.UNICODE)
_SPACES = re.compile(r"[\s-]+")
_NON_ASCII = re.compile(r"[^A-Za-z0-9._() -]+")


def download_filename(title: str | None, fallback: str, extension: str) -> str:
    """``{title}.{extension}`` made safe for every file system; ``fallback`` when empty."""
    text = unicodedata.normalize("NFC", title or "")
    text = _UNSAFE.sub("-", text)
    text = _SPACES.sub("-", text).strip(".-_ ")[:MAX_STEM].rstrip(".-_ ")
    return f"{text or fallback}.{extension}"


def _ascii_fallback(filename: str) -> str:
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    stem, dot, extension = folded.rpartition(".")
    stem = _NON_ASCII.sub("-", stem if dot else folded).strip("-") or "download"
    return f"{stem}.{extension}" if dot else stem


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, when it differs, ``filename*``."""
    fallback = _ascii_fallback(filename).replace("\\", "-").replace('"', "-")
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header
