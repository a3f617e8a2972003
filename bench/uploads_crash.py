"""R5(a): concurrent uploads, ``kill -9`` of ``asciihub serve`` at a random moment, restart, GC.

One run: start ``asciihub serve`` (SQLite, SQLite queue with its consumers in-process,
and the files object store, or with ``--s3`` a moto S3 server), sign up a few users,
send N uploads at once to ``POST /api/convert`` (PNGs of random noise, sized uniformly
between the byte bounds) while other clients keep creating artwork documents
(``POST /api/artworks``), and kill the server with SIGKILL at a random point of the
run's progress: while bytes are still arriving (``p < 0.5``: that share of all bytes
sent) or while uploads are being stored and converted (``p >= 0.5``: that share of
uploads answered). Then restart it on the same data, check every write that was
acknowledged is there, stop it, run the GC (``asciihub fsck --repair --grace 0``:
orphan artwork objects and uploads, temp files, unfinished multipart uploads) and
count, offline: rows whose object is missing or differs (size, sha256), orphan
objects, leftover temp files. Every figure but the counts of work must be 0.

Options: ``--uploads N`` (200), ``--min-mb X`` (1), ``--max-mb X`` (20), ``--seed N``,
``--kill-at P`` (0..1, random by default), ``--s3`` (also run on moto S3).
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench._crash_audit import Audit, audit_deployment
from bench._crash_stack import (
    MIB,
    CrashPlan,
    Upload,
    asciihub_cli,
    make_uploads,
    moto_bucket,
    run_env,
    serve,
)
from bench._tools import option, print_table

__all__ = ["MIB", "CrashPlan", "CrashResult", "run_crash", "table_rows"]

CHUNK = 1024 * 1024
DOC_WRITERS = 4


@dataclass
class CrashResult:
    """What the client saw, the GC did and the audit counted."""

    backend: str
    kill_at: float
    kill_moment: str = ""
    killed_after: float = 0.0
    uploads_acked: int = 0
    documents_acked: int = 0
    restarted_ok: bool = False
    gc_output: str = ""
    recheck_output: str = ""
    recheck_ok: bool = False
    audit: Audit = field(default_factory=Audit)
    seconds: float = 0.0

    @property
    def violations(self) -> int:
        """Everything that must be zero, summed."""
        failed_steps = (not self.restarted_ok) + (not self.recheck_ok)
        return self.audit.violations + failed_steps


# --- the load and the kill -----------------------------------------------------------


class Load:
    """The clients' shared progress, and the moment the server is killed."""

    def __init__(self, plan: CrashPlan, uploads: list[Upload], kill_at: float) -> None:
        self.plan = plan
        self.uploads = uploads
        self.total_bytes = sum(upload.size for upload in uploads)
        self.kill_at = kill_at
        self.sent = 0
        self.jobs: dict[str, str] = {}  # job id -> upload name
        self.artworks: list[str] = []
        self.kill = asyncio.Event()
        self.moment = ""

    def note(self) -> None:
        """Set ``kill`` once progress passes ``kill_at``."""
        if self.kill.is_set():
            return
        if self.kill_at < 0.5 and self.sent >= 2 * self.kill_at * self.total_bytes:
            self.moment = f"{self.sent / self.total_bytes:.0%} of upload bytes sent"
        elif self.kill_at >= 0.5 and len(self.jobs) >= (2 * self.kill_at - 1) * len(self.uploads):
            self.moment = f"{len(self.jobs)}/{len(self.uploads)} uploads answered"
        else:
            return
        self.kill.set()

    @staticmethod
    def form_head(upload: Upload, boundary: str) -> bytes:
        """The multipart form up to the file's bytes."""
        return (
            f'--{boundary}\r\nContent-Disposition: form-data; name="width"\r\n\r\n40\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{upload.name}"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()

    async def body(self, upload: Upload, boundary: str) -> AsyncIterator[bytes]:
        """The multipart form of one upload, counting the file's bytes as they go."""
        yield self.form_head(upload, boundary)
        with upload.path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
                self.sent += len(chunk)
                self.note()
        yield f"\r\n--{boundary}--\r\n".encode()

    async def upload(self, http: httpx.AsyncClient, token: str, upload: Upload) -> None:
        """One ``POST /api/convert``; its job id is kept once answered 202."""
        boundary = secrets.token_hex(16)
        length = len(self.form_head(upload, boundary)) + upload.size + len(boundary) + 8
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
        }
        try:
            response = await http.post(
                "/api/convert", content=self.body(upload, boundary), headers=headers
            )
        except httpx.HTTPError:
            return  # the server died under it: not acknowledged
        if response.status_code == 202:
            self.jobs[response.json()["job_id"]] = upload.name
            self.note()
        elif response.status_code < 500:
            raise SystemExit(f"upload {upload.name} refused: {response.text}")

    async def documents(self, http: httpx.AsyncClient, token: str, rng: random.Random) -> None:
        """Create small artwork documents until the kill (or the cap)."""
        headers = {"Authorization": f"Bearer {token}"}
        while not self.kill.is_set() and len(self.artworks) < self.plan.max_documents:
            lines = [
                rng.randbytes(30).hex()[: rng.randint(4, 60)] for _ in range(rng.randint(1, 40))
            ]
            payload = {
                "title": "r5",
                "visibility": "private",
                "frames": [{"text": "\n".join(lines)}],
            }
            try:
                response = await http.post("/api/artworks", json=payload, headers=headers)
            except httpx.HTTPError:
                return
            if response.status_code == 201:
                self.artworks.append(response.json()["id"])


