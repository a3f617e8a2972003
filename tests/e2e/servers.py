"""Starting real ``asciihub serve`` processes for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from bench._tools import stop_process

ADDRESS = re.compile(rb"serving on (http://[\d.]+:\d+)")


@contextmanager
def running_server(
    data_dir: Path, env: Mapping[str, str] | None = None, *, timeout: float = 30.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``asciihub serve --port 0``; yield (base URL, process); stop it after."""
    full_env = {**os.environ, "ASCIIHUB_DATA_DIR": str(data_dir), **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "asciihub", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=full_env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    output = b""
    url = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        output += line
        match = ADDRESS.search(line)
        if match:
            url = match.group(1).decode()
            break
    if url is None:
        proc.kill()
        rest = proc.communicate()[0]
        raise RuntimeError(f"asciihub serve did not start:\n{(output + rest).decode()}")
    # Keep reading the output: a full pipe would block the server on its next log line.
    tail: deque[bytes] = deque(maxlen=200)
    drain = threading.Thread(target=_drain, args=(proc.stdout, tail), daemon=True)
    drain.start()
    try:
        yield url, proc
    finally:
        stop_process(proc)
        drain.join(10)
        proc.stdout.close()


def _drain(stream: IO[bytes], tail: deque[bytes]) -> None:
    """Read ``stream`` to its end, keeping the last lines."""
    with contextlib.suppress(ValueError, OSError):
        for line in iter(stream.readline, b""):
            tail.append(line)
