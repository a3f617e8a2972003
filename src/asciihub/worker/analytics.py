"""The ``analytics`` consumer: store data points sent by ``write_data_point``."""

from __future__ import annotations

from asciihub.bootstrap import Services
from asciihub.errors import InvalidInput
from asciihub.queue import BatchMessage, PermanentFailure


async def handle(services: Services, message: BatchMessage) -> None:
    """Insert the message's data points (invalid points are dropped and logged)."""
    try:
        await services.background.analytics.store(message.body)
    except InvalidInput as exc:
        raise PermanentFailure(exc.message, code=exc.code) from exc
