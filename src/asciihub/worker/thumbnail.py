"""The ``thumbnail`` job: render an artwork's thumbnail into the object store."""

from __future__ import annotations

from asciihub.bootstrap import Services
from asciihub.errors import NotFound
from asciihub.queue import BatchMessage, PermanentFailure
from asciihub.services.ids import is_valid_id
from asciihub.services.principals import Principal


async def handle(services: Services, message: BatchMessage) -> None:
    """Render ``thumbnails/{artwork_id}.png`` (again if the artwork changed)."""
    body = message.body
    artwork_id = body.get("artwork_id") if isinstance(body, dict) else None
    if not isinstance(artwork_id, str) or not is_valid_id(artwork_id):
        text = "a thumbnail message carries {'artwork_id': ...}"
        raise PermanentFailure(text, code="invalid_thumbnail_message")
    row = await services.artworks_repo.get(artwork_id)
    if row is None:
        return  # deleted since: nothing to render
    try:
        await services.images.png(Principal(user_id=row.user_id), artwork_id, "thumbnail")
    except NotFound:
        return
