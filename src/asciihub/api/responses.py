"""JSON responses and request bodies, with orjson and the project's error shape."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from asciihub.errors import AsciihubError, InvalidInput, UnsupportedMedia

JSON_TYPE = "application/json; charset=utf-8"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response from data (or from already encoded bytes)."""
    body = data if isinstance(data, bytes) else orjson.dumps(data)
    return Response(body, status_code=status, headers=headers, media_type=JSON_TYPE)


def error_response(exc: AsciihubError) -> Response:
    """The JSON error body ``{"error": {"code", "message"}}`` with the error's status."""
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    return json_response(exc.to_dict(), status=exc.status, headers=headers)


async def read_json(request: Request) -> Any:
    """The request's JSON body; 415 for another content type, 400 for bad JSON."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        message = "send the body as JSON with Content-Type: application/json"
        raise UnsupportedMedia(message, code="expected_json")
    body = await request.body()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        message = f"the body is not valid JSON: {exc.msg} at position {exc.pos}"
        raise InvalidInput(message, code="invalid_json") from None
