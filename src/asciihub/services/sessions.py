"""Login sessions in KV: ``session:{digest}`` with an idle TTL and an absolute cap.

The cookie holds a 256-bit secret; KV keys hold its SHA-256 digest, so a dump of KV
reveals no usable session. Each session also has an index key
``user-sessions:{user_id}:{digest}`` so that a password change or account deletion
can end every session of a user. A session idles out after ``ttl`` seconds without
use, and ends ``max_age`` seconds after login however often it is used.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from asciihub.services.ids import new_secret
from asciihub.storage.kv.keys import session_index_prefix, session_key
from asciihub.storage.kv.protocol import KVStore

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session: whose it is, its digest and when it began (epoch seconds)."""

    user_id: str
    session_id: str
    created: float


class SessionStore:
    """Creates, resolves, renews and ends sessions through the KV binding."""

    def __init__(
        self,
        kv: KVStore,
        *,
        ttl: int = 86400,
        max_age: int = 30 * 86400,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kv = kv
        self.ttl = ttl
        self.max_age = max_age
        self.clock = clock
        self.renew_after = min(300, max(1, ttl // 10))

    async def create(self, user_id: str) -> str:
        """A new session for ``user_id``; returns the secret for the cookie."""
        secret = new_secret()
        now = self.clock()
        await self._store(digest(secret), user_id, created=now, now=now)
        return secret

    async def resolve(self, secret: str) -> Session | None:
        """The session a cookie secret names, renewed if due; None when over or unknown."""
        if not _SECRET_RE.match(secret):
            return None
        session_id = digest(secret)
        raw = await self.kv.get(session_key(session_id))
        if raw is None:
            return None
        data = orjson.loads(raw)
        now = self.clock()
        if now >= data["x"] or now >= data["c"] + self.max_age:
            await self._delete(session_id, data["u"])
            return None
        if now - data["r"] >= self.renew_after:
            await self._store(session_id, data["u"], created=data["c"], now=now)
        return Session(user_id=data["u"], session_id=session_id, created=data["c"])

    async def end(self, session_id: str) -> None:
        """End one session (by digest)."""
        raw = await self.kv.get(session_key(session_id))
        user_id = orjson.loads(raw)["u"] if raw is not None else None
        await self._delete(session_id, user_id)

    async def end_all(self, user_id: str) -> int:
        """End every session of ``user_id``; how many were ended."""
        prefix = session_index_prefix(user_id)
        ended = 0
        cursor: str | None = None
        while True:
            page = await self.kv.list(prefix, cursor=cursor)
            for key in page.keys:
                await self._delete(key.name.removeprefix(prefix), user_id)
                ended += 1
            if page.list_complete or page.cursor is None:
                return ended
            cursor = page.cursor

    async def _store(self, session_id: str, user_id: str, *, created: float, now: float) -> None:
        expiry = min(now + self.ttl, created + self.max_age)
        ttl = max(1, int(expiry - now + 0.999))
        value = orjson.dumps({"u": user_id, "c": created, "r": now, "x": expiry})
        await self.kv.put(session_key(session_id), value, ttl=ttl)
        await self.kv.put(session_index_prefix(user_id) + session_id, b"1", ttl=ttl)

    async def _delete(self, session_id: str, user_id: str | None) -> None:
        await self.kv.delete(session_key(session_id))
        if user_id is not None:
            await self.kv.delete(session_index_prefix(user_id) + session_id)
