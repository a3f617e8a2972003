"""The KV binding (KV role): the protocol, its value types and the factory.

:func:`open_kv_store` is the only code that knows URL schemes: ``sqlite:///abs/path``,
``sqlite://relative/path`` and ``redis://host:port/db`` (optionally
``?namespace=NAME``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from asciihub.errors import ConfigError
from asciihub.storage.kv.protocol import JsonValue, KVKey, KVPage, KVStore

__all__ = ["JsonValue", "KVKey", "KVPage", "KVStore", "open_kv_store"]


def _redis_url_and_namespace(url: str, namespace: str | None) -> tuple[str, str]:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    from_url = [value for name, value in query if name == "namespace"]
    rest = [(name, value) for name, value in query if name != "namespace"]
    chosen = (from_url[-1] if from_url else "") or namespace or "asciihub"
    return urlunsplit(parts._replace(query=urlencode(rest))), chosen


async def open_kv_store(
    url: str,
    *,
    namespace: str | None = None,
    clock: Callable[[], float] = time.time,
) -> KVStore:
    """Open the backend named by ``url``; raise ConfigError for an unknown scheme.

    ``namespace`` (Redis only, setting ``kv_namespace``) prefixes every Redis key; a
    ``?namespace=`` in the URL wins over it; the default is ``asciihub``. ``clock``
    returns epoch seconds (tests pass a fake one).
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        from asciihub.storage.kv.sqlite import SqliteKVStore

        rest = url[len("sqlite://") :]
        if not rest:
            message = f"kv_url {url!r} names no file; use sqlite:///absolute/path.sqlite3"
            raise ConfigError(message)
        return SqliteKVStore(Path(unquote(rest)), clock=clock)
    if scheme in ("redis", "rediss", "unix"):
        from asciihub.storage.kv.redis import RedisKVStore

        plain, chosen = _redis_url_and_namespace(url, namespace)
        return RedisKVStore.from_url(plain, namespace=chosen, clock=clock)
    message = f"kv_url {url!r} has an unknown scheme; use sqlite:///path or redis://host:port/db"
    raise ConfigError(message)
