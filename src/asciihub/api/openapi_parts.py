"""Pieces every OpenAPI module of the API builds its entries from."""

from __future__ import annotations

from typing import Any

STRING = {"type": "string"}


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A response whose JSON body follows ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = json_response(ref("Error"), 'An error: {"error": {"code", "message"}}')


def errors(*statuses: int) -> dict[str, Any]:
    """The error response for each of ``statuses``."""
    return {str(status): ERROR for status in statuses}
