"""The physical limit of the stack: a raw ASGI app answering fixed bytes, no framework.

``BENCH_BODY_FILE`` names the body to answer with; the headers match what asciihub's
hot path sends, so both move the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

BODY = Path(os.environ.get("BENCH_BODY_FILE", "/dev/null")).read_bytes()
_GIVEN = (
    json.loads(Path(os.environ["BENCH_HEADERS_FILE"]).read_text())
    if os.environ.get("BENCH_HEADERS_FILE")
    else {"content-type": "application/json; charset=utf-8"}
)
HEADERS = [(k.encode(), v.encode()) for k, v in _GIVEN.items()] + [
    (b"content-length", str(len(BODY)).encode())
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request with BODY."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
