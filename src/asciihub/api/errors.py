"""One place that renders every error the API can answer with."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from asciihub.api.responses import error_response, json_response
from asciihub.errors import AsciihubError, MethodNotAllowed, NotFound

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def handle_asciihub_error(request: Request, exc: Exception) -> Response:
    """Render an AsciihubError as its JSON body and status."""
    assert isinstance(exc, AsciihubError)
    if exc.status >= 500:
        log.error("event=request_failed code=%s path=%s", exc.code, request.url.path)
    return error_response(exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Render Starlette's own 404/405 (unknown route, wrong method) in our shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(NotFound("no such route", code="route_not_found"))
    if exc.status_code == 405:
        response = error_response(
            MethodNotAllowed(f"{request.method} is not allowed here", code="method_not_allowed")
        )
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    body = {"error": {"code": code, "message": str(exc.detail)}}
    return json_response(body, status=exc.status_code)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Anything else is a bug: log it with its traceback, answer a plain 500."""
    log.exception("event=unhandled_error path=%s", request.url.path, exc_info=exc)
    error = AsciihubError("internal error; it has been logged", code="internal_error")
    return error_response(error)
