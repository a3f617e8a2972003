"""What the R5(a) crash run (``bench.uploads_crash``) stands on: its plan, its payloads,
the ``asciihub serve`` it kills, the CLI it runs afterwards and a moto S3 server.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench._tools import ROOT, free_port, stop_process, wait_http

MIB = 1024 * 1024
PNG_WIDTH = 1024
READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class CrashPlan:
    """What one crash run does."""

    uploads: int = 200
    min_bytes: int = 1 * MIB
    max_bytes: int = 20 * MIB
    users: int = 4
    max_documents: int = 2000
    seed: int = 0
    kill_at: float | None = None
    """Progress at which to kill (see the module docstring); None draws it from the seed."""


@dataclass
class Upload:
    """One payload file and what the client knows of it."""

    path: Path
    name: str
    size: int
    sha256: str


# --- payloads ------------------------------------------------------------------------


def noise_png(path: Path, size: int, rng: random.Random) -> None:
    """A PNG of random RGB noise, stored uncompressed so its file is about ``size`` bytes."""
    import numpy as np
    from PIL import Image

    rows = max(1, (size - 200) // (PNG_WIDTH * 3 + 1))
    pixels = np.random.default_rng(rng.getrandbits(64)).integers(
        0, 256, size=(rows, PNG_WIDTH, 3), dtype=np.uint8
    )
    Image.fromarray(pixels, "RGB").save(path, "PNG", compress_level=0)


def make_uploads(folder: Path, plan: CrashPlan, rng: random.Random) -> list[Upload]:
    """Write ``plan.uploads`` noise PNGs of random size; their names carry their index."""
    folder.mkdir(parents=True, exist_ok=True)
    uploads = []
    for index in range(plan.uploads):
        path = folder / f"{index:04d}.png"
        noise_png(path, rng.randint(plan.min_bytes, plan.max_bytes), rng)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        uploads.append(Upload(path, f"r5-{index:04d}.png", path.stat().st_size, digest))
    return uploads


# --- the server ----------------------------------------------------------------------


@contextmanager
def serve(env: Mapping[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``asciihub serve --port 0`` logging to ``log``; yield (URL, process)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "asciihub", "serve", "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            cwd=ROOT,
        )
    try:
        start = log.stat().st_size if log.exists() else 0
        deadline = time.monotonic() + READY_TIMEOUT
        url = None
        while url is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"asciihub serve did not start:\n{log.read_text()[-3000:]}")
            text = log.read_bytes()[start:].decode(errors="replace")
            marker = text.find("serving on http://")
            if marker >= 0 and "\n" in text[marker:]:
                url = text[marker + len("serving on ") :].split()[0]
            else:
                time.sleep(0.05)  # polling the log for readiness, with a deadline
        wait_http(f"{url}/healthz", timeout=READY_TIMEOUT)
        yield url, proc
    finally:
        stop_process(proc, timeout=30)


def run_env(data_dir: Path, plan: CrashPlan, objects_url: str = "") -> dict[str, str]:
    """``ASCIIHUB_*`` settings of the run: limits that fit the uploads, quick queues."""
    env = {
        "ASCIIHUB_DATA_DIR": str(data_dir),
        "ASCIIHUB_LOG_LEVEL": "warning",
        "ASCIIHUB_RATE_LIMITS_ENABLED": "false",
        "ASCIIHUB_UPLOAD_MAX_BYTES": str(plan.max_bytes + MIB),
        "ASCIIHUB_ENGINE_MAX_IMAGE_PIXELS": str(plan.max_bytes // 3 + PNG_WIDTH * 16),
        "ASCIIHUB_QUEUE_VISIBILITY_TIMEOUT": "5",
        "ASCIIHUB_QUEUE_POLL_INTERVAL": "0.05",
    }
    if objects_url:
        env["ASCIIHUB_OBJECTS_URL"] = objects_url
    return env


def asciihub_cli(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``asciihub ARGS`` against the run's data dir."""
    return subprocess.run(
        [sys.executable, "-m", "asciihub", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=600,
        check=False,
    )


@contextmanager
def moto_bucket(log: Path) -> Iterator[str]:
    """A moto S3 server (logging to ``log``) with a fresh bucket; AWS variables point at it."""
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    aws = {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {key: os.environ.get(key) for key in aws}
    os.environ.update(aws)
    with log.open("ab") as out:  # a file, not a pipe: nobody drains moto's request log
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_http(endpoint)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="asciihub-r5")
        yield "s3://asciihub-r5"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
