"""What a queue handler receives: a batch of messages it acks, retries or fails.

The rules are Cloudflare's (Q4/Q5): the first explicit call on a message wins;
``ack_all`` and ``retry_all`` only resolve messages nobody resolved before; when the
handler returns, unresolved messages are acked; when it raises, every unresolved
message of the batch is retried. :func:`plan_settlement` turns a finished batch into
the backend calls, applying the retry policy and ``max_retries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asciihub.queue.limits import check_delay
from asciihub.queue.protocol import ContentType, Message
from asciihub.queue.retry_policy import RetryPolicy


@dataclass(frozen=True, slots=True)
class Ack:
    """Outcome: delete the message."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Outcome: deliver again after ``delay_seconds`` (None: the policy's default)."""

    delay_seconds: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Fail:
    """Outcome: move the message to the dead-letter queue now."""

    code: str
    message: str


Outcome = Ack | Retry | Fail


class BatchMessage:
    """One message of a batch (Cloudflare's ``Message``): read it, then resolve it."""

    __slots__ = ("_message", "_outcome")

    def __init__(self, message: Message) -> None:
        self._message = message
        self._outcome: Outcome | None = None

    @property
    def id(self) -> str:
        """Unique message id, the same on every delivery."""
        return self._message.id

    @property
    def queue(self) -> str:
        """The queue it came from."""
        return self._message.queue

    @property
    def body(self) -> Any:
        """The decoded body."""
        return self._message.body

    @property
    def attempts(self) -> int:
        """Deliveries so far, this one included (starts at 1)."""
        return self._message.attempts

    @property
    def timestamp(self) -> datetime:
        """When the message was first sent (UTC)."""
        return self._message.timestamp

    @property
    def content_type(self) -> ContentType:
        """How the body was encoded."""
        return self._message.content_type

    @property
    def message(self) -> Message:
        """The underlying value."""
        return self._message

    @property
    def outcome(self) -> Outcome | None:
        """The resolution so far, or None."""
        return self._outcome

    def _resolve(self, outcome: Outcome) -> None:
        if self._outcome is None:
            self._outcome = outcome

    def ack(self) -> None:
        """Mark done; ignored if the message was already resolved."""
        self._resolve(Ack())

    def retry(self, *, delay_seconds: float | None = None, reason: str = "") -> None:
        """Deliver again later; ignored if already resolved. 0 means the next batch."""
        delay = None if delay_seconds is None else check_delay(delay_seconds)
        self._resolve(Retry(delay, reason))

    def fail(self, code: str = "permanent_failure", message: str = "") -> None:
        """Dead-letter at once (a permanent failure); ignored if already resolved."""
        self._resolve(Fail(code, message))

    def __repr__(self) -> str:
        return f"BatchMessage(id={self.id!r}, attempts={self.attempts}, outcome={self._outcome})"


class MessageBatch:
    """The messages one handler call gets (Cloudflare's ``MessageBatch``)."""

    __slots__ = ("messages", "queue")

    def __init__(self, queue: str, messages: Sequence[Message]) -> None:
        self.queue = queue
        self.messages: tuple[BatchMessage, ...] = tuple(BatchMessage(m) for m in messages)

    def ack_all(self) -> None:
        """Ack every message not resolved yet."""
        for message in self.messages:
            message.ack()

    def retry_all(self, *, delay_seconds: float | None = None, reason: str = "") -> None:
        """Retry every message not resolved yet."""
        delay = None if delay_seconds is None else check_delay(delay_seconds)
        for message in self.messages:
            message.retry(delay_seconds=delay, reason=reason)

    def __len__(self) -> int:
        return len(self.messages)


@dataclass
class Settlement:
    """The backend calls that settle one batch."""

    ack: list[str] = field(default_factory=list)
    retry: dict[float, list[str]] = field(default_factory=dict)
    dead: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    release: list[str] = field(default_factory=list)

    def add_dead(self, ident: str, code: str, message: str) -> None:
        """Dead-letter ``ident`` with this reason."""
        self.dead.setdefault((code, message), []).append(ident)


def plan_settlement(
    batch: MessageBatch,
    unresolved: Outcome | None,
    *,
    policy: RetryPolicy,
    max_retries: int,
) -> Settlement:
    """Resolve each message (its own outcome, else ``unresolved``; None releases it)."""
    plan = Settlement()
    for message in batch.messages:
        outcome: Any = message.outcome or unresolved
        if outcome is None:
            plan.release.append(message.id)
        elif isinstance(outcome, Ack):
            plan.ack.append(message.id)
        elif isinstance(outcome, Fail):
            plan.add_dead(message.id, outcome.code, outcome.message)
        elif message.attempts > max_retries:
            text = f"gave up after {message.attempts} deliveries (max_retries={max_retries})"
            if outcome.reason:
                text += f"; last error: {outcome.reason}"
            plan.add_dead(message.id, "max_retries_exceeded", text)
        else:
            delay = policy.delay_for(message.attempts, outcome.delay_seconds)
            plan.retry.setdefault(delay, []).append(message.id)
    return plan
