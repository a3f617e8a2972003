"""How long a retried message waits: explicit delay first, then the queue's policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from asciihub.errors import InvalidInput
from asciihub.queue.limits import MAX_DELAY_SECONDS, check_delay

Backoff = Literal["exponential", "fixed"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Default retry delay: ``base_delay * 2 ** (attempts - 1)`` capped, or fixed."""

    backoff: Backoff = "exponential"
    base_delay: float = 2.0
    max_delay: float = 300.0

    def __post_init__(self) -> None:
        if self.backoff not in ("exponential", "fixed"):
            message = f"backoff {self.backoff!r} is not one of exponential, fixed"
            raise InvalidInput(message, code="invalid_retry_policy")
        check_delay(self.base_delay, what="base_delay")
        check_delay(self.max_delay, what="max_delay")

    def default_delay(self, attempts: int) -> float:
        """The queue default for a message that has been delivered ``attempts`` times."""
        if self.backoff == "fixed":
            return self.base_delay
        exponent = min(max(attempts, 1) - 1, 32)
        return float(min(self.base_delay * 2**exponent, self.max_delay, MAX_DELAY_SECONDS))

    def delay_for(self, attempts: int, explicit: float | None) -> float:
        """Q6: an explicit delay (including 0, the next batch) beats the queue default."""
        if explicit is not None:
            return check_delay(explicit)
        return self.default_delay(attempts)
