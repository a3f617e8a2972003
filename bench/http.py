"""HTTP hot paths at concurrency 50 against one server process, next to a raw ASGI app.

Cases: a cached ``GET /api/artworks/{id}``, a gallery page, and the raw ASGI app
answering the artwork's bytes with the same headers (the physical limit of uvicorn +
uvloop + httptools on this machine). The server runs on core 0 and wrk on core 1.
Options: ``--seconds N`` (default 10), ``--connections N`` (default 50).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import httpx

from bench._tools import free_port, option, pinned, print_table, process, run_wrk, wait_http

TARGET_RATIO = 0.5
TARGET_P99_MS = 20.0


def _art(cols: int = 80, rows: int = 24) -> str:
    ramp = " .:-=+*#%@"
    return "\n".join(
        "".join(ramp[(x * y + x + y) % len(ramp)] for x in range(cols)) for y in range(rows)
    )


def _seed(base: str) -> tuple[str, bytes, dict[str, str]]:
    with httpx.Client(base_url=base, headers={"Origin": base}) as http:
        signup = {"handle": "bench", "password": "bench password for the http bench"}
        http.post("/api/auth/signup", json=signup).raise_for_status()
        for index in range(40):
            http.post(
                "/api/artworks",
                json={
                    "title": f"filler {index}",
                    "visibility": "public",
                    "frames": [{"text": "x"}],
                },
            ).raise_for_status()
        created = http.post(
            "/api/artworks",
            json={"title": "bench", "visibility": "public", "frames": [{"text": _art()}]},
        )
        created.raise_for_status()
        artwork_id = created.json()["id"]
        http.get(f"/api/artworks/{artwork_id}").raise_for_status()
        warm = http.get(f"/api/artworks/{artwork_id}")
        warm.raise_for_status()
        http.get("/api/gallery").raise_for_status()
    headers = {k: v for k, v in warm.headers.items() if k not in ("date", "content-length")}
    return artwork_id, warm.content, headers


def main(argv: list[str]) -> int:
    """Run the cases and print the table; non-zero if a target is missed."""
    seconds = int(option(argv, "seconds", "10"))
    connections = int(option(argv, "connections", "50"))
    with tempfile.TemporaryDirectory(prefix="asciihub-bench-") as tmp:
        body_file = Path(tmp) / "body.json"
        headers_file = Path(tmp) / "headers.json"
        port = free_port()
        serve = pinned([sys.executable, "-m", "asciihub", "serve", "--port", str(port)], 0)
        with process(
            serve,
            {
                "ASCIIHUB_DATA_DIR": f"{tmp}/data",
                "ASCIIHUB_LOG_LEVEL": "warning",
                "ASCIIHUB_RATE_LIMITS_ENABLED": "false",
            },
        ):
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz")
            artwork_id, body, headers = _seed(base)
            body_file.write_bytes(body)
            headers_file.write_text(json.dumps(headers))
            run_wrk(f"{base}/api/artworks/{artwork_id}", connections=connections, seconds=2, core=1)
            artwork = run_wrk(
                f"{base}/api/artworks/{artwork_id}",
                connections=connections,
                seconds=seconds,
                core=1,
            )
            gallery = run_wrk(
                f"{base}/api/gallery", connections=connections, seconds=seconds, core=1
            )
        raw_port = free_port()
        raw = pinned(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.raw_app:app",
                "--port",
                str(raw_port),
                "--no-access-log",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--log-level",
                "warning",
            ],
            0,
        )
        env = {"BENCH_BODY_FILE": str(body_file), "BENCH_HEADERS_FILE": str(headers_file)}
        with process(raw, env):
            wait_http(f"http://127.0.0.1:{raw_port}/")
            run_wrk(f"http://127.0.0.1:{raw_port}/", connections=connections, seconds=2, core=1)
            baseline = run_wrk(
                f"http://127.0.0.1:{raw_port}/", connections=connections, seconds=seconds, core=1
            )
    rows = []
    for name, result in (
        ("raw ASGI app (same bytes)", baseline),
        ("cached GET /api/artworks/{id}", artwork),
        ("GET /api/gallery", gallery),
    ):
        rows.append(
            [
                name,
                f"{result.requests_per_second:,.0f}",
                f"{result.p50_ms:.2f}",
                f"{result.p99_ms:.2f}",
                f"{result.requests_per_second / baseline.requests_per_second:.2f}",
                str(result.errors),
            ]
        )
    print_table(
        f"HTTP, {connections} connections, {seconds}s each, one server process, "
        f"body {len(body)} bytes",
        ["case", "req/s", "p50 ms", "p99 ms", "ratio to raw", "errors"],
        rows,
    )
    ratio = artwork.requests_per_second / baseline.requests_per_second
    met = ratio >= TARGET_RATIO and artwork.p99_ms < TARGET_P99_MS and artwork.errors == 0
    print(
        f"\ntarget: cached artwork GET >= {TARGET_RATIO} of raw and p99 < {TARGET_P99_MS} ms: "
        f"{'met' if met else 'MISSED'} (ratio {ratio:.2f}, p99 {artwork.p99_ms:.2f} ms)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
