"""Chat image routes: upload an attachment for a room's chat, fetch one as a member.

``POST /api/artworks/{id}/chat/images`` takes the image as the raw body (any
Content-Type; the type is told from the bytes) or as the ``file`` field of a
multipart form, and answers 201 with the attachment a ``chat`` message then names.
``GET /api/artworks/{id}/chat/images/{user_id}/{image_id}`` serves it to whoever may
join the room; anyone else gets the 404 of a missing id.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import principal_for, share_grant
from asciihub.api.responses import json_response
from asciihub.api.state import services
from asciihub.errors import InvalidInput, TooLarge

_CHUNK = 64 * 1024
IMAGE_HEADERS = {"Cache-Control": "private, max-age=3600", "Content-Disposition": "inline"}
"""The envelope adds nosniff and the CSP to every answer."""


def _too_large(limit: int) -> TooLarge:
    message = f"the image is larger than {limit} bytes (room_chat_image_max_bytes)"
    return TooLarge(message, code="chat_image_too_large")


async def _read_image(request: Request, limit: int) -> bytes:
    """The uploaded bytes (raw body or multipart ``file``), refused past ``limit``."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=4) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                message = "send the image as the `file` field of the multipart form"
                raise InvalidInput(message, code="missing_file")
            if upload.size is not None and upload.size > limit:
                raise _too_large(limit)
            data = await upload.read(limit + 1)
    else:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) > limit:
                raise _too_large(limit)
        data = bytes(buffer)
    if len(data) > limit:
        raise _too_large(limit)
    return data


async def upload_chat_image(request: Request) -> Response:
    """POST /api/artworks/{id}/chat/images: 201 with the stored attachment."""
    chat_images = services(request).live_rooms.chat_images
    principal = await principal_for(request)
    grant = await share_grant(request)
    artwork_id = request.path_params["artwork_id"]
    # Who may attach is checked before the body is read.
    user_id = await chat_images.uploader(principal, artwork_id, grant=grant)
    data = await _read_image(request, chat_images.limits.max_bytes)
    image = await chat_images.upload(user_id, artwork_id, data)
    return json_response(image.to_json(), status=201, headers={"Cache-Control": "no-store"})


async def chat_image(request: Request) -> Response:
    """GET /api/artworks/{id}/chat/images/{user_id}/{image_id}: the image bytes."""
    built = services(request)
    params = request.path_params
    image, data, etag = await built.live_rooms.chat_images.read(
        await principal_for(request),
        params["artwork_id"],
        params["user_id"],
        params["image_id"],
        grant=await share_grant(request),
    )
    headers = {**IMAGE_HEADERS, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=image.mime, headers=headers)


routes = [
    Route(
        "/api/artworks/{artwork_id}/chat/images",
        upload_chat_image,
        methods=["POST"],
        name="upload_chat_image",
    ),
    Route(
        "/api/artworks/{artwork_id}/chat/images/{user_id}/{image_id}",
        chat_image,
        methods=["GET"],
        name="chat_image",
    ),
]
