"""HMAC-signed download paths for the file backend (the stand-in for S3 presigned URLs).

A path looks like ``/objects/{key}?expires={epoch}&sig={hex}``; the signature covers
the key and the expiry. The HTTP layer calls :func:`verify_signature`, which raises
``Forbidden`` on a bad signature or a past expiry, as R2 answers 403.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from asciihub.errors import Forbidden, InvalidInput

MIN_EXPIRES = 1
MAX_EXPIRES = 7 * 24 * 3600


def check_expires_in(expires_in: int) -> int:
    """Return ``expires_in`` (seconds) if it lies in 1..604,800, else raise InvalidInput."""
    if (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, int)
        or not MIN_EXPIRES <= expires_in <= MAX_EXPIRES
    ):
        message = (
            f"expires_in must be an integer from {MIN_EXPIRES} to {MAX_EXPIRES} seconds, "
            f"not {expires_in!r}"
        )
        raise InvalidInput(message, code="invalid_expiry")
    return expires_in


def _signature(secret: bytes, key: str, expires_at: int) -> str:
    payload = f"GET\n{key}\n{expires_at}".encode()
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def signed_path(secret: bytes, key: str, expires_at: int) -> str:
    """The relative URL that lets anyone GET ``key`` until ``expires_at`` (epoch s)."""
    sig = _signature(secret, key, expires_at)
    return f"/objects/{quote(key, safe='/')}?expires={expires_at}&sig={sig}"


def verify_signature(secret: bytes, key: str, expires: str, sig: str, *, now: float) -> None:
    """Raise Forbidden unless ``sig`` signs ``key`` and ``expires`` lies in the future."""
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        expires_at = -1
    expected = _signature(secret, key, expires_at)
    if expires_at < 0 or not hmac.compare_digest(expected, str(sig)):
        message = "the download link's signature does not match; ask for a new link"
        raise Forbidden(message, code="signature_mismatch")
    if expires_at <= now:
        message = "the download link has expired; ask for a new link"
        raise Forbidden(message, code="link_expired")


def load_or_create_secret(path: Path) -> bytes:
    """The secret kept at ``path``, created (32 random bytes, mode 0600) when missing."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    fresh = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, secrets.token_bytes(32))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(fresh, path)  # first process wins; everybody then reads the same key
    except FileExistsError:
        pass
    finally:
        fresh.unlink()
    return path.read_bytes()
