"""What services see of background work in the metadata database: rows and repositories.

Jobs, ``Idempotency-Key`` records, exports and analytics data points; the SQL
implementations live in :mod:`.jobs`, :mod:`.exports` and :mod:`.analytics`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class JobRow:
    """One background job."""

    id: str
    user_id: str
    kind: str
    status: str
    progress: float
    params: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    artwork_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    result: dict[str, Any] | None = None
    finished_at: datetime | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the job is done or failed."""
        return self.status in ("done", "failed")


@dataclass(frozen=True)
class JobUpload:
    """The upload a conversion job holds: its key and the size recorded at submit."""

    job_id: str
    status: str
    error_code: str | None
    media_key: str
    media_size: int | None


@dataclass(frozen=True)
class IdempotencyRecord:
    """A remembered request: its body's digest and, once answered, the answer."""

    request_hash: str
    status_code: int | None
    response: str | None
    created_at: datetime


@dataclass(frozen=True)
class ExportRow:
    """One requested export."""

    id: str
    user_id: str
    artwork_id: str
    job_id: str
    format: str
    object_key: str
    created_at: datetime
    size: int | None = None
    sha256: str | None = None
    finished_at: datetime | None = None

    @property
    def is_finished(self) -> bool:
        """True once the object is stored."""
        return self.finished_at is not None


@dataclass(frozen=True)
class DataPointRow:
    """One stored data point."""

    dataset: str
    timestamp: datetime
    index: str
    blobs: tuple[str | None, ...] = ()
    doubles: tuple[float | None, ...] = ()
    sample_interval: int = 1

    def values(self) -> dict[str, Any]:
        """The row's column values."""
        row: dict[str, Any] = {
            "dataset": self.dataset,
            "timestamp": self.timestamp,
            "index1": self.index,
            "_sample_interval": self.sample_interval,
        }
        for position in range(20):
            row[f"blob{position + 1}"] = (
                self.blobs[position] if position < len(self.blobs) else None
            )
            row[f"double{position + 1}"] = (
                self.doubles[position] if position < len(self.doubles) else None
            )
        return row


class JobRepository(Protocol):
    """Job rows: the source of truth for background work."""

    async def insert(self, job: JobRow) -> None:
        """Insert a new job (normally ``queued``)."""

    async def delete(self, job_id: str) -> None:
        """Remove a job that was never acknowledged to its client."""

    async def get(self, job_id: str) -> JobRow | None:
        """The job, or None."""

    async def start(self, job_id: str, now: datetime) -> JobRow | None:
        """Mark a job not yet done ``running`` and count the attempt; the row after."""

    async def set_progress(self, job_id: str, progress: float, now: datetime) -> None:
        """Record the progress (0..1) of a running job."""

    async def finish(
        self, job_id: str, *, artwork_id: str | None, result: dict[str, Any], now: datetime
    ) -> bool:
        """Mark the job done; False if it already was."""

    async def fail(self, job_id: str, *, code: str, message: str, now: datetime) -> bool:
        """Mark a job that is not done ``failed``; False if it was done or missing."""

    async def requeue(self, job_id: str, now: datetime) -> None:
        """Put a running job back to ``queued`` (its message will be delivered again)."""

    async def stale(self, before: datetime, *, limit: int = 500) -> list[JobRow]:
        """Jobs still queued or running whose row has not moved since ``before``."""

    async def touch(self, job_ids: Sequence[str], now: datetime) -> None:
        """Move ``updated_at`` of active jobs to ``now`` (after a re-publish)."""

    def iter_uploads(self, *, batch: int = 500) -> AsyncIterator[JobUpload]:
        """Every job that holds an upload (``params.media_key``), in id order."""

    async def counts(self) -> dict[str, int]:
        """Jobs per status."""


class IdempotencyRepository(Protocol):
    """``Idempotency-Key`` records per user."""

    async def claim(
        self,
        user_id: str,
        key: str,
        request_hash: str,
        *,
        now: datetime,
        expired_before: datetime,
        abandoned_before: datetime,
    ) -> IdempotencyRecord | None:
        """Reserve ``key`` for this request (None), or give the record already there."""

    async def complete(self, user_id: str, key: str, status_code: int, response: str) -> None:
        """Store the answer given to the request that claimed ``key``."""

    async def release(self, user_id: str, key: str) -> None:
        """Forget a claim whose request failed (the key may be used again)."""

    async def purge(self, before: datetime) -> int:
        """Delete records created before ``before``; how many."""


class ExportRepository(Protocol):
    """Requested exports and the objects they stored."""

    async def insert(self, row: ExportRow) -> None:
        """Insert a new, unfinished export."""

    async def delete(self, export_id: str) -> None:
        """Remove an export whose job was never accepted."""

    async def get(self, export_id: str) -> ExportRow | None:
        """The export, or None."""

    async def finish(self, export_id: str, *, size: int, sha256: str, now: datetime) -> None:
        """Record the stored object's size and digest (again, on a redelivery)."""

    async def replace_job(self, export_id: str, *, old_job_id: str, new_job_id: str) -> bool:
        """Point an export at a new job (unfinished again) if it still has ``old_job_id``."""


class AnalyticsRepository(Protocol):
    """Stored analytics data points and the aggregate queries over them."""

    async def insert(self, points: Sequence[DataPointRow]) -> int:
        """Store data points; how many."""

    async def delete_before(self, cutoff: datetime) -> int:
        """Drop data points older than ``cutoff`` (the retention job); how many."""

    async def per_day(
        self, dataset: str, index: str, since: datetime, *, doubles: Sequence[int] = ()
    ) -> list[dict[str, Any]]:
        """Per UTC day: ``count`` and ``sum{n}`` of the given doubles for one index."""

    async def per_blob(
        self,
        dataset: str,
        blob: int,
        since: datetime,
        *,
        index: str | None = None,
        doubles: Sequence[int] = (),
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Grouped by ``blob{blob}`` (as ``key``): ``count`` and ``sum{n}``, largest first."""

    async def public_prompts(
        self,
        dataset: str,
        artwork_blob: int,
        since: datetime,
        *,
        weight_double: int | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Prompts of artworks that are public now, with the points naming them."""

    async def count(self, dataset: str | None = None) -> int:
        """Stored data points (of one dataset)."""
