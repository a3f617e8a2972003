"""Starting real ``asciihub serve`` processes for end-to-end tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

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
    try:
        yield url, proc
    finally:
        stop_process(proc)
        proc.stdout.close()
