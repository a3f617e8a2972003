"""Job rows and idempotency keys in SQL: the source of truth for background work.

A job row moves ``queued -> running -> done | failed``; a delivered message that finds
its job ``done`` does nothing, so effects happen once however often it is delivered.
Every update is one statement guarded by the current status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from asciihub.errors import Conflict
from asciihub.storage.metadata.database import Database
from asciihub.storage.metadata.job_types import ACTIVE, IdempotencyRecord, JobRow, JobUpload
from asciihub.storage.metadata.tables import idempotency_keys, jobs


def _job(row: Any) -> JobRow:
    return JobRow(
        id=row["id"],
        user_id=row["user_id"],
        kind=row["kind"],
        status=row["status"],
        progress=float(row["progress"]),
        params=dict(row["params"] or {}),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        attempts=int(row["attempts"]),
        artwork_id=row["artwork_id"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        result=dict(row["result"]) if row["result"] else None,
        finished_at=row["finished_at"],
    )


class SqlJobRepository:
    """Job rows on SQLAlchemy Core."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, job: JobRow) -> None:
        """Insert a new job (normally ``queued``)."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.insert(jobs).values(
                    id=job.id,
                    user_id=job.user_id,
                    kind=job.kind,
                    status=job.status,
                    progress=job.progress,
                    params=job.params,
                    attempts=job.attempts,
                    created_at=job.created_at,
                    updated_at=job.updated_at,
                )
            )

    async def delete(self, job_id: str) -> None:
        """Remove a job that was never acknowledged to its client."""
        async with self.db.write() as conn:
            await conn.execute(sa.delete(jobs).where(jobs.c.id == job_id))

    async def get(self, job_id: str) -> JobRow | None:
        """The job, or None."""
        async with self.db.read() as conn:
            row = (
                (await conn.execute(sa.select(jobs).where(jobs.c.id == job_id))).mappings().first()
            )
        return _job(row) if row is not None else None

    async def start(self, job_id: str, now: datetime) -> JobRow | None:
        """Mark a job not yet done ``running`` and count the attempt; the row after."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status != "done")
                .values(
                    status="running",
                    attempts=jobs.c.attempts + 1,
                    updated_at=now,
                    error_code=None,
                    error_message=None,
                    finished_at=None,
                )
            )
            row = (
                (await conn.execute(sa.select(jobs).where(jobs.c.id == job_id))).mappings().first()
            )
        return _job(row) if row is not None else None

    async def set_progress(self, job_id: str, progress: float, now: datetime) -> None:
        """Record the progress (0..1) of a running job."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == "running")
                .values(progress=max(0.0, min(1.0, progress)), updated_at=now)
            )

    async def finish(
        self, job_id: str, *, artwork_id: str | None, result: dict[str, Any], now: datetime
    ) -> bool:
        """Mark the job done; False if it already was."""
        async with self.db.write() as conn:
            done = await conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status != "done")
                .values(
                    status="done",
                    progress=1.0,
                    artwork_id=artwork_id,
                    result=result,
                    updated_at=now,
                    finished_at=now,
                    error_code=None,
                    error_message=None,
                )
            )
        return bool(done.rowcount)

    async def fail(self, job_id: str, *, code: str, message: str, now: datetime) -> bool:
        """Mark a job that is not done ``failed``; False if it was done or missing."""
        async with self.db.write() as conn:
            failed = await conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status != "done")
                .values(
                    status="failed",
                    error_code=code[:64],
                    error_message=message,
                    updated_at=now,
                    finished_at=now,
                )
            )
        return bool(failed.rowcount)

    async def requeue(self, job_id: str, now: datetime) -> None:
        """Put a running job back to ``queued`` (its message will be delivered again)."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == "running")
                .values(status="queued", updated_at=now)
            )

    async def stale(self, before: datetime, *, limit: int = 500) -> list[JobRow]:
        """Jobs still queued or running whose row has not moved since ``before``."""
        query = (
            sa.select(jobs)
            .where(jobs.c.status.in_(ACTIVE), jobs.c.updated_at < before)
            .order_by(jobs.c.updated_at)
            .limit(limit)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_job(row) for row in rows]

    async def touch(self, job_ids: Sequence[str], now: datetime) -> None:
        """Move ``updated_at`` of active jobs to ``now`` (after a re-publish)."""
        if not job_ids:
            return
        async with self.db.write() as conn:
            for start in range(0, len(job_ids), 90):
                await conn.execute(
                    sa.update(jobs)
                    .where(jobs.c.id.in_(job_ids[start : start + 90]), jobs.c.status.in_(ACTIVE))
                    .values(updated_at=now)
                )

    async def iter_uploads(self, *, batch: int = 500) -> AsyncIterator[JobUpload]:
        """Every job that holds an upload (``params.media_key``), in id order."""
        after = ""
        while True:
            query = (
                sa.select(jobs.c.id, jobs.c.status, jobs.c.error_code, jobs.c.params)
                .where(jobs.c.id > after, jobs.c.kind.in_(("conversion", "import")))
                .order_by(jobs.c.id)
                .limit(batch)
            )
            async with self.db.read() as conn:
                rows = (await conn.execute(query)).mappings().all()
            for row in rows:
                params = dict(row["params"] or {})
                key = params.get("media_key")
                if isinstance(key, str):
                    size = params.get("media_size")
                    yield JobUpload(
                        job_id=row["id"],
                        status=row["status"],
                        error_code=row["error_code"],
                        media_key=key,
                        media_size=size if isinstance(size, int) else None,
                    )
            if len(rows) < batch:
                return
            after = rows[-1]["id"]

    async def counts(self) -> dict[str, int]:
        """Jobs per status."""
        query = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {str(status): int(count) for status, count in rows}


