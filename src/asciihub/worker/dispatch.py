"""Which handler runs a message: by the body's ``type``, else by its queue."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from asciihub.bootstrap import Services
from asciihub.queue import BatchMessage, Handler, PermanentFailure, per_message
from asciihub.worker import analytics, conversion, email, export, export_all, generation, thumbnail
from asciihub.worker import imports as import_job
from asciihub.worker.jobrun import outage_outcome

log = logging.getLogger(__name__)

MessageHandler = Callable[[Services, BatchMessage], Awaitable[None]]

HANDLERS: dict[str, MessageHandler] = {
    "generation": generation.handle,
    "conversion": conversion.handle,
    "export": export.handle,
    "thumbnail": thumbnail.handle,
    "analytics": analytics.handle,
    "email": email.handle,
    "import": import_job.handle,
    "export_all": export_all.handle,
}
QUEUE_KINDS = {
    "generation": "generation",
    "conversion": "conversion",
    "exports": "export",
    "thumbnails": "thumbnail",
    "analytics": "analytics",
    "email": "email",
    "imports": "import",
}
JOB_QUEUES = ("generation", "conversion", "exports", "imports")
"""Queues whose messages are whole jobs: one message per handler call."""


def handler_for(services: Services, queue_name: str) -> Handler:
    """The batch handler of ``queue_name``: each message runs (and fails) alone."""

    async def handle_one(message: BatchMessage) -> None:
        body = message.body
        kind = body.get("type") if isinstance(body, dict) else None
        handler = HANDLERS.get(str(kind)) if kind else HANDLERS.get(QUEUE_KINDS.get(queue_name, ""))
        if handler is None:
            text = f"no handler for message type {kind!r} on queue {queue_name}"
            raise PermanentFailure(text, code="unknown_message_type")
        if queue_name in JOB_QUEUES:
            async with outage_outcome(services, message):
                await handler(services, message)
        else:
            await handler(services, message)

    return per_message(handle_one)
