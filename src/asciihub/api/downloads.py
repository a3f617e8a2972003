"""``GET /objects/{key}?expires=&sig=``: the file backend's presigned download links.

Anyone holding an intact, unexpired link gets the object as an attachment; a bad
signature or a past expiry answers a JSON 403, a missing object a 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from asciihub.api.state import services
from asciihub.services.exports import content_disposition


async def signed_object(request: Request) -> Response:
    """Stream the linked object with ``Content-Disposition: attachment``."""
    found = await services(request).downloads.open(
        request.path_params["key"],
        request.query_params.get("expires", ""),
        request.query_params.get("sig", ""),
    )
    headers = {
        "Content-Disposition": content_disposition(found.filename),
        "Content-Length": str(found.info.size),
        "ETag": found.info.http_etag,
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    media_type = found.info.http_metadata.content_type or "application/octet-stream"
    return StreamingResponse(found.chunks, media_type=media_type, headers=headers)


routes = [
    Route("/objects/{key:path}", signed_object, methods=["GET"], name="signed_object"),
]
