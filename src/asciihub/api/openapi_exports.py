"""OpenAPI entries of the export routes."""

from __future__ import annotations

from typing import Any

from asciihub.api.openapi_accounts import SECURITY
from asciihub.api.openapi_parts import STRING, errors, json_response, ref
from asciihub.render.exports import EXPORT_FORMATS

_ERRORS = errors(400, 401, 403, 404, 409, 413, 415, 429, 503)
_FORMATS = list(EXPORT_FORMATS)
_EXPORT_ID = {"name": "export_id", "in": "path", "required": True, "schema": STRING}
OPTIONAL_AUTH: list[dict[str, list[str]]] = [*SECURITY, {}]
"""A session or token when there is one; anonymous visitors may export what they see."""
SHARE_PARAMS = [
    {
        "name": "share",
        "in": "query",
        "schema": STRING,
        "description": "A view link's token (a private artwork's exports).",
    },
    {"name": "X-Share-Token", "in": "header", "schema": STRING, "description": "The same."},
]
_HEADER = {"schema": STRING}
DOWNLOAD_PARAMS = [
    {"name": "Range", "in": "header", "schema": STRING, "description": "One `bytes=` range."},
    {"name": "If-None-Match", "in": "header", "schema": STRING},
    {"name": "If-Range", "in": "header", "schema": STRING},
]
DOWNLOAD_HEADERS = {
    "ETag": {**_HEADER, "description": "Strong: the file's SHA-256, quoted."},
    "Content-Disposition": {
        **_HEADER,
        "description": "attachment; filename=...; filename*=UTF-8''... (RFC 6266, 5987)",
    },
    "Accept-Ranges": _HEADER,
}


def download_responses(files: dict[str, Any]) -> dict[str, Any]:
    """The answers of a streamed download route."""
    return {
        "200": {"description": "The file", "content": files, "headers": DOWNLOAD_HEADERS},
        "206": {
            "description": "One range of the file (Content-Range)",
            "content": files,
            "headers": {**DOWNLOAD_HEADERS, "Content-Range": _HEADER},
        },
        "304": {"description": "Not modified (If-None-Match matched the ETag)"},
        "416": {"description": "Range not satisfiable (Content-Range: bytes */SIZE)"},
    }


EXPORT_SCHEMAS: dict[str, Any] = {
    "ExportRequest": {
        "type": "object",
        "required": ["format"],
        "additionalProperties": False,
        "properties": {"format": {"type": "string", "enum": _FORMATS}},
    },
    "ExportAccepted": {
        "type": "object",
        "required": ["job_id", "export_id", "status"],
        "properties": {
            "job_id": STRING,
            "export_id": STRING,
            "status": {"type": "string", "enum": ["queued", "running", "done"]},
            "download_url": {"type": "string", "format": "uri"},
        },
    },
    "Export": {
        "type": "object",
        "required": ["id", "artwork_id", "format", "job_id", "status", "progress", "created_at"],
        "properties": {
            "id": STRING,
            "artwork_id": STRING,
            "format": {"type": "string", "enum": _FORMATS},
            "job_id": STRING,
            "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "size": {"type": "integer", "description": "Bytes of the file, once stored."},
            "sha256": {"type": "string", "description": "Hex SHA-256 of the file."},
            "download_url": {"type": "string", "format": "uri"},
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": STRING, "message": STRING},
            },
            "created_at": {"type": "string", "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
}


def export_paths() -> dict[str, Any]:
    """The paths of the export routes."""
    files = {
        item.media_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
        for item in EXPORT_FORMATS.values()
    }
    return {
        "/api/artworks/{artwork_id}/exports": {
            "post": {
                "summary": "Export an artwork you may view (shared per version and format)",
                "security": OPTIONAL_AUTH,
                "parameters": [
                    {"name": "artwork_id", "in": "path", "required": True, "schema": STRING},
                    *SHARE_PARAMS,
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("ExportRequest")}},
                },
                "responses": {
                    "200": json_response(ref("ExportAccepted"), "Already stored: download it"),
                    "202": json_response(
                        ref("ExportAccepted"), "Queued; poll GET /api/exports/{id}"
                    ),
                    **_ERRORS,
                },
            }
        },
        "/api/exports/{export_id}": {
            "get": {
                "summary": "An export's status and download URL (whoever may view the artwork)",
                "security": OPTIONAL_AUTH,
                "parameters": [_EXPORT_ID, *SHARE_PARAMS],
                "responses": {"200": json_response(ref("Export"), "The export"), **_ERRORS},
            }
        },
        "/api/exports/{export_id}/download": {
            "get": {
                "summary": "The exported file, streamed as an attachment (ranges, ETag)",
                "security": OPTIONAL_AUTH,
                "parameters": [_EXPORT_ID, *SHARE_PARAMS, *DOWNLOAD_PARAMS],
                "responses": {
                    **download_responses(files),
                    "302": {"description": "A presigned URL of the file (S3, R2)"},
                    **_ERRORS,
                },
            }
        },
    }
