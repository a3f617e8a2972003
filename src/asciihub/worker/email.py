"""The ``email`` consumer: deliver one notification through the configured mailer."""

from __future__ import annotations

from asciihub.bootstrap import Services
from asciihub.errors import InvalidInput
from asciihub.queue import BatchMessage, PermanentFailure


async def handle(services: Services, message: BatchMessage) -> None:
    """Send the e-mail (SMTP or the outbox); an unreachable server retries later."""
    try:
        await services.background.notifications.deliver(message.body)
    except InvalidInput as exc:
        raise PermanentFailure(exc.message, code=exc.code) from exc
