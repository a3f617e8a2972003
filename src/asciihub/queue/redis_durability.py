"""Whether a Redis server keeps what it acknowledges: the AOF check of the queue."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from asciihub.errors import ConfigError

log = logging.getLogger(__name__)


def durability_problems(config: Mapping[str, str]) -> list[str]:
    """What in a ``CONFIG GET`` answer lets Redis lose acknowledged messages."""
    problems = []
    if config.get("appendonly", "no") != "yes":
        problems.append(f"appendonly is {config.get('appendonly', 'unknown')!r}, not 'yes'")
    elif config.get("appendfsync") not in ("everysec", "always"):
        problems.append(f"appendfsync is {config.get('appendfsync')!r}, not everysec or always")
    return problems


async def check_durability(client: aioredis.Redis, *, accept_queue_loss: bool) -> None:
    """Refuse a Redis that may lose messages (AOF off) unless ``accept_queue_loss``."""
    try:
        answer = await client.config_get("append*")
    except ResponseError as exc:
        if accept_queue_loss:
            log.warning("event=queue_redis_config_unreadable accept_queue_loss=true error=%r", exc)
            return
        message = (
            f"cannot read the Redis persistence settings (CONFIG GET failed: {exc}); the "
            "provider may disable CONFIG. Make sure AOF is on (appendonly yes, appendfsync "
            "everysec), then set accept_queue_loss = true to start anyway"
        )
        raise ConfigError(message, code="queue_durability_unknown") from exc
    config = {_text(k): _text(v) for k, v in answer.items()}
    problems = durability_problems(config)
    if problems and not accept_queue_loss:
        message = (
            f"the Redis queue could lose acknowledged messages: {'; '.join(problems)}. "
            "Turn AOF on (appendonly yes, appendfsync everysec) or set "
            "accept_queue_loss = true to accept losing queued jobs if Redis restarts"
        )
        raise ConfigError(message, code="queue_not_durable")
    for problem in problems:
        log.warning("event=queue_redis_not_durable accept_queue_loss=true problem=%r", problem)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
