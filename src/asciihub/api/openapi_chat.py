"""The OpenAPI description of the room chat image routes."""

from __future__ import annotations

from typing import Any

from asciihub.api.openapi_parts import ERROR, STRING, errors, json_response, ref

_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_ERRORS = errors(400, 401, 403, 404, 413, 415, 429, 503)
_PATH = {"in": "path", "required": True, "schema": STRING}
_SHARE = [
    {"name": "share", "in": "query", "schema": STRING, "description": "Share token."},
    {"name": "X-Share-Token", "in": "header", "schema": STRING, "description": "Share token."},
]

CHAT_SCHEMAS: dict[str, Any] = {
    "ChatImage": {
        "type": "object",
        "required": ["id", "user_id", "url", "type", "size", "width", "height"],
        "properties": {
            "id": STRING,
            "user_id": STRING,
            "url": STRING,
            "type": {"type": "string", "enum": list(_TYPES)},
            "size": {"type": "integer", "minimum": 1},
            "width": {"type": "integer", "minimum": 1},
            "height": {"type": "integer", "minimum": 1},
        },
    },
}


def chat_paths(secured: dict[str, Any]) -> dict[str, Any]:
    """Paths of the chat image routes (``secured``: the security requirement)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "/api/artworks/{artwork_id}/chat/images": {
            "parameters": [{"name": "artwork_id", **_PATH}],
            "post": {
                "summary": "Attach an image to the artwork room's chat",
                "description": "The image (PNG, JPEG, GIF or WebP, told by its content) as "
                "the raw body or the `file` field of a multipart form; at most "
                "`room_chat_image_max_bytes` bytes and `room_chat_image_max_pixels` pixels. "
                "Whoever may view the artwork and is signed in (write scope) may attach; a "
                '`chat` message then names it: `{"type": "chat", "image": ID}`.',
                **secured,
                "parameters": _SHARE,
                "requestBody": {
                    "required": True,
                    "content": {
                        **{kind: binary for kind in _TYPES},
                        "application/octet-stream": binary,
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        },
                    },
                },
                "responses": {
                    "201": json_response(ref("ChatImage"), "The stored attachment"),
                    **_ERRORS,
                },
            },
        },
        "/api/artworks/{artwork_id}/chat/images/{user_id}/{image_id}": {
            "parameters": [
                {"name": "artwork_id", **_PATH},
                {"name": "user_id", **_PATH},
                {"name": "image_id", **_PATH},
            ],
            "get": {
                "summary": "A chat image, for the room's members",
                "description": "Whoever may join the artwork's room; anyone else gets the "
                "404 `chat_image_not_found` of a missing id.",
                "parameters": _SHARE,
                "responses": {
                    "200": {
                        "description": "The image",
                        "content": {kind: {} for kind in _TYPES},
                    },
                    "304": {"description": "Not modified (If-None-Match)"},
                    "404": ERROR,
                    "429": ERROR,
                },
            },
        },
    }
