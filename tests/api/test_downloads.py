"""The file backend's presigned links are served: signature, expiry, attachment."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from asciihub.storage.objects.protocol import HttpMetadata

# Only the file backend's links come here: S3 (and R2) serve their own presigned links.
pytestmark = pytest.mark.parametrize("deployment_settings", ["embedded", "mixed"], indirect=True)


@pytest.fixture
async def file_client(client: Any) -> Any:
    assert client.app.starlette.state.services.settings.resolved_objects_url().startswith("file")
    return client


async def test_a_signed_link_streams_the_object_as_an_attachment(file_client: Any) -> None:
    objects = file_client.app.starlette.state.services.objects
    body = bytes(range(256)) * 5000  # more than one chunk
    await objects.put("exports/u/x.bin", body, http_metadata=HttpMetadata(content_type="a/b"))
    link = await objects.presign_get("exports/u/x.bin", expires_in=600)
    answer = await file_client.get(link)
    assert answer.status_code == 200
    assert answer.content == body
    assert answer.headers["content-type"] == "a/b"
    assert answer.headers["content-disposition"] == 'attachment; filename="x.bin"'

    forged = await file_client.get(link.replace("/x.bin", "/y.bin"))
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "signature_mismatch"
    unsigned = await file_client.get("/objects/exports/u/x.bin")
    assert unsigned.status_code == 403

    await objects.delete("exports/u/x.bin")
    gone = await file_client.get(link)
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "object_not_found")


async def test_an_expired_link_is_refused(file_client: Any) -> None:
    objects = file_client.app.starlette.state.services.objects
    await objects.put("exports/u/soon.txt", b"x")
    link = await objects.presign_get("exports/u/soon.txt", expires_in=1)
    deadline = time.monotonic() + 10
    while (answer := await file_client.get(link)).status_code == 200:
        assert time.monotonic() < deadline, "the link never expired"
        await asyncio.sleep(0.05)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "link_expired")
