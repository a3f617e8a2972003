"""Per-request options shared by the object store backends: byte ranges, preconditions.

Both follow R2: a range past the end of an object yields fewer bytes (never an error),
and a failed precondition on ``put`` raises :class:`PreconditionFailed` and stores
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from asciihub.errors import InvalidInput, PreconditionFailed
from asciihub.storage.objects.protocol import ByteRange


def normalize_etag(etag: str) -> str:
    """An etag without ``W/`` and surrounding quotes, as both headers and R2 accept it."""
    text = etag.strip()
    text = text.removeprefix("W/")
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    return text


@dataclass(frozen=True)
class PutConditions:
    """The ``if_match`` / ``if_none_match`` of a put, normalised (``"*"`` kept as is)."""

    if_match: str | None = None
    if_none_match: str | None = None

    @classmethod
    def of(cls, if_match: str | None, if_none_match: str | None) -> PutConditions:
        """Check and normalise the two optional etags."""
        for name, value in (("if_match", if_match), ("if_none_match", if_none_match)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                message = f"{name} must be a non-empty etag or '*'"
                raise InvalidInput(message, code="invalid_precondition")
        return cls(
            if_match=None if if_match is None else normalize_etag(if_match),
            if_none_match=None if if_none_match is None else normalize_etag(if_none_match),
        )

    @property
    def is_conditional(self) -> bool:
        """True when at least one condition is set."""
        return self.if_match is not None or self.if_none_match is not None

    def check(self, key: str, current_etag: str | None) -> None:
        """Raise PreconditionFailed unless the object's current etag satisfies both."""
        if self.if_match is not None:
            if current_etag is None:
                message = f"object {key!r} does not exist, so if_match={self.if_match!r} fails"
                raise PreconditionFailed(message)
            if self.if_match != "*" and self.if_match != current_etag:
                message = (
                    f"object {key!r} has etag {current_etag!r}, not {self.if_match!r}; "
                    "read it again and retry"
                )
                raise PreconditionFailed(message)
        if self.if_none_match is not None and current_etag is not None:
            if self.if_none_match == "*":
                message = f"object {key!r} already exists (if_none_match='*')"
                raise PreconditionFailed(message)
            if self.if_none_match == current_etag:
                message = f"object {key!r} still has etag {current_etag!r} (if_none_match)"
                raise PreconditionFailed(message)


def check_range(byte_range: ByteRange | None) -> ByteRange | None:
    """Return ``byte_range`` after checking its fields, or raise InvalidInput."""
    if byte_range is None:
        return None
    fields = {
        "offset": byte_range.offset,
        "length": byte_range.length,
        "suffix": byte_range.suffix,
    }
    for name, value in fields.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            message = f"byte range {name} must be an integer, not {value!r}"
            raise InvalidInput(message, code="invalid_range")
        if value is not None and value < 0:
            message = f"byte range {name} must be zero or more, not {value}"
            raise InvalidInput(message, code="invalid_range")
    if byte_range.suffix is not None and (
        byte_range.offset is not None or byte_range.length is not None
    ):
        message = "a byte range gives either suffix, or offset and/or length, not both"
        raise InvalidInput(message, code="invalid_range")
    return byte_range


def resolve_range(byte_range: ByteRange | None, size: int) -> tuple[int, int]:
    """``(start, length)`` of a checked range within an object of ``size`` bytes."""
    if byte_range is None:
        return 0, size
    if byte_range.suffix is not None:
        length = min(byte_range.suffix, size)
        return size - length, length
    start = min(byte_range.offset or 0, size)
    available = size - start
    length = available if byte_range.length is None else min(byte_range.length, available)
    return start, length