class SqlIdempotencyRepository:
    """``Idempotency-Key`` records per user."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        """Reserve ``key`` for this request (None), or give the record already there.

        An expired record, or one left unanswered since ``abandoned_before`` (its
        request died), is replaced.
        """
        where = (idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
        try:
            async with self.db.write() as conn:
                row = (
                    (await conn.execute(sa.select(idempotency_keys).where(*where)))
                    .mappings()
                    .first()
                )
                if row is not None:
                    record = IdempotencyRecord(
                        row["request_hash"], row["status_code"], row["response"], row["created_at"]
                    )
                    stale = record.created_at < expired_before or (
                        record.status_code is None and record.created_at < abandoned_before
                    )
                    if not stale:
                        return record
                    await conn.execute(sa.delete(idempotency_keys).where(*where))
                await conn.execute(
                    sa.insert(idempotency_keys).values(
                        user_id=user_id, key=key, request_hash=request_hash, created_at=now
                    )
                )
        except Conflict:
            async with self.db.read() as conn:
                row = (
                    (await conn.execute(sa.select(idempotency_keys).where(*where)))
                    .mappings()
                    .first()
                )
            if row is None:
                raise
            return IdempotencyRecord(
                row["request_hash"], row["status_code"], row["response"], row["created_at"]
            )
        return None

    async def complete(self, user_id: str, key: str, status_code: int, response: str) -> None:
        """Store the answer given to the request that claimed ``key``."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(idempotency_keys)
                .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
                .values(status_code=status_code, response=response)
            )

    async def release(self, user_id: str, key: str) -> None:
        """Forget a claim whose request failed (the key may be used again)."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.delete(idempotency_keys).where(
                    idempotency_keys.c.user_id == user_id,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.status_code.is_(None),
                )
            )

    async def purge(self, before: datetime) -> int:
        """Delete records created before ``before``; how many."""
        async with self.db.write() as conn:
            gone = await conn.execute(
                sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
            )
        return int(gone.rowcount or 0)
