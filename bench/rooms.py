"""Artwork rooms under load: broadcast to 1,000 viewers, 20 editors, memory per socket.

Each scenario runs against ``asciihub serve`` (one process on the embedded backends;
two processes with rooms on Redis db 14 at 127.0.0.1:6379, flushed) and against a
baseline measured in the same run: a bare uvicorn WebSocket fan-out
(bench/_raw_fanout.py) with no rooms, log or persistence.

* broadcast: an editor sends a one-cell stroke; latency is from its send to each
  viewer's receipt of the effect (p50/p99 over viewers x rounds). Viewers are lean
  RFC 6455 clients (bench/_lean_viewer.py), so the measuring side is not the
  bottleneck. Viewers are split
  evenly over the processes; the editor is on the first.
* editors: 20 editors each send 10 ops/s for ``--seconds``; round trip is from send to
  the editor's own echo (the effect with its op id); ops/s is echoes per second.
* memory: the server's RSS growth over 1,000 idle sockets, per socket.

Options: ``--viewers N`` (1000), ``--rounds N`` (30), ``--editors N`` (20),
``--seconds N`` (5), ``--processes one|two|both`` (both: which deployments run). The
clients share the machine's cores with the servers.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
import websockets

from bench._lean_viewer import LeanViewer
from bench._room_client import RoomClient, open_socket
from bench._tools import free_port, option, print_table, process, wait_http

REDIS = "redis://127.0.0.1:6379/14"
PASSWORD = "correct horse battery staple"
TARGETS = {
    ("broadcast", 1): 50.0,
    ("broadcast", 2): 100.0,
    ("editors", 1): 30.0,
    ("editors", 2): 60.0,
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _serve(stack: ExitStack, data: Path, env: dict[str, str]) -> tuple[str, int]:
    port = free_port()
    full = {
        **env,
        "ASCIIHUB_DATA_DIR": str(data),
        "ASCIIHUB_PORT": str(port),
        "ASCIIHUB_LOG_LEVEL": "warning",
        "ASCIIHUB_RATE_LIMITS_ENABLED": "false",
        "ASCIIHUB_ROOM_SAVE_DEBOUNCE": "30",
    }
    proc = stack.enter_context(process([sys.executable, "-m", "asciihub", "serve"], full))
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz", timeout=60)
    return url, proc.pid


def _raw(stack: ExitStack) -> tuple[str, int]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "bench._raw_fanout:app", "--port", str(port),
        "--log-level", "warning", "--ws-per-message-deflate", "false", "--lifespan", "off",
    ]  # fmt: skip
    proc = stack.enter_context(process(command))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            import socket

            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)
    return url, proc.pid


async def _owner_and_art(url: str) -> tuple[str, str]:
    import httpx

    async with httpx.AsyncClient(base_url=url, headers={"Origin": url}) as http:
        handle = f"bench-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        made = await http.post("/api/auth/signup", json={"handle": handle, "password": PASSWORD})
        made.raise_for_status()
        token = (
            await http.post("/api/tokens", json={"name": "b", "scopes": ["read", "write"]})
        ).json()["token"]
        grid = "\n".join("." * 40 for _ in range(12))
        art = await http.post(
            "/api/artworks",
            headers={"Authorization": f"Bearer {token}"},
            json={"title": "bench", "visibility": "public", "frames": [{"text": grid}]},
        )
        art.raise_for_status()
        return token, str(art.json()["id"])


async def _open_viewers(urls: list[str], path: str, count: int, hello: bool) -> list[LeanViewer]:
    viewers = [LeanViewer() for _ in range(count)]
    for start in range(0, count, 50):
        batch = viewers[start : start + 50]
        await asyncio.gather(
            *(v.open(urls[(start + i) % len(urls)], path, hello=hello) for i, v in enumerate(batch))
        )
    return viewers


async def _broadcast(viewers: list[LeanViewer], send: Any, rounds: int) -> list[float]:
    latencies: list[float] = []
    for tag in range(1, rounds + 1):
        sent = time.perf_counter()
        await send(tag)
        async with asyncio.timeout(30):
            for viewer in viewers:
                while tag not in viewer.seen:
                    viewer.changed.clear()
                    await viewer.changed.wait()
        latencies.extend(v.seen[tag] - sent for v in viewers)
    return latencies


async def _room_broadcast(
    urls: list[str], count: int, rounds: int, pid: int | None
) -> dict[str, Any]:
    token, art = await _owner_and_art(urls[0])
    editor = RoomClient(urls[0], art, client_id="host", token=token)
    await editor.connect()
    before = _rss_kib(pid) if pid else 0
    viewers = await _open_viewers(urls, f"/ws/artworks/{art}", count, hello=True)
    after = _rss_kib(pid) if pid else 0

    async def send(tag: int) -> None:
        while editor.replica is not None and editor.replica.seq < tag - 1:
            await editor.wait_until(lambda: editor.seq >= tag - 1)
        await editor.op(
            {"kind": "stroke", "frame": "f0", "cells": [[tag % 12, tag % 40, "#", None, None]]}
        )

    latencies = await _broadcast(viewers, send, rounds)
    for viewer in viewers:
        await viewer.close()
    await editor.close()
    return {"lat": latencies, "mem": (after - before) * 1024 / count if pid else None}


async def _raw_broadcast(url: str, count: int, rounds: int, pid: int) -> dict[str, Any]:
    before = _rss_kib(pid)
    viewers = await _open_viewers([url], "/", count, hello=False)
    after = _rss_kib(pid)
    sender = await open_socket(url, "/")

    async def send(tag: int) -> None:
        await sender.send(
            orjson.dumps({"type": "raw", "op_id": tag, "cells": [[0, 0, "#"]]}).decode()
        )

    latencies = await _broadcast(viewers, send, rounds)
    for viewer in viewers:
        await viewer.close()
    await sender.close()
    return {"lat": latencies, "mem": (after - before) * 1024 / count}


async def _room_editors(urls: list[str], count: int, seconds: float) -> dict[str, Any]:
    token, art = await _owner_and_art(urls[0])
    editors = [
        RoomClient(urls[n % len(urls)], art, client_id=f"e{n}", token=token) for n in range(count)
    ]
    for editor in editors:
        await editor.connect()

    async def run(n: int, editor: RoomClient) -> None:
        end = time.perf_counter() + seconds
        step = 0
        while time.perf_counter() < end:
            step += 1
            await editor.op(
                {"kind": "stroke", "frame": "f0", "cells": [[n % 12, step % 40, "o", None, None]]}
            )
            await asyncio.sleep(0.1)  # pacing: 10 ops/s per editor

    started = time.perf_counter()
    await asyncio.gather(*(run(n, e) for n, e in enumerate(editors)))
    for editor in editors:
        await editor.wait_until(lambda e=editor: not e.sent_at, timeout=30)  # type: ignore[misc]
    elapsed = time.perf_counter() - started
    trips = [t for e in editors for t in e.round_trips]
    for editor in editors:
        await editor.close()
    return {"lat": trips, "ops": len(trips) / elapsed}


async def _raw_editors(url: str, count: int, seconds: float) -> dict[str, Any]:
    socks = [await open_socket(url, "/") for _ in range(count)]
    sent: dict[tuple[int, int], float] = {}
    trips: list[float] = []

    async def read(n: int, sock: Any) -> None:
        try:
            async for raw in sock:
                data = orjson.loads(raw)
                if data.get("c") == n:
                    trips.append(time.perf_counter() - sent.pop((n, data["op_id"])))
        except websockets.ConnectionClosed:
            pass

    readers = [asyncio.create_task(read(n, s)) for n, s in enumerate(socks)]

    async def run(n: int, sock: Any) -> None:
        end = time.perf_counter() + seconds
        step = 0
        while time.perf_counter() < end:
            step += 1
            sent[(n, step)] = time.perf_counter()
            await sock.send(orjson.dumps({"type": "raw", "c": n, "op_id": step}).decode())
            await asyncio.sleep(0.1)

    started = time.perf_counter()
    await asyncio.gather(*(run(n, s) for n, s in enumerate(socks)))
    deadline = time.perf_counter() + 10
    while sent and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    for sock in socks:
        await sock.close()
    for task in readers:
        task.cancel()
    return {"lat": trips, "ops": len(trips) / elapsed}


def _fresh_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    client.close()


def _row(
    name: str, result: dict[str, Any], target: float | None, base: dict[str, Any] | None
) -> list[str]:
    p50, p99 = _pct(result["lat"], 0.5), _pct(result["lat"], 0.99)
    ratio = f"{p99 / _pct(base['lat'], 0.99):.1f}x" if base else "-"
    verdict = "-" if target is None else ("ok" if p99 < target else "MISSED")
    ops = f"{result['ops']:.0f}" if "ops" in result else "-"
    return [
        name,
        f"{p50:.1f}",
        f"{p99:.1f}",
        ratio,
        ops,
        f"< {target:.0f}" if target else "-",
        verdict,
    ]


def main(argv: list[str]) -> int:
    """Run every scenario; print one table."""
    count = int(option(argv, "viewers", "1000"))
    rounds = int(option(argv, "rounds", "30"))
    editors = int(option(argv, "editors", "20"))
    seconds = float(option(argv, "seconds", "5"))
    processes = option(argv, "processes", "both")
    if processes not in ("one", "two", "both"):
        print("--processes is one, two or both", file=sys.stderr)
        return 2
    rows: list[list[str]] = []
    memory: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-rooms-") as folder, ExitStack() as stack:
        raw_url, raw_pid = _raw(stack)
        raw_b = asyncio.run(_raw_broadcast(raw_url, count, rounds, raw_pid))
        raw_e = asyncio.run(_raw_editors(raw_url, editors, seconds))
        one_b = one_e = two_b = two_e = None
        if processes != "two":
            one_url, one_pid = _serve(stack, Path(folder) / "one", {"ASCIIHUB_ROOMS_URL": ""})
            one_b = asyncio.run(_room_broadcast([one_url], count, rounds, one_pid))
            one_e = asyncio.run(_room_editors([one_url], editors, seconds))
        if processes != "one":
            _fresh_redis()
            shared = Path(folder) / "two"
            env = {
                "ASCIIHUB_ROOMS_URL": REDIS,
                "ASCIIHUB_KV_URL": REDIS,
                "ASCIIHUB_KV_NAMESPACE": "bench",
            }
            url_a, _ = _serve(stack, shared, env)
            url_b, _ = _serve(stack, shared, env)
            two_b = asyncio.run(_room_broadcast([url_a, url_b], count, rounds, None))
            two_e = asyncio.run(_room_editors([url_a, url_b], editors, seconds))
    rows.append(_row(f"baseline fan-out, {count} viewers", raw_b, None, None))
    if one_b is not None:
        name = f"room, {count} viewers, 1 process"
        rows.append(_row(name, one_b, TARGETS[("broadcast", 1)], raw_b))
    if two_b is not None:
        name = f"room, {count} viewers, 2 processes (Redis)"
        rows.append(_row(name, two_b, TARGETS[("broadcast", 2)], raw_b))
    rows.append(_row(f"baseline echo, {editors} editors x 10 ops/s", raw_e, None, None))
    if one_e is not None:
        name = f"room, {editors} editors x 10 ops/s, 1 process"
        rows.append(_row(name, one_e, TARGETS[("editors", 1)], raw_e))
    if two_e is not None:
        name = f"room, {editors} editors x 10 ops/s, 2 processes"
        rows.append(_row(name, two_e, TARGETS[("editors", 2)], raw_e))
    print_table(
        "rooms: latency in ms (p99 ratio against the baseline of the same run)",
        ["scenario", "p50", "p99", "p99 vs base", "ops/s", "target p99", ""],
        rows,
    )
    memory.append(["baseline fan-out", f"{raw_b['mem'] / 1024:.1f}", "-", "-"])
    if one_b is not None:
        verdict = "ok" if one_b["mem"] < 50 * 1024 else "MISSED"
        idle = f"{one_b['mem'] / 1024:.1f}"
        memory.append(["room viewer (welcomed, idle)", idle, "< 50", verdict])
    print_table("server memory per idle socket, KiB", ["socket", "KiB", "target", ""], memory)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
