"""OpenAPI entries of the import and export-all routes."""

from __future__ import annotations

from typing import Any

from asciihub.api.openapi_accounts import SECURITY
from asciihub.api.openapi_exports import DOWNLOAD_PARAMS, download_responses
from asciihub.api.openapi_parts import STRING, errors, json_response, ref

_ERRORS = errors(400, 401, 403, 404, 413, 415, 429, 503)

PORTABILITY_SCHEMAS: dict[str, Any] = {
    "ImportRequest": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "A .cast (asciicast v2/v3), .txt, .ans, artwork .json or .zip.",
            },
            "title": {"type": "string", "description": "Title of the new artwork(s)."},
        },
    },
    "ImportAccepted": {
        "type": "object",
        "required": ["job_id"],
        "properties": {"job_id": STRING},
    },
    "ExportAllAccepted": {
        "type": "object",
        "required": ["job_id", "download_url"],
        "properties": {"job_id": STRING, "download_url": {"type": "string", "format": "uri"}},
    },
}


def portability_paths() -> dict[str, Any]:
    """The paths of ``POST /api/import`` and the export-all routes."""
    return {
        "/api/import": {
            "post": {
                "summary": "Upload a file to import as new private artworks (a job)",
                "security": SECURITY,
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "The same key and file answer the same job again.",
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": ref("ImportRequest")}},
                },
                "responses": {
                    "202": json_response(ref("ImportAccepted"), "The import job was queued"),
                    **_ERRORS,
                },
            }
        },
        "/api/me/export-all": {
            "post": {
                "summary": "Queue a ZIP of all my artworks, share links and settings",
                "security": SECURITY,
                "responses": {
                    "202": json_response(ref("ExportAllAccepted"), "The export job was queued"),
                    **_ERRORS,
                },
            }
        },
        "/api/me/export-all/{job_id}/download": {
            "get": {
                "summary": "Download my export-all archive (until export_all_ttl has passed)",
                "security": SECURITY,
                "parameters": [
                    {"name": "job_id", "in": "path", "required": True, "schema": STRING},
                    *DOWNLOAD_PARAMS,
                ],
                "responses": {
                    **download_responses(
                        {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
                    ),
                    **_ERRORS,
                },
            }
        },
    }
