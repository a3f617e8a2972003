"""Shared bench plumbing: installing load tools, running servers, parsing wrk."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_debian_package(command: str, package: str | None = None) -> str:
    """The path of ``command``, installing its Debian package first when missing."""
    found = shutil.which(command)
    if found:
        return found
    print(f"installing {package or command} (apt-get) ...", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", package or command], check=True, capture_output=True
    )
    found = shutil.which(command)
    if not found:
        raise SystemExit(f"{command} is not available and could not be installed")
    return found


def pinned(command: list[str], core: int | None) -> list[str]:
    """``command`` pinned to one CPU core with taskset, when there is more than one."""
    if core is None or (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return command
    return ["taskset", "-c", str(core), *command]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers, or fail."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout}s")


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """SIGTERM ``proc`` if it still runs; SIGKILL it after ``timeout`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def process(
    command: list[str], env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a background process for the duration of the block.

    Its error output goes to a temporary file (a pipe nobody reads would stall a
    chatty process such as moto once the pipe fills); the file's tail is printed when
    the process ended by itself with an error.
    """
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=ROOT,
        )
        try:
            yield proc
        finally:
            crashed = proc.poll() not in (None, 0)
            stop_process(proc)
            if crashed:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                print(f"{command[0]} exited {proc.returncode}:\n{tail}", file=sys.stderr)


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _millis(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, *, connections: int, seconds: int, core: int | None) -> LoadResult:
    """Load ``url`` with wrk (one thread) and parse its summary."""
    wrk = ensure_debian_package("wrk")
    command = pinned([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url], core)
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _millis(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _millis(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: .*?(\d+) timeout"):
        found = re.search(pattern, out)
        if found:
            errors += int(found.group(1))
    return LoadResult(rps, p50, p99, errors)


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A plain fixed-width table."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(f"\n{title}")
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))


def option(argv: list[str], name: str, default: str) -> str:
    """The value of ``--name=value`` or ``--name value`` in ``argv``, else ``default``."""
    for index, arg in enumerate(argv):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and index + 1 < len(argv):
            return argv[index + 1]
    return default
