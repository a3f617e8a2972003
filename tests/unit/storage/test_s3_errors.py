"""Which S3 answers count as the store being down (jobs wait those out) and which do not."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from asciihub.errors import DependencyDown, InvalidInput, NotFound, Unavailable
from asciihub.storage.objects._s3_codec import s3_errors


def _client_error(code: str, status: int) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "PutObject")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status", "kind", "down"),
    [
        ("InternalError", 500, Unavailable, True),
        ("SlowDown", 503, Unavailable, True),
        ("RequestTimeout", 408, Unavailable, True),
        ("TooManyRequests", 429, Unavailable, True),
        ("NoSuchBucket", 404, Unavailable, False),
        ("AccessDenied", 403, Unavailable, False),
        ("SomethingNew", 400, Unavailable, False),
        ("InvalidArgument", 400, InvalidInput, False),
        ("NoSuchKey", 404, NotFound, False),
    ],
)
def test_s3_answers_map_to_errors(code: str, status: int, kind: type, down: bool) -> None:
    with pytest.raises(kind) as caught, s3_errors("put x"):
        raise _client_error(code, status)
    assert isinstance(caught.value, DependencyDown) is down


def test_an_unreachable_s3_server_is_down() -> None:
    with pytest.raises(DependencyDown) as caught, s3_errors("get x"):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert caught.value.code == "storage_unreachable"
    assert caught.value.status == 503
