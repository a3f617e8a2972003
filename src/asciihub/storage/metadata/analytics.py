"""Analytics data points (the Analytics Engine role) and their SQL roll-ups.

Columns keep Analytics Engine's names (``index1``, ``blob1..blob20``,
``double1..double20``, ``_sample_interval``, ``timestamp``) so that queries written for
it port over. We never sample (``_sample_interval`` is 1), but every roll-up uses the
weighted forms: a count is ``SUM(_sample_interval)``, a sum ``SUM(x * _sample_interval)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from asciihub.storage.metadata.database import Database
from asciihub.storage.metadata.job_types import DataPointRow
from asciihub.storage.metadata.tables import analytics_points as ap
from asciihub.storage.metadata.tables import ascii_metadata as am

_CHUNK = 50


def _count() -> Any:
    return sa.func.coalesce(sa.func.sum(ap.c._sample_interval), 0)


def _weighted(column: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(column * ap.c._sample_interval), 0)


class SqlAnalyticsRepository:
    """Writes data points and answers the fixed roll-ups."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _day(self, column: Any) -> Any:
        if self.db.is_sqlite:
            return sa.func.strftime("%Y-%m-%d", column)
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD")

    async def insert(self, points: Sequence[DataPointRow]) -> int:
        """Store data points; how many."""
        if not points:
            return 0
        async with self.db.write() as conn:
            for start in range(0, len(points), _CHUNK):
                chunk = [point.values() for point in points[start : start + _CHUNK]]
                await conn.execute(sa.insert(ap), chunk)
        return len(points)

    async def delete_before(self, cutoff: datetime) -> int:
        """Drop data points older than ``cutoff`` (the retention job); how many."""
        async with self.db.write() as conn:
            gone = await conn.execute(sa.delete(ap).where(ap.c.timestamp < cutoff))
        return int(gone.rowcount or 0)

    async def per_day(
        self, dataset: str, index: str, since: datetime, *, doubles: Sequence[int] = ()
    ) -> list[dict[str, Any]]:
        """Per UTC day: ``count`` and ``sum{n}`` of the given doubles for one index."""
        day = self._day(ap.c.timestamp).label("day")
        columns = [day, _count().label("count")]
        columns += [_weighted(ap.c[f"double{n}"]).label(f"sum{n}") for n in doubles]
        query = (
            sa.select(*columns)
            .where(ap.c.dataset == dataset, ap.c.index1 == index, ap.c.timestamp >= since)
            .group_by(day)
            .order_by(day)
        )
        return await self._rows(query)

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
        key = ap.c[f"blob{blob}"].label("key")
        count = _count().label("count")
        columns = [key, count]
        columns += [_weighted(ap.c[f"double{n}"]).label(f"sum{n}") for n in doubles]
        conditions = [ap.c.dataset == dataset, ap.c.timestamp >= since]
        if index is not None:
            conditions.append(ap.c.index1 == index)
        query = (
            sa.select(*columns)
            .where(*conditions)
            .group_by(ap.c[f"blob{blob}"])
            .order_by(count.desc(), ap.c[f"blob{blob}"])
            .limit(limit)
        )
        return await self._rows(query)

    async def public_prompts(
        self,
        dataset: str,
        artwork_blob: int,
        since: datetime,
        *,
        weight_double: int | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Prompts of artworks that are public now, with the points naming them.

        ``artwork_blob`` names the blob holding the artwork id; with ``weight_double``
        a point counts ``double{n}`` times (views), else once.
        """
        weight = (
            _weighted(ap.c[f"double{weight_double}"]) if weight_double is not None else _count()
        ).label("count")
        query = (
            sa.select(am.c.prompt.label("prompt"), weight)
            .select_from(ap.join(am, am.c.id == ap.c[f"blob{artwork_blob}"]))
            .where(
                ap.c.dataset == dataset,
                ap.c.timestamp >= since,
                am.c.visibility == "public",
                am.c.prompt.is_not(None),
                am.c.prompt != "",
            )
            .group_by(am.c.prompt)
            .order_by(weight.desc(), am.c.prompt)
            .limit(limit)
        )
        return await self._rows(query)

    async def count(self, dataset: str | None = None) -> int:
        """Stored data points (of one dataset)."""
        query = sa.select(sa.func.count()).select_from(ap)
        if dataset is not None:
            query = query.where(ap.c.dataset == dataset)
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def _rows(self, query: Any) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [{str(key): value for key, value in row.items()} for row in rows]
