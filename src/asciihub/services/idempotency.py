"""``Idempotency-Key`` for creating requests: the same key and body give the same answer.

Keys are per user and remembered with the answer for ``ttl`` seconds (SQL, so they
survive restarts). The same key with a different body is refused (409
``idempotency_key_reused``); while the first request with a key is still running, a
second one gets 409 ``idempotency_key_in_use``. A request that fails forgets its key,
so it can be retried with the same one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from asciihub.errors import Conflict, InvalidInput, Unauthenticated
from asciihub.services.principals import Principal
from asciihub.storage.metadata.job_types import IdempotencyRepository

MAX_KEY_CHARS = 255
ABANDONED_AFTER = 60.0


@dataclass(frozen=True)
class IdempotentAnswer:
    """The answer to give: status, JSON body, and whether it is a replay."""

    status: int
    body: Any
    replayed: bool


def request_digest(scope: str, payload: Any) -> str:
    """A digest of what was asked (``scope`` names the route) to compare bodies."""
    encoded = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(scope.encode() + b"\0" + encoded).hexdigest()


def check_key(key: str) -> str:
    """A valid key: 1 to 255 visible ASCII characters."""
    if not 0 < len(key) <= MAX_KEY_CHARS or not all(33 <= ord(ch) <= 126 for ch in key):
        message = f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
        raise InvalidInput(message, code="invalid_idempotency_key")
    return key


class IdempotencyService:
    """Runs a creating action at most once per (user, key)."""

    def __init__(
        self,
        repo: IdempotencyRepository,
        *,
        ttl: int = 86400,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repo = repo
        self.ttl = ttl
        self.clock = clock

    async def run(
        self,
        principal: Principal,
        key: str,
        scope: str,
        payload: Any,
        action: Callable[[], Awaitable[tuple[int, Any]]],
    ) -> IdempotentAnswer:
        """Run ``action`` (giving status and JSON body) once for this key and body."""
        if principal.user_id is None:
            message = "log in or send an API token to make changes"
            raise Unauthenticated(message)
        user_id = principal.user_id
        digest = request_digest(scope, payload)
        now = self.clock()
        found = await self.repo.claim(
            user_id,
            check_key(key),
            digest,
            now=now,
            expired_before=now - timedelta(seconds=self.ttl),
            abandoned_before=now - timedelta(seconds=ABANDONED_AFTER),
        )
        if found is not None:
            if found.request_hash != digest:
                message = (
                    "this Idempotency-Key was used with a different request body; use a new key"
                )
                raise Conflict(message, code="idempotency_key_reused")
            if found.status_code is None or found.response is None:
                message = "a request with this Idempotency-Key is still running; retry shortly"
                raise Conflict(message, code="idempotency_key_in_use")
            return IdempotentAnswer(found.status_code, orjson.loads(found.response), True)
        try:
            status, body = await action()
        except BaseException:
            await self.repo.release(user_id, key)
            raise
        await self.repo.complete(user_id, key, status, orjson.dumps(body).decode())
        return IdempotentAnswer(status, body, False)

    async def purge_expired(self) -> int:
        """Forget keys older than the TTL; how many."""
        return await self.repo.purge(self.clock() - timedelta(seconds=self.ttl))
