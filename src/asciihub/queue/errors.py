"""What a queue handler raises to steer its messages: retry later, or fail for good."""

from __future__ import annotations

from asciihub.errors import AsciihubError
from asciihub.queue.limits import check_delay


class RetryLater(AsciihubError):
    """Retry the message(s) after ``delay_seconds`` (None: the queue's backoff)."""

    status = 503
    default_code = "retry_later"

    def __init__(self, message: str = "retry later", *, delay_seconds: float | None = None) -> None:
        super().__init__(message)
        self.delay_seconds = None if delay_seconds is None else check_delay(delay_seconds)


class PermanentFailure(AsciihubError):
    """The message can never succeed: move it to the dead-letter queue at once."""

    status = 422
    default_code = "permanent_failure"
