"""Analytics (the Analytics Engine role): data points through the queue, SQL roll-ups.

:meth:`AnalyticsService.write_data_point` checks a point against Analytics Engine's
limits (at most 20 blobs and 20 doubles, exactly one index of at most 96 bytes, 16 KB
in all) and buffers it without any I/O; :meth:`AnalyticsService.flush` sends the
buffer to the ``analytics`` queue in batches, and the analytics consumer stores the
points (:meth:`AnalyticsService.store`). API calls and artwork views are counted in
memory and become one point per (user, token) or artwork per flush, never one
message per request.

Datasets (``index1`` is what queries filter on):

* ``generations``: index1 user id; blobs style, kind (generation | conversion),
  artwork id, token id; doubles frames, duration in ms, width, height.
* ``views``: index1 artwork id; blob1 artwork id; double1 views.
* ``api_calls``: index1 user id; blob1 token id (empty for a login session);
  double1 calls.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from asciihub.errors import InvalidInput, TooLarge, Unauthenticated
from asciihub.queue.protocol import JobQueue, OutgoingMessage
from asciihub.services.numbers import whole_number_or
from asciihub.services.principals import Principal
from asciihub.storage.metadata.job_types import AnalyticsRepository, DataPointRow

log = logging.getLogger(__name__)

ANALYTICS_QUEUE = "analytics"
GENERATIONS = "generations"
VIEWS = "views"
API_CALLS = "api_calls"
MAX_BLOBS = 20
MAX_DOUBLES = 20
MAX_INDEX_BYTES = 96
MAX_DATASET_CHARS = 64
_MESSAGE_BYTES = 100_000
_MAX_BUFFERED = 50_000


@dataclass(frozen=True)
class DataPoint:
    """A checked data point, ready to send (``timestamp`` in epoch seconds)."""

    dataset: str
    index: str
    blobs: tuple[str | None, ...]
    doubles: tuple[float | None, ...]
    timestamp: float

    def to_json(self) -> list[Any]:
        """The compact form carried in a queue message."""
        return [self.dataset, self.index, list(self.blobs), list(self.doubles), self.timestamp]


def check_data_point(
    dataset: str,
    blobs: Sequence[str | None],
    doubles: Sequence[float | None],
    indexes: Sequence[str],
    *,
    max_bytes: int = 16 * 1024,
    timestamp: float = 0.0,
) -> DataPoint:
    """Validate a point the way Analytics Engine does; InvalidInput / TooLarge if not."""
    if not isinstance(dataset, str) or not 0 < len(dataset) <= MAX_DATASET_CHARS:
        message = f"dataset must be a name of 1 to {MAX_DATASET_CHARS} characters"
        raise InvalidInput(message, code="invalid_dataset")
    if len(indexes) != 1 or not isinstance(indexes[0], str):
        message = f"a data point needs exactly one index (a string); got {len(indexes)}"
        raise InvalidInput(message, code="invalid_index")
    index = indexes[0]
    index_bytes = len(index.encode())
    if index_bytes > MAX_INDEX_BYTES:
        message = f"the index is {index_bytes} bytes; the limit is {MAX_INDEX_BYTES}"
        raise TooLarge(message, code="index_too_large")
    if len(blobs) > MAX_BLOBS or len(doubles) > MAX_DOUBLES:
        message = f"at most {MAX_BLOBS} blobs and {MAX_DOUBLES} doubles per data point"
        raise InvalidInput(message, code="too_many_fields")
    size = index_bytes
    for blob in blobs:
        if blob is not None and not isinstance(blob, str):
            message = "blobs must be strings (or null)"
            raise InvalidInput(message, code="invalid_blob")
        size += len(blob.encode()) if blob else 0
    checked: list[float | None] = []
    for value in doubles:
        if value is None:
            checked.append(None)
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            message = "doubles must be finite numbers (or null)"
            raise InvalidInput(message, code="invalid_double")
        checked.append(float(value))
        size += 8
    if size > max_bytes:
        message = f"the data point is {size} bytes; the limit is {max_bytes}"
        raise TooLarge(message, code="data_point_too_large")
    return DataPoint(dataset, index, tuple(blobs), tuple(checked), timestamp)


class AnalyticsService:
    """Buffers data points, ships them through the queue, stores them, rolls them up."""

    def __init__(
        self,
        repo: AnalyticsRepository,
        queue: JobQueue,
        *,
        max_point_bytes: int = 16 * 1024,
        max_points: int = 250,
        retention_days: int = 90,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repo = repo
        self.queue = queue
        self.max_point_bytes = max_point_bytes
        self.max_points = max_points
        self.retention_days = retention_days
        self.clock = clock
        self._buffer: list[DataPoint] = []
        self._api_calls: Counter[tuple[str, str]] = Counter()
        self.dropped = 0

    # --- producing -----------------------------------------------------------------
    def write_data_point(
        self,
        dataset: str,
        blobs: Sequence[str | None] = (),
        doubles: Sequence[float | None] = (),
        index: str | Sequence[str] = (),
    ) -> None:
        """Check and buffer one point; no I/O (the next :meth:`flush` sends it)."""
        indexes = [index] if isinstance(index, str) else list(index)
        point = check_data_point(
            dataset,
            blobs,
            doubles,
            indexes,
            max_bytes=self.max_point_bytes,
            timestamp=self.clock().timestamp(),
        )
        self._push([point])

    def count_api_call(self, principal: Principal) -> None:
        """Count one API request of an authenticated principal (no I/O)."""
        if principal.user_id is not None:
            self._api_calls[(principal.user_id, principal.token_id or "")] += 1

    def views_flushed(self, views: Mapping[str, int]) -> None:
        """Turn a flushed batch of view counts into data points (a ViewCounter hook)."""
        stamp = self.clock().timestamp()
        self._push(
            [DataPoint(VIEWS, aid, (aid,), (float(n),), stamp) for aid, n in views.items() if n > 0]
        )

    @property
    def pending(self) -> int:
        """Points buffered and API-call counters not yet sent."""
        return len(self._buffer) + len(self._api_calls)

    def _push(self, points: list[DataPoint]) -> None:
        self._buffer.extend(points)
        overflow = len(self._buffer) - _MAX_BUFFERED
        if overflow > 0:
            del self._buffer[:overflow]
            self.dropped += overflow
            log.warning("event=analytics_buffer_full dropped=%d", overflow)

    def _drain_counters(self) -> None:
        if not self._api_calls:
            return
        calls, self._api_calls = self._api_calls, Counter()
        stamp = self.clock().timestamp()
        self._push(
            [
                DataPoint(API_CALLS, user_id, (token_id,), (float(count),), stamp)
                for (user_id, token_id), count in calls.items()
            ]
        )

    def _messages(self, points: list[DataPoint]) -> list[list[list[Any]]]:
        messages: list[list[list[Any]]] = []
        current: list[list[Any]] = []
        size = 0
        for point in points:
            encoded = point.to_json()
            length = len(orjson.dumps(encoded)) + 1
            if current and (len(current) >= self.max_points or size + length > _MESSAGE_BYTES):
                messages.append(current)
                current, size = [], 0
            current.append(encoded)
            size += length
        if current:
            messages.append(current)
        return messages

    async def flush(self) -> int:
        """Send buffered points to the analytics queue; on failure keep them; how many."""
        self._drain_counters()
        if not self._buffer:
            return 0
        points, self._buffer = self._buffer, []
        messages = self._messages(points)
        sent = 0
        try:
            for start in range(0, len(messages), 100):
                group = messages[start : start + 100]
                await self.queue.send_batch(
                    ANALYTICS_QUEUE,
                    [OutgoingMessage({"type": "analytics", "points": m}) for m in group],
                )
                sent += sum(len(m) for m in group)
        except Exception:
            self._push(points[sent:])
            raise
        return sent

    # --- consuming -----------------------------------------------------------------
    async def store(self, body: Any) -> int:
        """Store the points of one analytics message (the consumer's work); how many."""
        raw = body.get("points") if isinstance(body, dict) else None
        if not isinstance(raw, list):
            message = "an analytics message carries {'points': [...]}"
            raise InvalidInput(message, code="invalid_analytics_message")
        rows: list[DataPointRow] = []
        for item in raw:
            try:
                dataset, index, blobs, doubles, stamp = item
                point = check_data_point(
                    dataset,
                    blobs,
                    doubles,
                    [index],
                    max_bytes=self.max_point_bytes,
                    timestamp=float(stamp),
                )
            except (TypeError, ValueError, InvalidInput, TooLarge) as exc:
                log.warning("event=analytics_point_dropped reason=%r", str(exc))
                continue
            rows.append(
                DataPointRow(
                    dataset=point.dataset,
                    timestamp=datetime.fromtimestamp(point.timestamp, UTC),
                    index=point.index,
                    blobs=point.blobs,
                    doubles=point.doubles,
                )
            )
        return await self.repo.insert(rows)

    async def purge_expired(self) -> int:
        """The retention job: drop points older than ``retention_days``; how many."""
        cutoff = self.clock() - timedelta(days=self.retention_days)
        return await self.repo.delete_before(cutoff)

    # --- roll-ups ------------------------------------------------------------------
    def _since(self, days: Any) -> tuple[int, datetime]:
        days = whole_number_or(days)
        if (
            isinstance(days, bool)
            or not isinstance(days, int)
            or not 1 <= days <= self.retention_days
        ):
            message = f"days must be a whole number from 1 to {self.retention_days}"
            raise InvalidInput(message, code="invalid_days")
        today = self.clock().replace(hour=0, minute=0, second=0, microsecond=0)
        return days, today - timedelta(days=days - 1)

    async def usage(self, principal: Principal, days: Any = 30) -> dict[str, Any]:
        """The caller's own usage per UTC day and per API token (for billing)."""
        if principal.user_id is None:
            message = "log in or send an API token to see your usage"
            raise Unauthenticated(message)
        user_id = principal.user_id
        count, since = self._since(days)
        per_day: dict[str, dict[str, Any]] = {}

        def day(name: str) -> dict[str, Any]:
            return per_day.setdefault(
                name,
                {
                    "day": name,
                    "generations": 0,
                    "frames": 0,
                    "generation_seconds": 0.0,
                    "api_calls": 0,
                },
            )

        for row in await self.repo.per_day(GENERATIONS, user_id, since, doubles=(1, 2)):
            entry = day(row["day"])
            entry["generations"] = int(row["count"])
            entry["frames"] = int(row["sum1"])
            entry["generation_seconds"] = round(float(row["sum2"]) / 1000, 3)
        for row in await self.repo.per_day(API_CALLS, user_id, since, doubles=(1,)):
            day(row["day"])["api_calls"] = int(row["sum1"])
        tokens: dict[str, dict[str, Any]] = {}
        for row in await self.repo.per_blob(API_CALLS, 1, since, index=user_id, doubles=(1,)):
            key = row["key"] or ""
            tokens[key] = {"token_id": key or None, "api_calls": int(row["sum1"]), "generations": 0}
        for row in await self.repo.per_blob(GENERATIONS, 4, since, index=user_id):
            key = row["key"] or ""
            entry = tokens.setdefault(
                key, {"token_id": key or None, "api_calls": 0, "generations": 0}
            )
            entry["generations"] = int(row["count"])
        return {
            "user_id": user_id,
            "days": count,
            "since": since.date().isoformat(),
            "per_day": [per_day[name] for name in sorted(per_day)],
            "per_token": sorted(
                tokens.values(), key=lambda t: (-t["api_calls"], t["token_id"] or "")
            ),
        }

    async def popular(self, days: Any = 30, limit: Any = 10) -> dict[str, Any]:
        """Popular styles (all generations) and prompts (of artworks public now)."""
        count, since = self._since(days)
        limit = whole_number_or(limit)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            message = "limit must be a whole number from 1 to 100"
            raise InvalidInput(message, code="invalid_limit")
        styles = await self.repo.per_blob(GENERATIONS, 1, since, doubles=(1,), limit=limit)
        made = await self.repo.public_prompts(
            GENERATIONS, 3, since, weight_double=None, limit=limit
        )
        viewed = await self.repo.public_prompts(VIEWS, 1, since, weight_double=1, limit=limit)
        prompts: dict[str, dict[str, Any]] = {}
        for row in made:
            prompts[row["prompt"]] = {
                "prompt": row["prompt"],
                "generations": int(row["count"]),
                "views": 0,
            }
        for row in viewed:
            entry = prompts.setdefault(
                row["prompt"], {"prompt": row["prompt"], "generations": 0, "views": 0}
            )
            entry["views"] = int(row["count"])
        ranked = sorted(
            prompts.values(), key=lambda p: (-p["generations"], -p["views"], p["prompt"])
        )
        return {
            "days": count,
            "styles": [
                {"style": row["key"], "generations": int(row["count"]), "frames": int(row["sum1"])}
                for row in styles
                if row["key"]
            ],
            "prompts": ranked[:limit],
        }
