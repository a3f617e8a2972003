"""Image attachments of room chat: uploaded over HTTP, referenced by a chat message.

An attachment is stored in the media bucket at ``media/{user_id}/chat-{image_id}``
(:func:`~asciihub.storage.objects.keys.chat_image_key`) with the artwork it was sent
to in its custom metadata. Its type is sniffed from the bytes (PNG, JPEG, GIF, WebP;
whatever the client says), its size and pixel count are capped by settings
(``room_chat_image_max_bytes``, ``room_chat_image_max_pixels``). Only whoever may join
the artwork's room sees it; anybody else gets the 404 a missing id gets.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image

from asciihub.errors import InvalidInput, NotFound, TooLarge, UnsupportedMedia
from asciihub.services.artworks import ArtworkService
from asciihub.services.ids import is_valid_id, new_id
from asciihub.services.principals import Principal, ShareGrant, writer_id
from asciihub.services.upload_sniff import UNREADABLE_IMAGE, sniff_media
from asciihub.storage.objects.keys import chat_image_key
from asciihub.storage.objects.protocol import HttpMetadata, ObjectStore

CHAT_IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}
"""Sniffed format to the Pillow decoder allowed to read it."""
_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class ChatImageLimits:
    """How large an attachment may be."""

    max_bytes: int = 5 * 1024 * 1024
    max_pixels: int = 4096 * 4096


@dataclass(frozen=True)
class ChatImage:
    """A stored attachment as chat messages carry it."""

    id: str
    user_id: str
    artwork_id: str
    mime: str
    size: int
    width: int
    height: int

    @property
    def url(self) -> str:
        """Where room members fetch it."""
        return f"/api/artworks/{self.artwork_id}/chat/images/{self.user_id}/{self.id}"

    def to_json(self) -> dict[str, Any]:
        """The attachment as the upload answer and chat messages show it."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "url": self.url,
            "type": self.mime,
            "size": self.size,
            "width": self.width,
            "height": self.height,
        }


def not_found() -> NotFound:
    """The one 404 of every attachment a caller may not see or that does not exist."""
    message = "no chat image with this id in this room"
    return NotFound(message, code="chat_image_not_found")


def check_image(data: bytes, limits: ChatImageLimits) -> tuple[str, int, int]:
    """(MIME type, width, height) of an allowed image; 413 or 415 otherwise."""
    if len(data) > limits.max_bytes:
        message = (
            f"the image is {len(data)} bytes; the limit is {limits.max_bytes} "
            "(room_chat_image_max_bytes)"
        )
        raise TooLarge(message, code="chat_image_too_large")
    unsupported = "a chat image is a PNG, JPEG, GIF or WebP file (checked by its content)"
    try:
        kind = sniff_media(data[:32])
    except UnsupportedMedia:
        raise UnsupportedMedia(unsupported, code="unsupported_chat_image") from None
    decoder = CHAT_IMAGE_FORMATS.get(kind.format)
    if decoder is None:
        raise UnsupportedMedia(unsupported, code="unsupported_chat_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[decoder]) as image:
                width, height = image.size
                if width * height > limits.max_pixels:
                    message = (
                        f"the image has {width}x{height} pixels; the limit is "
                        f"{limits.max_pixels} (room_chat_image_max_pixels)"
                    )
                    raise TooLarge(message, code="chat_image_too_many_pixels")
                image.verify()
    except UNREADABLE_IMAGE:
        message = f"the chat image is not a readable {kind.format.upper()} file"
        raise UnsupportedMedia(message, code="invalid_chat_image") from None
    return kind.mime, width, height


def _from_info(user_id: str, image_id: str, size: int, meta: Any) -> ChatImage | None:
    try:
        return ChatImage(
            id=image_id,
            user_id=user_id,
            artwork_id=str(meta["artwork_id"]),
            mime=str(meta["type"]),
            size=size,
            width=int(meta["width"]),
            height=int(meta["height"]),
        )
    except (KeyError, ValueError):
        return None


class ChatImageService:
    """Uploads, looks up and serves chat attachments."""

    def __init__(
        self, *, objects: ObjectStore, artworks: ArtworkService, limits: ChatImageLimits
    ) -> None:
        self.objects = objects
        self.artworks = artworks
        self.limits = limits

    async def uploader(
        self, principal: Principal, artwork_id: str, *, grant: ShareGrant | None
    ) -> str:
        """The user id of a member who may attach images here; 401, 403 or 404 if not."""
        user_id = writer_id(principal, "attach images to the chat")
        await self.artworks.row_for(principal, artwork_id, grant=grant)
        return user_id

    async def upload(self, user_id: str, artwork_id: str, data: bytes) -> ChatImage:
        """Check and store an image of ``user_id`` (see :meth:`uploader`) for a room."""
        mime, width, height = check_image(data, self.limits)
        image = ChatImage(new_id(), user_id, artwork_id, mime, len(data), width, height)
        await self.objects.put(
            chat_image_key(user_id, image.id),
            data,
            http_metadata=HttpMetadata(content_type=mime),
            custom_metadata={
                "kind": "chat_image",
                "artwork_id": artwork_id,
                "type": mime,
                "width": str(width),
                "height": str(height),
            },
        )
        return image

    async def _find(self, user_id: str, artwork_id: str, image_id: Any) -> ChatImage | None:
        if (
            not isinstance(image_id, str)
            or not is_valid_id(image_id)
            or not _USER_ID.fullmatch(user_id)
        ):
            return None
        info = await self.objects.head(chat_image_key(user_id, image_id))
        if info is None:
            return None
        image = _from_info(user_id, image_id, info.size, info.custom_metadata)
        return image if image is not None and image.artwork_id == artwork_id else None

    async def attachment(self, user_id: str, artwork_id: str, image_id: Any) -> ChatImage:
        """The sender's own attachment for this room; 400 for any other id."""
        image = await self._find(user_id, artwork_id, image_id)
        if image is None:
            message = (
                "image must be the id of an image you uploaded to this room's chat "
                "(POST /api/artworks/{id}/chat/images)"
            )
            raise InvalidInput(message, code="invalid_chat_image")
        return image

    async def read(
        self,
        principal: Principal,
        artwork_id: str,
        user_id: str,
        image_id: str,
        *,
        grant: ShareGrant | None,
    ) -> tuple[ChatImage, bytes, str]:
        """(attachment, bytes, etag) for a room member; the same 404 for anyone else."""
        try:
            await self.artworks.row_for(principal, artwork_id, grant=grant)
        except NotFound:
            raise not_found() from None
        image = await self._find(user_id, artwork_id, image_id)
        body = await self.objects.get(chat_image_key(user_id, image_id)) if image else None
        if image is None or body is None:
            raise not_found()
        return image, body.data, body.info.http_etag


__all__ = ["ChatImage", "ChatImageLimits", "ChatImageService", "check_image"]
