"""The OpenAPI 3.1 document of the HTTP API, written by hand next to the routes.

A test checks that every API route of the app is described here, so the two cannot
drift apart silently.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from asciihub import __version__
from asciihub.api.openapi_accounts import SCHEMAS, SECURITY, SECURITY_SCHEMES, account_paths
from asciihub.api.openapi_chat import CHAT_SCHEMAS, chat_paths
from asciihub.api.openapi_exports import EXPORT_SCHEMAS, export_paths
from asciihub.api.openapi_jobs import JOB_SCHEMAS, job_paths
from asciihub.api.openapi_make import MAKE_SCHEMAS, make_paths
from asciihub.api.openapi_parts import ERROR, errors, json_response, ref
from asciihub.api.openapi_portability import PORTABILITY_SCHEMAS, portability_paths

_ERRORS = errors(400, 404, 413, 415, 429, 503)
_ID = {"name": "artwork_id", "in": "path", "required": True, "schema": {"type": "string"}}
_SHARE = [
    {"name": "share", "in": "query", "schema": {"type": "string"}, "description": "Share token."},
    {
        "name": "X-Share-Token",
        "in": "header",
        "schema": {"type": "string"},
        "description": "Share token.",
    },
]
_PAGE_PARAMS = [
    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["new", "popular"]}},
    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
    {"name": "tag", "in": "query", "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Frame": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {
                "type": "string",
                "description": "Lines joined by \\n; no control characters.",
            },
            "duration_ms": {"type": "integer", "minimum": 1, "maximum": 600000},
            "colors": {"type": "string", "description": "base64 of rows*columns*3 RGB bytes."},
            "backgrounds": {
                "type": "string",
                "description": "Per-cell background colours, encoded as colors (version 2).",
            },
        },
    },
    "ArtworkCreate": {
        "type": "object",
        "required": ["frames"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": ["string", "null"], "maxLength": 200},
            "prompt": {"type": ["string", "null"], "maxLength": 2000},
            "visibility": {"type": "string", "enum": ["private", "unlisted", "public"]},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
            "fps": {"type": "number", "minimum": 0.1, "maximum": 120},
            "width": {"type": "integer", "minimum": 1},
            "height": {"type": "integer", "minimum": 1},
            "frames": {"type": "array", "items": ref("Frame"), "minItems": 1},
        },
    },
    "ArtworkPatch": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "title": {"type": ["string", "null"], "maxLength": 200},
            "prompt": {"type": ["string", "null"], "maxLength": 2000},
            "visibility": {"type": "string", "enum": ["private", "unlisted", "public"]},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
            "fps": {"type": "number"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "frames": {"type": "array", "items": ref("Frame"), "minItems": 1},
        },
    },
    "ArtworkSummary": {
        "type": "object",
        "required": [
            "id",
            "user_id",
            "owner",
            "title",
            "visibility",
            "tags",
            "r2_key",
            "frame_count",
            "width",
            "height",
            "fps",
            "duration_ms",
            "views",
            "created_at",
            "updated_at",
            "etag",
        ],
        "properties": {
            "id": {"type": "string"},
            "user_id": {"type": "string"},
            "owner": {"type": "string"},
            "title": {"type": ["string", "null"]},
            "prompt": {"type": ["string", "null"]},
            "visibility": {"type": "string", "enum": ["private", "unlisted", "public"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "r2_key": {"type": "string"},
            "frame_count": {"type": "integer"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "fps": {"type": "number"},
            "duration_ms": {"type": "integer"},
            "views": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "etag": {"type": "string"},
            "url": {"type": "string"},
            "thumbnail_url": {"type": "string"},
        },
    },
    "Artwork": {
        "allOf": [
            ref("ArtworkSummary"),
            {
                "type": "object",
                "required": ["frames"],
                "properties": {"frames": {"type": "array", "items": ref("Frame")}},
            },
        ]
    },
    "Page": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": ref("ArtworkSummary")},
            "next_cursor": {"type": ["string", "null"]},
        },
    },
}


@cache
def _paths() -> dict[str, Any]:
    artwork = json_response(ref("Artwork"), "The artwork with its frames")
    return {
        "/healthz": {
            "get": {
                "summary": "Health of every binding",
                "responses": {
                    "200": json_response({"type": "object"}, "Healthy"),
                    "503": json_response({"type": "object"}, "Degraded"),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {"description": "Prometheus text", "content": {"text/plain": {}}},
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": json_response({"type": "object"}, "OpenAPI 3.1"),
                },
            }
        },
        "/api/artworks": {
            "post": {
                "summary": "Create an artwork",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("ArtworkCreate")}},
                },
                "responses": {"201": artwork, "401": ERROR, **_ERRORS},
            }
        },
        "/api/artworks/{artwork_id}": {
            "parameters": [_ID],
            "get": {
                "summary": "Read an artwork",
                "parameters": _SHARE,
                "responses": {
                    "200": artwork,
                    "304": {"description": "Not modified (If-None-Match)"},
                    **_ERRORS,
                },
            },
            "patch": {
                "summary": "Change an artwork (owner; an edit link may change frames and title)",
                "parameters": _SHARE,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("ArtworkPatch")}},
                },
                "responses": {
                    "200": artwork,
                    "401": ERROR,
                    "403": ERROR,
                    "409": ERROR,
                    "412": ERROR,
                    **_ERRORS,
                },
            },
            "delete": {
                "summary": "Delete an artwork (owner)",
                "responses": {
                    "204": {"description": "Deleted"},
                    "401": ERROR,
                    "403": ERROR,
                    **_ERRORS,
                },
            },
        },
        "/api/gallery": {
            "get": {
                "summary": "Public artworks, newest or most viewed first",
                "parameters": _PAGE_PARAMS,
                "responses": {"200": json_response(ref("Page"), "One page"), **_ERRORS},
            }
        },
        "/api/users/{handle}/artworks": {
            "get": {
                "summary": "One user's artworks (all of them for the user, public ones for others)",
                "parameters": [
                    {
                        "name": "handle",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    *_PAGE_PARAMS,
                ],
                "responses": {"200": json_response(ref("Page"), "One page"), **_ERRORS},
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "asciihub",
            "version": __version__,
            "description": "Make, keep, share and export ASCII art and animations.",
        },
        "paths": {
            **_paths(),
            **account_paths(),
            **job_paths(),
            **export_paths(),
            **portability_paths(),
            **make_paths(),
            **chat_paths({"security": SECURITY}),
        },
        "components": {
            "schemas": {
                **_SCHEMAS,
                **SCHEMAS,
                **JOB_SCHEMAS,
                **EXPORT_SCHEMAS,
                **PORTABILITY_SCHEMAS,
                **MAKE_SCHEMAS,
                **CHAT_SCHEMAS,
            },
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
