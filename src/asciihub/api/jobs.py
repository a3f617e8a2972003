"""Job routes: start a generation or a conversion (202), read a job (owner only)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from asciihub.api.auth import principal_for
from asciihub.api.responses import json_response, read_json
from asciihub.api.state import services
from asciihub.errors import InvalidInput, TooLarge, UnsupportedMedia
from asciihub.services.artwork_input import check_job_text

_CHUNK = 256 * 1024


def _accepted(body: dict[str, str]) -> Response:
    return json_response(body, status=202, headers={"Location": f"/api/jobs/{body['job_id']}"})


async def generate(request: Request) -> Response:
    """POST /api/generate: queue a generation job; 202 ``{"job_id"}``."""
    payload = await read_json(request)
    principal = await principal_for(request)
    if isinstance(payload, dict):
        check_job_text(payload)
    return _accepted(await services(request).background.jobs.submit_generation(principal, payload))


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_CHUNK):
        yield chunk


async def convert(request: Request) -> Response:
    """POST /api/convert: store the upload, queue a conversion job; 202 ``{"job_id"}``."""
    built = services(request)
    principal = await principal_for(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        message = "send the upload as multipart/form-data with a `file` field"
        raise UnsupportedMedia(message, code="expected_multipart")
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            message = "the form needs a `file` field holding the image, GIF or video"
            raise InvalidInput(message, code="missing_file")
        limit = built.settings.upload_max_bytes
        if upload.size is not None and upload.size > limit:
            message = f"the upload is {upload.size} bytes; the limit is {limit} (upload_max_bytes)"
            raise TooLarge(message, code="upload_too_large")
        options: dict[str, object] = {}
        for name, value in form.multi_items():
            if name == "file":
                continue
            if not isinstance(value, str) or name in options:
                message = f"form field {name!r} must appear once, as text"
                raise InvalidInput(message, code="invalid_form")
            options[name] = value
        check_job_text(options)
        body = await built.background.jobs.submit_conversion(
            principal, options, _chunks(upload), filename=upload.filename or ""
        )
    return _accepted(body)


async def import_file(request: Request) -> Response:
    """POST /api/import: store the file, queue its import; 202 ``{"job_id"}``.

    With an ``Idempotency-Key``, the same key and file answer the same job again.
    """
    built = services(request)
    principal = await principal_for(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        message = "send the file as multipart/form-data with a `file` field"
        raise UnsupportedMedia(message, code="expected_multipart")
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            message = "the form needs a `file` field holding a .cast, .txt, .ans, .json or .zip"
            raise InvalidInput(message, code="missing_file")
        limit = built.settings.import_max_bytes
        if upload.size is not None and upload.size > limit:
            message = f"the file is {upload.size} bytes; the limit is {limit} (import_max_bytes)"
            raise TooLarge(message, code="import_too_large")
        title = form.get("title")
        if title is not None and not isinstance(title, str):
            message = "form field 'title' must be text"
            raise InvalidInput(message, code="invalid_form")
        imports = built.background.imports
        assert imports is not None
        filename = upload.filename or ""
        key = request.headers.get("idempotency-key")
        if key is None:
            body = await imports.submit(
                principal, _chunks(upload), filename=filename, title=title or None
            )
            return _accepted(body)
        # the same key and the same file (and name, title) give the same job (goal R7)
        asked = {"sha256": await _digest(upload), "filename": filename, "title": title}

        async def submit() -> tuple[int, Any]:
            await upload.seek(0)
            queued = await imports.submit(
                principal, _chunks(upload), filename=filename, title=title or None
            )
            return 202, queued

        answer = await built.background.idempotency.run(
            principal, key, "POST /api/import", asked, submit
        )
    response = _accepted(answer.body)
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def _digest(upload: UploadFile) -> str:
    """Hex SHA-256 of an upload (read in chunks from the form's spooled file)."""
    digest = hashlib.sha256()
    while chunk := await upload.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


async def get_job(request: Request) -> Response:
    """GET /api/jobs/{id}: status, progress, artwork id or error (owner only)."""
    principal = await principal_for(request)
    job = await services(request).background.jobs.get(principal, request.path_params["job_id"])
    return json_response(job, headers={"Cache-Control": "no-store"})


routes = [
    Route("/api/generate", generate, methods=["POST"], name="generate"),
    Route("/api/convert", convert, methods=["POST"], name="convert"),
    Route("/api/import", import_file, methods=["POST"], name="import_file"),
    Route("/api/jobs/{job_id}", get_job, methods=["GET"], name="get_job"),
]
