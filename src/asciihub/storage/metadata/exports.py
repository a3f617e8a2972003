"""Export rows in SQL: which user asked for which artwork in which format, and the result.

A row is written when the export is requested (with its job), and finished once its
object exists: ``size``, ``sha256`` and ``finished_at`` are set together. The job row
carries the status; the export row says where the file is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from asciihub.storage.metadata.database import Database
from asciihub.storage.metadata.job_types import ExportRow
from asciihub.storage.metadata.tables import exports


def _export(row: Any) -> ExportRow:
    return ExportRow(
        id=row["id"],
        user_id=row["user_id"],
        artwork_id=row["artwork_id"],
        job_id=row["job_id"],
        format=row["format"],
        object_key=row["object_key"],
        created_at=row["created_at"],
        size=int(row["size"]) if row["size"] is not None else None,
        sha256=row["sha256"],
        finished_at=row["finished_at"],
    )


class SqlExportRepository:
    """Export rows on SQLAlchemy Core."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, row: ExportRow) -> None:
        """Insert a new, unfinished export."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.insert(exports).values(
                    id=row.id,
                    user_id=row.user_id,
                    artwork_id=row.artwork_id,
                    job_id=row.job_id,
                    format=row.format,
                    object_key=row.object_key,
                    created_at=row.created_at,
                )
            )

    async def delete(self, export_id: str) -> None:
        """Remove an export whose job was never accepted."""
        async with self.db.write() as conn:
            await conn.execute(sa.delete(exports).where(exports.c.id == export_id))

    async def get(self, export_id: str) -> ExportRow | None:
        """The export, or None."""
        query = sa.select(exports).where(exports.c.id == export_id)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _export(row) if row is not None else None

    async def finish(self, export_id: str, *, size: int, sha256: str, now: datetime) -> None:
        """Record the stored object's size and digest (again, on a redelivery)."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(exports)
                .where(exports.c.id == export_id)
                .values(size=size, sha256=sha256, finished_at=now)
            )

    async def replace_job(self, export_id: str, *, old_job_id: str, new_job_id: str) -> bool:
        """Point an export at a new job (unfinished again) if it still has ``old_job_id``.

        Two requests that both found the old job failed race here; one wins.
        """
        async with self.db.write() as conn:
            result = await conn.execute(
                sa.update(exports)
                .where(exports.c.id == export_id, exports.c.job_id == old_job_id)
                .values(job_id=new_job_id, size=None, sha256=None, finished_at=None)
            )
        return bool(result.rowcount)
