"""Socket-level limits of real ``asciihub serve`` processes (issue 9, defects 2, 4, 9).

Each test talks raw TCP or urllib to a server on a free port, with limits set to about
a second so the run stays short. Waits are bounded reads with deadlines, never sleeps.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench._tools import free_port, stop_process, wait_http

from tests.e2e.servers import running_server

LIMITS = {
    "ASCIIHUB_HTTP_HEADER_TIMEOUT": "1",
    "ASCIIHUB_HTTP_BODY_TIMEOUT": "1",
    "ASCIIHUB_HTTP_IDLE_TIMEOUT": "1",
    "ASCIIHUB_HTTP_MAX_HEADER_BYTES": "8192",
    "ASCIIHUB_MAX_BODY_BYTES": "65536",
}


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {**LIMITS, "ASCIIHUB_HTTP_PARSER": request.param}
    with running_server(tmp_path_factory.mktemp("limits"), env) as (url, _):
        yield url


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _read_until_closed(sock: socket.socket, deadline: float) -> bytes:
    """Everything the server sends until it closes (or resets) the socket."""
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the socket open; got {received[:120]!r}")


def test_slow_headers_get_408_and_the_socket_closes(server: str) -> None:
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        answer = _read_until_closed(sock, started + 6)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert b'"header_timeout"' in answer
    assert time.monotonic() - started < 5


def test_a_silent_connection_is_closed(server: str) -> None:
    with socket.create_connection(_address(server)) as sock:
        started = time.monotonic()
        assert _read_until_closed(sock, started + 6) == b""
    assert time.monotonic() - started < 5


def test_a_slow_body_is_cut_off(server: str) -> None:
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"handle":'
        )
        started = time.monotonic()
        _read_until_closed(sock, started + 6)
    assert time.monotonic() - started < 5


def test_an_idle_kept_alive_connection_is_closed(server: str) -> None:
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        answer = _read_until_closed(sock, started + 6)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
    assert time.monotonic() - started < 5


def test_a_32_mib_header_line_is_refused_early(server: str) -> None:
    sent = 0
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            while sent < 32 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_until_closed(sock, time.monotonic() + 6)
    # ``sent`` also counts what the kernels buffered (the server's receive buffer
    # autotunes to megabytes): refused early means far short of the 32 MiB sent.
    assert sent < 8 * 1024 * 1024, f"the server took {sent} header bytes"
    if answer:  # a reset may beat the answer to the client; when it arrives, it is JSON
        assert answer.startswith(b"HTTP/1.1 431"), answer[:80]
        assert b'"headers_too_large"' in answer


def test_normal_requests_still_work_and_keep_alive(server: str) -> None:
    with httpx.Client(base_url=server) as http:
        for _ in range(3):
            assert http.get("/healthz").status_code == 200
        big_but_allowed = {"handle": "x" * 30000, "password": "y"}
        refused = http.post("/api/auth/login", json=big_but_allowed, headers={"Origin": server})
        assert refused.status_code in (400, 401), refused.text


@pytest.mark.parametrize("size", [5 * 1024 * 1024, 20 * 1024 * 1024])
def test_an_oversized_body_with_connection_close_gets_its_413(server: str, size: int) -> None:
    request = urllib.request.Request(
        f"{server}/api/auth/login",
        data=b"x" * size,
        headers={"Content-Type": "application/json", "Origin": server},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    with refused.value as answer:
        assert answer.code == 413
        assert b'"body_too_large"' in answer.read()


@pytest.mark.parametrize(
    ("origin", "status", "code"),
    [(b"http://x", b"413", b"body_too_large"), (b"https://elsewhere", b"403", b"csrf_failed")],
    ids=["too-large", "refused-early"],
)
def test_a_refused_chunked_body_still_gets_its_answer(
    server: str, origin: bytes, status: bytes, code: bytes
) -> None:
    chunk = b"x" * 65536
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Origin: %s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % origin
        )
        for _ in range(80):  # 5 MiB, written in full before reading, as urllib does
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
        answer = _read_until_closed(sock, time.monotonic() + 10)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    assert b'"' + code + b'"' in answer


# --- defect 2: X-Forwarded-For only from trusted proxies -------------------------------
def _reads(url: str, forwarded: list[str]) -> list[int]:
    with httpx.Client(base_url=url) as http:
        return [
            http.get("/api/gallery", headers={"X-Forwarded-For": ip}).status_code
            for ip in forwarded
        ]


def test_forwarded_headers_are_ignored_by_default(tmp_path: Path) -> None:
    with running_server(tmp_path, {"ASCIIHUB_RATE_LIMIT_READ": "3"}) as (url, _):
        statuses = _reads(url, [f"203.0.113.{i}" for i in range(5)])
        with httpx.Client(base_url=url) as http:  # a claimed https changes nothing
            signed = http.post(
                "/api/auth/signup",
                json={"handle": "forwarded-proto", "password": "correct horse battery staple"},
                headers={"Origin": url, "X-Forwarded-Proto": "https"},
            )
    assert statuses == [200, 200, 200, 429, 429]
    assert signed.status_code == 201, signed.text
    assert signed.headers["set-cookie"].startswith("asciihub_session="), signed.headers


def test_forwarded_headers_from_a_trusted_proxy_name_the_client(tmp_path: Path) -> None:
    env = {"ASCIIHUB_RATE_LIMIT_READ": "3", "ASCIIHUB_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with running_server(tmp_path, env) as (url, _):
        assert _reads(url, [f"203.0.113.{i}" for i in range(5)]) == [200] * 5
        assert _reads(url, ["198.51.100.7"] * 4) == [200, 200, 200, 429]


# --- the --workers path has the same limits --------------------------------------------
def test_workers_path_has_the_header_timeout(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, **LIMITS, "ASCIIHUB_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "asciihub", "serve", "--workers", "2", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            started = time.monotonic()
            answer = _read_until_closed(sock, started + 6)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    finally:
        stop_process(proc)
