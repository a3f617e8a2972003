"""The job queue binding (the Queues role): protocol, backends' factory, consumer loop.

:func:`open_job_queue` is the only code that knows URL schemes; services receive a
:class:`JobQueue` and workers run a :class:`Consumer` on it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from asciihub.errors import ConfigError
from asciihub.queue.batch import BatchMessage, MessageBatch
from asciihub.queue.consumer import Consumer, ConsumerOptions, Handler, per_message
from asciihub.queue.errors import PermanentFailure, RetryLater
from asciihub.queue.limits import parse_queue_names
from asciihub.queue.protocol import (
    ContentType,
    DeadMessage,
    JobQueue,
    Message,
    OutgoingMessage,
    QueueStats,
)
from asciihub.queue.retry_policy import RetryPolicy

__all__ = [
    "BatchMessage",
    "Consumer",
    "ConsumerOptions",
    "ContentType",
    "DeadMessage",
    "Handler",
    "JobQueue",
    "Message",
    "MessageBatch",
    "OutgoingMessage",
    "PermanentFailure",
    "QueueStats",
    "RetryLater",
    "RetryPolicy",
    "open_job_queue",
    "parse_queue_names",
    "per_message",
    "sqlite_path",
]


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///abs/path`` or ``sqlite://relative/path`` URL."""
    rest = url.removeprefix("sqlite://")
    if not rest or rest == "/":
        message = f"queue_url {url!r} names no file: use sqlite:///abs/path or sqlite://rel/path"
        raise ConfigError(message)
    return Path(rest)


async def open_job_queue(
    url: str,
    *,
    accept_queue_loss: bool = False,
    sqlite_synchronous: str = "full",
    delivery_delay: float = 0.0,
    consumer_name: str | None = None,
    clock: Callable[[], float] | None = None,
) -> JobQueue:
    """Open the backend ``url`` names: ``sqlite://PATH`` or ``redis[s]://host:port/db``.

    ``accept_queue_loss`` lets the Redis backend start on a server without AOF;
    ``clock`` (epoch seconds) exists for tests of delays.
    """
    scheme = urlsplit(url).scheme
    extra = {} if clock is None else {"clock": clock}
    if scheme == "sqlite":
        from asciihub.queue.sqlite import SqliteJobQueue

        return await SqliteJobQueue.open(
            sqlite_path(url),
            synchronous=sqlite_synchronous,
            delivery_delay=delivery_delay,
            consumer_name=consumer_name,
            **extra,
        )
    if scheme in ("redis", "rediss"):
        try:
            from asciihub.queue.redis_streams import RedisStreamsJobQueue
        except ImportError as exc:
            message = (
                "queue_url is redis:// but the redis package is missing: install asciihub[redis]"
            )
            raise ConfigError(message) from exc
        return await RedisStreamsJobQueue.open(
            url,
            accept_queue_loss=accept_queue_loss,
            delivery_delay=delivery_delay,
            consumer_name=consumer_name,
            **extra,
        )
    message = f"queue_url {url!r} has an unknown scheme; use sqlite://PATH or redis://HOST:PORT/DB"
    raise ConfigError(message)
