"""Names the backends store things under: SQLite tables, Redis keys and the group."""

from __future__ import annotations

SQLITE_MESSAGES_TABLE = "queue_messages"
"""Live messages: ready, delayed and leased (``lease_owner`` set)."""
SQLITE_DEAD_TABLE = "queue_dead"
"""Dead-lettered messages with their error."""

REDIS_PREFIX = "asciihub:queue"
"""Prefix of every Redis key the queue writes."""
REDIS_GROUP = "asciihub"
"""The consumer group every consumer of a queue joins."""


def _base(queue: str) -> str:
    # The braces are a cluster hash tag: every key of one queue lands in one slot.
    return f"{REDIS_PREFIX}:{{{queue}}}"


def stream_key(queue: str) -> str:
    """The stream holding a queue's due messages (ready and leased)."""
    return f"{_base(queue)}:stream"


def delayed_key(queue: str) -> str:
    """Sorted set of delayed message ids, scored by due time in epoch milliseconds."""
    return f"{_base(queue)}:delayed"


def delayed_data_key(queue: str) -> str:
    """Hash from delayed message id to its packed message."""
    return f"{_base(queue)}:delayed:data"


def claim_cursor_key(queue: str) -> str:
    """Where the next XAUTOCLAIM scan of the pending list starts."""
    return f"{_base(queue)}:claim_cursor"


def dead_key(queue: str) -> str:
    """The dead-letter stream of a queue."""
    return f"{_base(queue)}:dead"
