"""The job queue binding (the Queues role): value types and the ``JobQueue`` protocol.

Semantics follow Cloudflare Queues (see docs/queue.md): ``send`` returns only after a
durable commit, a batch is stored atomically, delivery is at least once, and a
message leased by a consumer that dies is redelivered after its visibility timeout.

A ``JobQueue`` object is also one *consumer identity*: ``ack``, ``retry``,
``release``, ``dead_letter`` and ``extend_lease`` act only on messages this object
received and still holds; ids it does not hold (never received, or re-leased by
another consumer after the lease expired) are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

ContentType = Literal["json", "text", "bytes"]
"""How a body is encoded: ``json`` (any JSON value), ``text`` (str) or ``bytes``."""


@dataclass(frozen=True, slots=True)
class Message:
    """One delivery of a message; ``attempts`` counts deliveries and starts at 1."""

    id: str
    queue: str
    timestamp: datetime
    body: Any
    content_type: ContentType
    attempts: int


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One item of ``send_batch``; its own ``delay_seconds`` beats the batch's."""

    body: Any
    content_type: ContentType = "json"
    delay_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class DeadMessage:
    """A message in the dead-letter queue, with why and when it got there."""

    id: str
    queue: str
    timestamp: datetime
    body: Any
    content_type: ContentType
    attempts: int
    failed_at: datetime
    error_code: str
    error_message: str


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Message counts of one queue; expired leases count as ``ready``."""

    queue: str
    ready: int
    delayed: int
    in_flight: int
    dead: int


@runtime_checkable
class JobQueue(Protocol):
    """Durable at-least-once queues with delays, leases and a dead-letter queue."""

    async def send(
        self,
        queue: str,
        body: Any,
        *,
        content_type: ContentType = "json",
        delay_seconds: float | None = None,
    ) -> str:
        """Store one message (body ≤ 128 KiB, delay 0..43200 s); return its id once durable."""
        ...

    async def send_batch(
        self,
        queue: str,
        messages: Sequence[OutgoingMessage],
        *,
        delay_seconds: float | None = None,
    ) -> list[str]:
        """Store up to 100 messages (≤ 256 KiB in all) atomically; return their ids."""
        ...

    async def receive(
        self, queue: str, *, max_messages: int = 10, visibility_timeout: float = 30.0
    ) -> list[Message]:
        """Lease up to ``max_messages`` due messages for ``visibility_timeout`` seconds."""
        ...

    async def ack(self, ids: Sequence[str]) -> int:
        """Delete held messages for good; return how many were still held."""
        ...

    async def retry(self, ids: Sequence[str], *, delay_seconds: float = 0.0) -> int:
        """Make held messages due again after ``delay_seconds`` (0 means the next batch)."""
        ...

    async def release(self, ids: Sequence[str]) -> int:
        """Give held messages back at once without counting this delivery as an attempt."""
        ...

    async def dead_letter(self, ids: Sequence[str], *, code: str, message: str) -> int:
        """Move held messages to their queue's dead-letter queue with a reason."""
        ...

    async def extend_lease(self, ids: Sequence[str], *, visibility_timeout: float) -> list[str]:
        """Heartbeat: renew the leases of held messages; return the ids still held."""
        ...

    async def dead_list(self, queue: str, *, limit: int = 100) -> list[DeadMessage]:
        """The oldest ``limit`` dead-lettered messages of ``queue``."""
        ...

    async def dead_retry(self, queue: str, ids: Sequence[str] | None = None) -> int:
        """Send dead messages (all, or ``ids``) back to ``queue`` with attempts reset."""
        ...

    async def dead_purge(self, queue: str, ids: Sequence[str] | None = None) -> int:
        """Delete dead messages (all, or ``ids``) of ``queue``; return how many."""
        ...

    async def stats(self, queue: str) -> QueueStats:
        """Ready, delayed, in-flight and dead counts of ``queue``."""
        ...

    async def ping(self) -> None:
        """Answer when the queue is reachable; raise ``DependencyDown`` when not."""
        ...

    async def close(self) -> None:
        """Release connections, threads and files."""
        ...
