"""OpenAPI entries of the making routes: banner, remix, templates."""

from __future__ import annotations

from typing import Any

from asciihub.api.openapi_parts import STRING, errors, json_response, ref

_ERRORS = errors(400, 413, 415, 429)

MAKE_SCHEMAS: dict[str, Any] = {
    "BannerRequest": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 500},
            "font": {"type": "string", "default": "standard", "description": "A FIGlet font"},
            "width": {"type": "integer", "minimum": 10, "maximum": 1000, "default": 80},
            "align": {"type": "string", "enum": ["left", "center", "right"]},
            "border": {"type": "string", "enum": ["none", "ascii", "single", "double", "rounded"]},
        },
    },
    "Banner": {
        "type": "object",
        "required": ["text", "width", "height", "font"],
        "properties": {
            "text": STRING,
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "font": STRING,
        },
    },
    "RemixRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "visibility": {"type": "string", "enum": ["private", "unlisted", "public"]},
        },
    },
}


def make_paths() -> dict[str, Any]:
    """The paths of the making routes."""
    artwork = json_response(ref("Artwork"), "The new artwork, owned by the caller")
    return {
        "/api/banner": {
            "post": {
                "summary": "Draw text as a FIGlet banner (nothing is stored)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("BannerRequest")}},
                },
                "responses": {"200": json_response(ref("Banner"), "The banner"), **_ERRORS},
            }
        },
        "/api/artworks/{artwork_id}/remix": {
            "parameters": [
                {"name": "artwork_id", "in": "path", "required": True, "schema": STRING}
            ],
            "post": {
                "summary": "Copy an artwork you may see into a new private artwork of your own",
                "description": "The copy's prompt credits the original; it is tagged `remix`.",
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": ref("RemixRequest")}},
                },
                "responses": {"201": artwork, **errors(401, 403, 404), **_ERRORS},
            },
        },
        "/api/artworks/{artwork_id}/people": {
            "parameters": [
                {"name": "artwork_id", "in": "path", "required": True, "schema": STRING}
            ],
            "get": {
                "summary": "Handles of the given user ids (for the editor's cursors and chat)",
                "parameters": [
                    {
                        "name": "ids",
                        "in": "query",
                        "required": True,
                        "description": "Comma-separated user ids, at most 50",
                        "schema": STRING,
                    }
                ],
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "people": {"type": "object", "additionalProperties": STRING}
                            },
                        },
                        "User id to handle; unknown ids are left out",
                    ),
                    **errors(400, 401, 404, 429),
                },
            },
        },
        "/api/templates": {
            "get": {
                "summary": "The hot templates: the most viewed public artworks (cached)",
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": {"type": "object"}}},
                        },
                        "Gallery items",
                    ),
                    **errors(429),
                },
            }
        },
    }
