"""Large uploads: throughput of ``POST /api/convert`` and how the API answers meanwhile.

One ``asciihub serve`` on the embedded backends (SQLite, files; its queue consumers
off, so only the request path is measured). First a probe (``GET /api/artworks/{id}``
one request at a time) runs alone for a few seconds: the idle baseline. Then N clients
upload an M-MB PNG at once, in a loop, while the probe keeps going; the table shows the
upload throughput against the disk's own (the same bytes written and fsynced by this
process, the baseline of the same run), and the probe's latency under the uploads
against idle.

Options: ``--clients N`` (16), ``--mb M`` (16), ``--seconds S`` (15), ``--consumers on``
(run the conversions inside ``serve`` too, as the embedded default does), ``--probe
create`` (the probe creates artworks, ``POST /api/artworks``, instead of reading one).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench._crash_stack import MIB, CrashPlan, noise_png, run_env, serve
from bench._tools import option, print_table

PROBE_IDLE_SECONDS = 3.0


def disk_mb_per_s(payload: bytes, folder: Path, copies: int = 8) -> float:
    """MB/s of writing ``payload`` to new files with fsync, as an upload is stored."""
    started = time.perf_counter()
    for index in range(copies):
        path = folder / f"disk-{index}.bin"
        with path.open("wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        path.unlink()
    return copies * len(payload) / MIB / (time.perf_counter() - started)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def probe(http: httpx.AsyncClient, path: str, stop: asyncio.Event) -> list[float]:
    """Latencies (ms) of ``GET path`` (or, for ``/api/artworks``, a create), one at a time."""
    latencies: list[float] = []
    while not stop.is_set():
        started = time.perf_counter()
        if path == "/api/artworks":
            response = await http.post(path, json={"frames": [{"text": "probe"}]})
        else:
            response = await http.get(path)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code not in (200, 201):
            raise SystemExit(f"probe answered {response.status_code}: {response.text[:200]}")
    return latencies


async def uploader(
    http: httpx.AsyncClient, payload: bytes, stop: asyncio.Event, done: list[int]
) -> None:
    """Upload ``payload`` again and again until ``stop``; count the bytes accepted."""
    while not stop.is_set():
        files = {"file": ("noise.png", payload, "image/png")}
        response = await http.post("/api/convert", files=files, data={"width": "80"})
        if response.status_code != 202:
            raise SystemExit(f"upload answered {response.status_code}: {response.text[:200]}")
        done.append(len(payload))


async def measure(
    base: str, payload: bytes, clients: int, seconds: float, *, probe_creates: bool
) -> dict[str, float]:
    """The idle probe, then the probe under ``clients`` uploaders for ``seconds``."""
    limits = httpx.Limits(max_connections=clients + 4)
    timeout = httpx.Timeout(120.0)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=timeout, headers={"Origin": base}
    ) as http:
        signup = {"handle": "uploader", "password": "bench password for the upload bench"}
        assert (await http.post("/api/auth/signup", json=signup)).status_code == 201
        made = await http.post("/api/artworks", json={"frames": [{"text": "probe"}]})
        path = "/api/artworks" if probe_creates else f"/api/artworks/{made.json()['id']}"
        stop = asyncio.Event()
        idle_task = asyncio.create_task(probe(http, path, stop))
        await asyncio.sleep(PROBE_IDLE_SECONDS)  # the length of the idle measurement
        stop.set()
        idle = await idle_task

        stop = asyncio.Event()
        accepted: list[int] = []
        started = time.perf_counter()
        busy_task = asyncio.create_task(probe(http, path, stop))
        uploads = [
            asyncio.create_task(uploader(http, payload, stop, accepted)) for _ in range(clients)
        ]
        await asyncio.sleep(seconds)  # the length of the loaded measurement
        stop.set()
        await asyncio.gather(*uploads)
        elapsed = time.perf_counter() - started
        busy = await busy_task
    return {
        "uploads": len(accepted),
        "mb_per_s": sum(accepted) / MIB / elapsed,
        "idle_p50": statistics.median(idle),
        "idle_p99": percentile(idle, 0.99),
        "busy_p50": statistics.median(busy),
        "busy_p99": percentile(busy, 0.99),
        "busy_max": max(busy),
        "probes_per_s": len(busy) / elapsed,
        "idle_probes_per_s": len(idle) / PROBE_IDLE_SECONDS,
    }


def main(argv: list[str]) -> int:
    """Run the measurement and print its table."""
    clients = int(option(argv, "clients", "16"))
    size = int(float(option(argv, "mb", "16")) * MIB)
    seconds = float(option(argv, "seconds", "15"))
    with tempfile.TemporaryDirectory(prefix="asciihub-uploads-") as tmp:
        root = Path(tmp)
        png = root / "noise.png"
        noise_png(png, size, random.Random(1))
        payload = png.read_bytes()
        disk = disk_mb_per_s(payload, root)
        env = run_env(root / "data", CrashPlan(max_bytes=len(payload)))
        env["ASCIIHUB_RUN_CONSUMERS_IN_SERVE"] = option(argv, "consumers", "off")
        with serve(env, root / "serve.log") as (base, _proc):
            probe_creates = option(argv, "probe", "read") == "create"
            got = asyncio.run(measure(base, payload, clients, seconds, probe_creates=probe_creates))
    mb = len(payload) / MIB
    rows = [
        ["uploads accepted (202)", f"{got['uploads']:.0f}", "-"],
        [
            "upload throughput, MB/s",
            f"{got['mb_per_s']:.0f}",
            f"disk {disk:.0f} ({got['mb_per_s'] / disk:.2f})",
        ],
        [
            "probe p50, ms",
            f"{got['busy_p50']:.1f}",
            f"idle {got['idle_p50']:.1f}",
        ],
        ["probe p99, ms", f"{got['busy_p99']:.1f}", f"idle {got['idle_p99']:.1f}"],
        ["probe max, ms", f"{got['busy_max']:.1f}", "-"],
        [
            "probes/s",
            f"{got['probes_per_s']:.0f}",
            f"idle {got['idle_probes_per_s']:.0f}",
        ],
    ]
    consumers = option(argv, "consumers", "off")
    print_table(
        f"{clients} clients uploading {mb:.0f} MB each, again and again, for {seconds:g} s "
        f"(conversions in serve: {consumers})",
        ["figure", "under uploads", "baseline"],
        rows,
    )
    return 0