async def _signup(http: httpx.AsyncClient) -> str:
    handle = f"crash-{secrets.token_hex(4)}"
    http.headers["Origin"] = str(http.base_url).rstrip("/")
    password = "correct horse battery staple"
    response = await http.post("/api/auth/signup", json={"handle": handle, "password": password})
    response.raise_for_status()
    response = await http.post("/api/tokens", json={"name": "r5", "scopes": ["read", "write"]})
    response.raise_for_status()
    http.cookies.clear()
    del http.headers["Origin"]
    return str(response.json()["token"])


async def drive(url: str, proc: subprocess.Popen[bytes], load: Load, rng: random.Random) -> float:
    """Send everything at once; SIGKILL ``proc`` when ``load`` says; seconds to the kill."""
    timeout = httpx.Timeout(300.0, connect=30.0)
    limits = httpx.Limits(max_connections=len(load.uploads) + DOC_WRITERS + 4)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as http:
        tokens = [await _signup(http) for _ in range(load.plan.users)]
        started = time.monotonic()
        killed_after = 0.0

        async def killer() -> None:
            nonlocal killed_after
            await load.kill.wait()
            os.kill(proc.pid, signal.SIGKILL)
            killed_after = time.monotonic() - started

        kill_task = asyncio.create_task(killer())
        work = [
            load.upload(http, tokens[index % len(tokens)], upload)
            for index, upload in enumerate(load.uploads)
        ]
        work += [
            load.documents(http, tokens[index % len(tokens)], random.Random(rng.random()))
            for index in range(DOC_WRITERS)
        ]
        await asyncio.gather(*work)
        if not load.kill.is_set():
            load.moment = "after every upload was answered"
            load.kill.set()
        await kill_task
    await asyncio.to_thread(proc.wait)
    return killed_after


def _settings(env: Mapping[str, str]) -> Any:
    from asciihub.settings import load_settings

    return load_settings(
        environ={key: value for key, value in env.items() if key.startswith("ASCIIHUB_")}
    )


def run_crash(plan: CrashPlan, workdir: Path, objects_url: str = "") -> CrashResult:
    """One crash run in ``workdir`` (files backend, or the S3 bucket ``objects_url``)."""
    rng = random.Random(plan.seed)
    began = time.monotonic()
    kill_at = plan.kill_at if plan.kill_at is not None else rng.uniform(0.05, 0.95)
    result = CrashResult(backend="s3" if objects_url else "files", kill_at=kill_at)
    uploads = make_uploads(workdir / "payloads", plan, rng)
    env = run_env(workdir / "data", plan, objects_url)
    log = workdir / "serve.log"
    load = Load(plan, uploads, kill_at)
    with serve(env, log) as (url, proc):
        result.killed_after = asyncio.run(drive(url, proc, load, rng))
    result.kill_moment = load.moment
    result.uploads_acked, result.documents_acked = len(load.jobs), len(load.artworks)
    with serve(env, log) as (url, _proc):
        result.restarted_ok = httpx.get(f"{url}/healthz", timeout=30).status_code == 200
    gc = asciihub_cli(env, "fsck", "--repair", "--grace", "0")
    result.gc_output = (gc.stdout + gc.stderr).strip()
    recheck = asciihub_cli(env, "fsck", "--grace", "0")
    result.recheck_output = (recheck.stdout + recheck.stderr).strip()
    result.recheck_ok = recheck.returncode == 0
    sent = {upload.name: upload.sha256 for upload in uploads}
    result.audit = asyncio.run(
        audit_deployment(_settings(env), sent, list(load.jobs), list(load.artworks))
    )
    result.seconds = time.monotonic() - began
    return result


