"""Streaming downloads of stored objects, and the file backend's signed ``/objects/{key}``.

:func:`object_response` is the one answer of every download route (signed links,
export files, export-all archives): ``Content-Disposition`` with the file name,
a strong ``ETag``, ``Accept-Ranges: bytes``, 304 on a matching ``If-None-Match``,
206 with ``Content-Range`` for one range, 416 for a range past the end, the body
streamed in ranged reads (see :mod:`asciihub.services.downloads`).

``GET /objects/{key}?expires=&sig=``: anyone holding an intact, unexpired link gets
the object as an attachment; a bad signature or a past expiry answers a JSON 403, a
missing object a 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from asciihub.api.state import services
from asciihub.services.attachments import content_disposition
from asciihub.services.downloads import object_chunks, plan_download

PRIVATE = {"Cache-Control": "private, no-store"}


def object_response(
    request: Request,
    *,
    key: str,
    etag: str,
    size: int,
    media_type: str,
    filename: str,
    disposition: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Stream object ``key`` (``size`` bytes, strong ``etag``) as the request asks.

    ``disposition`` (a stored ``Content-Disposition``) wins over one made of ``filename``.
    """
    plan = plan_download(
        etag,
        size,
        range_header=request.headers.get("range"),
        if_none_match=request.headers.get("if-none-match"),
        if_range=request.headers.get("if-range"),
    )
    sent = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": disposition or content_disposition(filename),
        **PRIVATE,
        **(headers or {}),
    }
    if plan.content_range is not None:
        sent["Content-Range"] = plan.content_range
    if plan.status in (304, 416):
        return Response(status_code=plan.status, headers=sent)
    sent["Content-Length"] = str(plan.length)
    objects = services(request).objects
    chunks = object_chunks(objects, key, plan.start, plan.length)
    if request.method == "HEAD":
        return Response(status_code=plan.status, headers=sent, media_type=media_type)
    return StreamingResponse(chunks, status_code=plan.status, media_type=media_type, headers=sent)


async def signed_object(request: Request) -> Response:
    """Stream the linked object with ``Content-Disposition: attachment``."""
    found = await services(request).downloads.open(
        request.path_params["key"],
        request.query_params.get("expires", ""),
        request.query_params.get("sig", ""),
    )
    return object_response(
        request,
        key=found.info.key,
        etag=found.info.http_etag,
        size=found.info.size,
        media_type=found.info.http_metadata.content_type or "application/octet-stream",
        filename=found.filename,
        disposition=found.info.http_metadata.content_disposition,
        headers={"Referrer-Policy": "no-referrer"},
    )


routes = [
    Route("/objects/{key:path}", signed_object, methods=["GET"], name="signed_object"),
]
