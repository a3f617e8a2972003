"""The error tree every layer shares.

Each error carries a stable snake_case ``code``, a human ``message`` and the HTTP
status of its kind. Adapters render them in one place: the API as
``{"error": {"code", "message"}}``, the CLI as one line on stderr.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AsciihubError(Exception):
    """Base of every error asciihub raises on purpose."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of this error."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class InvalidInput(AsciihubError):
    """The request or input is malformed or breaks a rule."""

    status = 400
    default_code = "invalid_input"


class Unauthenticated(AsciihubError):
    """No valid credentials were given."""

    status = 401
    default_code = "unauthenticated"


class Forbidden(AsciihubError):
    """The caller is known but may not do this."""

    status = 403
    default_code = "forbidden"


class NotFound(AsciihubError):
    """The thing does not exist, or the caller may not know that it does."""

    status = 404
    default_code = "not_found"


class MethodNotAllowed(AsciihubError):
    """The route exists but not with this method."""

    status = 405
    default_code = "method_not_allowed"


class Conflict(AsciihubError):
    """The request conflicts with the current state."""

    status = 409
    default_code = "conflict"


class PreconditionFailed(AsciihubError):
    """A conditional request's precondition (etag, version) did not hold."""

    status = 412
    default_code = "precondition_failed"


class TooLarge(AsciihubError):
    """The input is larger than a configured limit."""

    status = 413
    default_code = "too_large"


class UnsupportedMedia(AsciihubError):
    """The input's type or format is not one we accept."""

    status = 415
    default_code = "unsupported_media_type"


class RateLimited(AsciihubError):
    """Too many requests; try again after ``retry_after`` seconds."""

    status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(AsciihubError):
    """A dependency is down; the request may succeed later."""

    status = 503
    default_code = "unavailable"

    def __init__(self, message: str, *, retry_after: int = 5, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class DependencyDown(Unavailable):
    """One of the deployment's own stores (database, KV, queue, objects) cannot be reached.

    Unlike other 503s (an AI provider failing, a missing bucket), an outage of these
    ends by itself, so background jobs wait it out (``jobs_outage_patience``).
    """


class ConfigError(AsciihubError):
    """A setting has a bad value; raised at start-up."""

    status = 500
    default_code = "bad_setting"