def gc_summary(text: str) -> str:
    """What the GC fixed, counted per kind ("orphan upload: 7, ...")."""
    kinds = Counter(
        line.split(":", 1)[0] for line in text.splitlines() if line.endswith("(repaired)")
    )
    return ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) or "nothing"


def _last_line(text: str, start: str | tuple[str, ...]) -> str:
    found = [line for line in text.splitlines() if line.startswith(start)]
    return found[-1] if found else "-"


def table_rows(results: list[CrashResult], plan: CrashPlan) -> list[list[str]]:
    """The figures of each run, one row per figure."""

    def row(name: str, values: list[object], target: str = "") -> list[str]:
        return [name, *(str(value) for value in values), target]

    audits = [result.audit for result in results]
    mb = f"{plan.min_bytes / MIB:g}-{plan.max_bytes / MIB:g} MB"
    return [
        row("uploads started", [f"{plan.uploads} x {mb}" for _ in results]),
        row("kill -9 at", [f"{r.killed_after:.1f} s, {r.kill_moment}" for r in results]),
        row("uploads acknowledged (202)", [r.uploads_acked for r in results]),
        row("documents acknowledged (201)", [r.documents_acked for r in results]),
        row("restart healthy", [r.restarted_ok for r in results], "True"),
        row(
            "GC (fsck --repair --grace 0)",
            [_last_line(r.gc_output, ("ok", "repaired")) for r in results],
        ),
        row("GC fixed", [gc_summary(r.gc_output) for r in results]),
        row("GC sweep", [_last_line(r.gc_output, "swept") for r in results]),
        row("rows checked (artworks + jobs)", [f"{a.artwork_rows} + {a.job_rows}" for a in audits]),
        row("objects after GC", [a.objects for a in audits]),
        row("acknowledged writes lost", [len(a.acked_lost) for a in audits], "0"),
        row("rows pointing at missing objects", [len(a.rows_missing_object) for a in audits], "0"),
        row("objects whose size/sha256 differ", [len(a.rows_object_differs) for a in audits], "0"),
        row("orphan objects after one GC", [len(a.orphan_objects) for a in audits], "0"),
        row("leftover temp files", [len(a.temp_files) for a in audits], "0"),
        row("second fsck clean", [r.recheck_ok for r in results], "True"),
        row("run seconds", [f"{r.seconds:.0f}" for r in results]),
    ]


def _option(argv: list[str], name: str, default: float) -> float:
    return float(option(argv, name, str(default)))


def _print(results: list[CrashResult], plan: CrashPlan) -> None:
    header = ["figure", *(f"{r.backend} (kill at p={r.kill_at:.2f})" for r in results), "target"]
    print_table("R5(a) uploads, kill -9, restart, GC", header, table_rows(results, plan))
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    """Run the crash on the files backend (and moto S3 with ``--s3``); print the table."""
    plan = CrashPlan(
        uploads=int(_option(argv, "uploads", 200)),
        min_bytes=int(_option(argv, "min-mb", 1) * MIB),
        max_bytes=int(_option(argv, "max-mb", 20) * MIB),
        seed=int(_option(argv, "seed", secrets.randbelow(2**31))),
        kill_at=_option(argv, "kill-at", -1)
        if any(a.startswith("--kill-at=") for a in argv)
        else None,
    )
    print(f"seed {plan.seed} (repeat a run with --seed={plan.seed})")
    results = []
    with tempfile.TemporaryDirectory(prefix="asciihub-crash-") as tmp:
        results.append(run_crash(plan, Path(tmp) / "files"))
        _print(results[-1:], plan)
        if "--s3" in argv:
            with moto_bucket(Path(tmp) / "moto.log") as url:
                results.append(run_crash(plan, Path(tmp) / "s3", url))
            _print(results, plan)
    for result in results:
        audit = result.audit
        for label, items in (
            ("lost", audit.acked_lost),
            ("missing", audit.rows_missing_object),
            ("differs", audit.rows_object_differs),
            ("orphan", audit.orphan_objects),
            ("temp", audit.temp_files),
        ):
            for item in items[:10]:
                print(f"{result.backend} {label}: {item}")
        if not result.recheck_ok:
            print(f"{result.backend} second fsck:\n{result.recheck_output}")
    return 1 if any(result.violations for result in results) else 0
