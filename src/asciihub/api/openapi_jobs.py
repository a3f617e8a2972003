"""OpenAPI entries of the job, conversion and analytics routes."""

from __future__ import annotations

from typing import Any

from asciihub.api.openapi_accounts import SECURITY
from asciihub.api.openapi_parts import STRING, errors, json_response, ref

_ERRORS = errors(400, 401, 403, 404, 409, 413, 415, 429, 503)
_STYLES = ["simple", "dense", "shape", "edges", "blocks", "braille"]

JOB_SCHEMAS: dict[str, Any] = {
    "GenerateRequest": {
        "type": "object",
        "required": ["prompt"],
        "additionalProperties": False,
        "properties": {
            "prompt": {"type": "string", "minLength": 1, "maxLength": 2000},
            "frames": {"type": "integer", "minimum": 1, "default": 24},
            "style": {"type": "string", "enum": _STYLES, "default": "dense"},
            "width": {"type": "integer", "minimum": 1, "default": 80},
            "height": {"type": "integer", "minimum": 1, "default": 24},
            "title": {"type": "string", "maxLength": 200},
            "visibility": {"type": "string", "enum": ["private", "unlisted", "public"]},
            "seed": {"type": "integer", "minimum": 0},
            "fps": {"type": "number", "minimum": 0.1, "maximum": 120},
        },
    },
    "ConvertRequest": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "PNG, JPEG, GIF, WebP, MP4 or WebM.",
            },
            "width": {"type": "integer", "minimum": 1, "default": 80},
            "style": {"type": "string", "enum": _STYLES, "default": "dense"},
            "color": {
                "type": "string",
                "enum": ["none", "ansi16", "ansi256", "truecolor"],
                "default": "truecolor",
                "description": "Any but none stores an ink and a background colour per cell.",
            },
            "dither": {
                "type": "string",
                "enum": ["auto", "none", "floyd-steinberg", "ordered"],
                "default": "auto",
                "description": "Dithering of the tone levels; auto dithers only braille.",
            },
            "tone": {
                "type": "string",
                "enum": ["perceptual", "linear"],
                "default": "perceptual",
                "description": "Tone curve: perceptual (stretched sRGB) or linear light.",
            },
            "title": {"type": "string", "maxLength": 200},
            "visibility": {"type": "string", "enum": ["private", "unlisted", "public"]},
        },
    },
    "JobAccepted": {
        "type": "object",
        "required": ["job_id"],
        "properties": {"job_id": STRING},
    },
    "Job": {
        "type": "object",
        "required": ["id", "kind", "status", "progress", "created_at", "updated_at"],
        "properties": {
            "id": STRING,
            "kind": {"type": "string", "enum": ["generation", "conversion", "export"]},
            "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "attempts": {"type": "integer"},
            "artwork_id": STRING,
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": STRING, "message": STRING},
            },
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Usage": {
        "type": "object",
        "required": ["user_id", "days", "since", "per_day", "per_token"],
        "properties": {
            "user_id": STRING,
            "days": {"type": "integer"},
            "since": {"type": "string", "format": "date"},
            "per_day": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "day": {"type": "string", "format": "date"},
                        "generations": {"type": "integer"},
                        "frames": {"type": "integer"},
                        "generation_seconds": {"type": "number"},
                        "api_calls": {"type": "integer"},
                    },
                },
            },
            "per_token": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "token_id": {"type": ["string", "null"]},
                        "api_calls": {"type": "integer"},
                        "generations": {"type": "integer"},
                    },
                },
            },
        },
    },
    "Popular": {
        "type": "object",
        "required": ["days", "styles", "prompts"],
        "properties": {
            "days": {"type": "integer"},
            "styles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "style": STRING,
                        "generations": {"type": "integer"},
                        "frames": {"type": "integer"},
                    },
                },
            },
            "prompts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "prompt": STRING,
                        "generations": {"type": "integer"},
                        "views": {"type": "integer"},
                    },
                },
            },
        },
    },
}

_DAYS = {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 90}}


def job_paths() -> dict[str, Any]:
    """The paths of the job and analytics routes."""
    accepted = json_response(ref("JobAccepted"), "Queued; poll GET /api/jobs/{job_id}")
    return {
        "/api/generate": {
            "post": {
                "summary": "Start a generation job (prompt to animation)",
                "security": SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("GenerateRequest")}},
                },
                "responses": {"202": accepted, **_ERRORS},
            }
        },
        "/api/convert": {
            "post": {
                "summary": "Upload an image, GIF or video and start its conversion job",
                "security": SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": ref("ConvertRequest")}},
                },
                "responses": {"202": accepted, **_ERRORS},
            }
        },
        "/api/jobs/{job_id}": {
            "get": {
                "summary": "A job's status, progress, artwork or error (its owner only)",
                "security": SECURITY,
                "parameters": [
                    {"name": "job_id", "in": "path", "required": True, "schema": STRING}
                ],
                "responses": {"200": json_response(ref("Job"), "The job"), **_ERRORS},
            }
        },
        "/api/analytics/usage": {
            "get": {
                "summary": "The caller's own usage per day and per API token",
                "security": SECURITY,
                "parameters": [_DAYS],
                "responses": {"200": json_response(ref("Usage"), "Usage"), **_ERRORS},
            }
        },
        "/api/analytics/popular": {
            "get": {
                "summary": "Popular styles, and prompts of public artworks",
                "parameters": [
                    _DAYS,
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                ],
                "responses": {"200": json_response(ref("Popular"), "What is popular"), **_ERRORS},
            }
        },
    }
