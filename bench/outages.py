"""Goal R3: Redis, PostgreSQL or ``asciihub serve`` crashes under a steady write load.

A client creates artworks (201) and enqueues generation jobs (202), alternating, at a
fixed rate for a fixed time; in the middle one fault strikes:

- ``redis``: ``kill -9`` a private redis-server (AOF, ``appendfsync everysec``), restart
  it on the same port and directory after 2 s;
- ``postgres``: pause the worker (SIGSTOP) for a second so job messages queue up,
  ``pg_ctl stop -m immediate`` a private cluster, resume the worker, start PostgreSQL
  again after ``--down`` seconds (2);
- ``serve``: ``kill -9`` ``asciihub serve`` on the embedded backends (SQLite + files,
  consumers in-process) and start it again at once, as a supervisor would;
- ``redis-wipe`` (not in the default list): pause the worker (SIGSTOP) for a second so
  job messages pile up, ``kill -9`` Redis and restart it with its files deleted, so
  those stream entries, every session and every counter are gone; the job rows in SQL
  must still bring every job to its end (the sweeper publishes them again).

The scale-out runs use private servers (free ports, temporary directories), moto for
S3, one ``asciihub serve`` and one ``asciihub worker``; the machine's shared services
are never touched. After each run the client waits (bounded) for every acknowledged
job to end, reads back every acknowledged artwork and job, and checks that its
session cookie still works. One table row per fault and repetition; the exit status is
non-zero when any figure misses R3. Options: ``--seconds N`` (60), ``--reps N`` (5),
``--faults redis,postgres,serve``, ``--rate N`` (20 requests/s), ``--down N`` (2: seconds
a crashed dependency stays down; a job that meets an outage longer than its retries
waits for it, see ``jobs_outage_patience``), ``--keep`` (keep the logs of every process).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench._outage_stacks import (
    PASSWORD,
    Account,
    FaultTimes,
    RunOptions,
    deployment,
)
from bench._tools import option, print_table

__all__ = ["RECOVERY_GOAL", "RepResult", "RunOptions", "deployment", "run_rep"]

FAULTS = ("redis", "postgres", "serve")
ALL_FAULTS = (*FAULTS, "redis-wipe")
RECOVERY_GOAL = 10.0


@dataclass
class Outcome:
    """One request of the client loop; ``status`` 0 is a socket error or timeout."""

    kind: str
    sent: float
    done: float
    status: int
    ident: str = ""
    text: str = ""
    has_retry_after: bool = True  # for a 503: a positive Retry-After
    has_error_shape: bool = True  # for a 503: {"error": {"code", "message"}}
    error: str = ""  # the error code of a non-2xx, or the exception of a socket error

    @property
    def is_ok(self) -> bool:
        """A 2xx."""
        return 200 <= self.status < 300


@dataclass
class RepResult:
    """Every R3 figure of one fault repetition."""

    fault: str
    rep: int
    artworks_acked: int = 0
    jobs_acked: int = 0
    artworks_lost: int = 0
    jobs_lost: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0
    jobs_pending: int = 0
    unavailable: int = 0
    unavailable_no_retry_after: int = 0
    unavailable_bad_shape: int = 0
    server_errors: int = 0
    other_errors: dict[int, int] = field(default_factory=dict)
    socket_errors: int = 0
    late_failures: int = 0
    readback_errors: int = 0  # 5xx or socket errors reading back after the run
    recovery_s: float = 0.0
    sessions_lost: int = 0
    aof_delayed_fsync: int | None = None
    api_restarted: bool = False
    notes: list[str] = field(default_factory=list)  # diagnostics of misses

    def misses(self) -> list[str]:
        """Each figure that misses its R3 goal, in words; empty when all pass."""
        checks = [
            (self.artworks_lost == 0, f"{self.artworks_lost} acknowledged artworks lost"),
            (self.jobs_lost == 0, f"{self.jobs_lost} acknowledged jobs lost"),
            (self.jobs_pending == 0, f"{self.jobs_pending} jobs not terminal"),
            (self.jobs_failed == 0, f"{self.jobs_failed} jobs failed"),
            (self.server_errors == 0, f"{self.server_errors} 5xx other than 503"),
            (self.unavailable_no_retry_after == 0, "503 without Retry-After"),
            (self.unavailable_bad_shape == 0, "503 without the JSON error shape"),
            (not self.other_errors, f"unexpected statuses {self.other_errors}"),
            (self.recovery_s <= RECOVERY_GOAL, f"recovery {self.recovery_s:.1f}s"),
            (self.late_failures == 0, f"{self.late_failures} failures >10s after recovery"),
            (self.readback_errors == 0, f"{self.readback_errors} errors reading back"),
        ]
        if self.fault != "serve":
            checks.append((self.socket_errors == 0, f"{self.socket_errors} socket errors"))
            checks.append((not self.api_restarted, "the API or worker process died"))
        if self.fault != "redis-wipe":  # losing every session is the documented cost
            checks.append((self.sessions_lost == 0, f"{self.sessions_lost} sessions lost"))
        return [words for passed, words in checks if not passed]


# --- the client loop ----------------------------------------------------------------


def _has_retry_after(response: httpx.Response) -> bool:
    try:
        return int(response.headers.get("retry-after", "0")) > 0
    except ValueError:
        return False


def _has_error_shape(response: httpx.Response) -> bool:
    try:
        error = response.json()["error"]
        return isinstance(error["code"], str) and isinstance(error["message"], str)
    except (ValueError, KeyError, TypeError):
        return False


async def _one_request(http: httpx.AsyncClient, index: int, t0: float, tag: str) -> Outcome:
    kind = "artwork" if index % 2 == 0 else "job"
    text = f"{tag}-{index:06d}"
    sent = time.monotonic() - t0
    payload: dict[str, Any]
    try:
        if kind == "artwork":
            payload = {"title": text, "frames": [{"text": text}]}
            response = await http.post("/api/artworks", json=payload)
        else:
            payload = {"prompt": text, "frames": 3, "width": 40, "height": 12}
            response = await http.post("/api/generate", json=payload)
    except httpx.HTTPError as exc:
        return Outcome(kind, sent, time.monotonic() - t0, 0, text=text, error=type(exc).__name__)
    outcome = Outcome(kind, sent, time.monotonic() - t0, response.status_code, text=text)
    if response.status_code in (201, 202):
        body = response.json()
        outcome.ident = body["id"] if kind == "artwork" else body["job_id"]
    if response.status_code >= 300:
        try:
            outcome.error = str(response.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            outcome.error = response.text[:80]
    if response.status_code == 503:
        outcome.has_retry_after = _has_retry_after(response)
        outcome.has_error_shape = _has_error_shape(response)
    return outcome


Injector = Callable[[float], Coroutine[Any, Any, FaultTimes]]


async def drive(
    base: str, token: str, options: RunOptions, inject: Injector, tag: str
) -> tuple[list[Outcome], FaultTimes]:
    """Send ``rate`` requests a second for ``seconds``; ``inject(t0)`` runs the fault."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=options.request_timeout, limits=limits
    ) as http:
        t0 = time.monotonic()
        fault = asyncio.create_task(inject(t0))
        pending = []
        for index in range(int(options.seconds * options.rate)):
            # Pacing the load at a fixed rate is the workload, not synchronisation.
            await asyncio.sleep(max(0.0, t0 + index / options.rate - time.monotonic()))
            pending.append(asyncio.create_task(_one_request(http, index, t0, tag)))
        outcomes = await asyncio.gather(*pending)
        times = await fault
    return list(outcomes), times


# --- reading back ---------------------------------------------------------------------


async def _settle_jobs(
    http: httpx.AsyncClient, ids: list[str], timeout: float, failures: dict[str, str]
) -> dict[str, str]:
    """Poll every job until it is done or failed, or ``timeout`` passes; id -> status.

    ``failures`` receives the error code of each failed job.
    """
    statuses = dict.fromkeys(ids, "unknown")
    deadline = time.monotonic() + timeout
    gate = asyncio.Semaphore(20)

    async def look(job_id: str) -> None:
        async with gate:
            try:
                response = await http.get(f"/api/jobs/{job_id}")
            except httpx.HTTPError:
                return
        if response.status_code == 404:
            statuses[job_id] = "missing"
        elif response.status_code == 200:
            job = response.json()
            statuses[job_id] = job["status"]
            if job["status"] == "failed":
                failures[job_id] = (job.get("error") or {}).get("code", "?")

    while True:
        open_ids = [i for i, s in statuses.items() if s not in ("done", "failed", "missing")]
        if not open_ids or time.monotonic() > deadline:
            return statuses
        await asyncio.gather(*(look(i) for i in open_ids))
        if any(statuses[i] not in ("done", "failed", "missing") for i in open_ids):
            await asyncio.sleep(0.5)  # poll interval of a bounded wait


async def _read_back(
    http: httpx.AsyncClient, acked: list[Outcome], result: RepResult, timeout: float
) -> None:
    """Read every acknowledged artwork; count the lost and the failed reads."""
    gate = asyncio.Semaphore(20)
    deadline = time.monotonic() + timeout

    async def read(outcome: Outcome) -> httpx.Response | None:
        async with gate:
            while True:  # a failed read is counted, then retried until the deadline
                try:
                    response = await http.get(f"/api/artworks/{outcome.ident}")
                    if response.status_code < 500:
                        return response
                except httpx.HTTPError:
                    pass
                result.readback_errors += 1
                if time.monotonic() > deadline:
                    return None
                await asyncio.sleep(0.2)  # retry pause of a bounded wait

    for outcome, response in zip(
        acked, await asyncio.gather(*(read(o) for o in acked)), strict=True
    ):
        text = None
        if response is not None and response.status_code == 200:
            text = (response.json().get("frames") or [{}])[0].get("text")
        if text != outcome.text:
            result.artworks_lost += 1
            status = "no answer" if response is None else response.status_code
            result.notes.append(f"artwork {outcome.ident} ({outcome.text}) reads {status}")


async def _session_works(base: str, account: Account) -> bool:
    async with httpx.AsyncClient(base_url=base, cookies=account.cookies, timeout=15) as http:
        return (await http.get("/api/me")).status_code == 200


async def _log_in_again(base: str, account: Account) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"Origin": base}, timeout=15) as http:
        response = await http.post(
            "/api/auth/login", json={"handle": account.handle, "password": PASSWORD}
        )
        response.raise_for_status()
        account.cookies = dict(http.cookies)


def _recovery(outcomes: list[Outcome], times: FaultTimes) -> float:
    """Seconds from the dependency back to the first 2xx, for each kind that failed."""
    worst = 0.0
    for kind in ("artwork", "job"):
        mine = [o for o in outcomes if o.kind == kind]
        if all(o.is_ok for o in mine):
            continue
        after = [o.done for o in mine if o.is_ok and o.sent >= times.back_at]
        if not after:
            return float("inf")
        worst = max(worst, min(after) - times.back_at)
    return worst


def summarise(fault: str, rep: int, outcomes: list[Outcome], times: FaultTimes) -> RepResult:
    """The response figures of one run (read-back figures are filled in later)."""
    result = RepResult(fault, rep, aof_delayed_fsync=times.aof_delayed_fsync)
    for o in outcomes:
        if o.is_ok:
            continue
        if o.status == 0:
            result.socket_errors += 1
        elif o.status == 503:
            result.unavailable += 1
            result.unavailable_no_retry_after += not o.has_retry_after
            result.unavailable_bad_shape += not o.has_error_shape
        elif o.status >= 500:
            result.server_errors += 1
        else:
            result.other_errors[o.status] = result.other_errors.get(o.status, 0) + 1
        if o.sent > times.back_at + RECOVERY_GOAL:
            result.late_failures += 1
        unexpected = (o.status == 0 and fault != "serve") or o.status not in (0, 503)
        if (unexpected or o.sent > times.back_at + RECOVERY_GOAL) and len(result.notes) < 8:
            result.notes.append(
                f"{o.kind} {o.text} sent at {o.sent:.2f}s (back at {times.back_at:.2f}s): "
                f"{o.status or 'socket error'} {o.error} after {o.done - o.sent:.2f}s"
            )
    result.recovery_s = _recovery(outcomes, times)
    return result


async def run_rep(stack: Any, fault: str, rep: int, options: RunOptions) -> RepResult:
    """One repetition: load with the fault in the middle, then read everything back."""
    account: Account = stack.account
    outcomes, times = await drive(
        stack.base, account.token, options, lambda t0: stack.inject(fault, t0, options),
        f"{fault}-{rep}",
    )  # fmt: skip
    result = summarise(fault, rep, outcomes, times)
    artworks = [o for o in outcomes if o.kind == "artwork" and o.ident]
    jobs = [o.ident for o in outcomes if o.kind == "job" and o.ident]
    result.artworks_acked, result.jobs_acked = len(artworks), len(jobs)
    headers = {"Authorization": f"Bearer {account.token}"}
    async with httpx.AsyncClient(base_url=stack.base, headers=headers, timeout=15) as http:
        failures: dict[str, str] = {}
        statuses = await _settle_jobs(http, jobs, options.drain_timeout, failures)
        result.notes.extend(f"job {i} failed: {code}" for i, code in list(failures.items())[:5])
        await _read_back(http, artworks, result, options.drain_timeout)
    result.jobs_done = sum(s == "done" for s in statuses.values())
    result.jobs_failed = sum(s == "failed" for s in statuses.values())
    result.jobs_lost = sum(s == "missing" for s in statuses.values())
    result.jobs_pending = len(jobs) - result.jobs_done - result.jobs_failed - result.jobs_lost
    if not await _session_works(stack.base, account):
        result.sessions_lost = 1
        await _log_in_again(stack.base, account)
    result.api_restarted = not stack.processes_alive()
    return result


def run_faults(
    faults: tuple[str, ...], reps: int, options: RunOptions, root: Path,
    report: Callable[[RepResult], None] = lambda result: None,
) -> list[RepResult]:  # fmt: skip
    """Every repetition of every fault; one deployment per backend kind, reused."""
    results: list[RepResult] = []
    groups = [
        ("scaleout", [f for f in faults if f != "serve"]),
        ("embedded", [f for f in faults if f == "serve"]),
    ]
    for kind, mine in groups:
        if not mine:
            continue
        with deployment(kind, root / kind) as stack:
            for fault in mine:
                for rep in range(1, reps + 1):
                    result = asyncio.run(run_rep(stack, fault, rep, options))
                    results.append(result)
                    report(result)
    return results


# --- the table --------------------------------------------------------------------------

HEADER = [
    "fault", "rep", "artworks", "jobs", "lost a/j", "503", "503 no R-A", "503 no JSON",
    "other 5xx",
    "other", "socket err", "read-back err", "recovery s", "jobs done", "sessions lost",
    "aof_delayed_fsync", "verdict",
]  # fmt: skip


def table_row(r: RepResult) -> list[str]:
    """One table row."""
    misses = r.misses()
    return [
        r.fault, str(r.rep), str(r.artworks_acked), str(r.jobs_acked),
        f"{r.artworks_lost}/{r.jobs_lost}", str(r.unavailable), str(r.unavailable_no_retry_after),
        str(r.unavailable_bad_shape),
        str(r.server_errors), str(sum(r.other_errors.values())), str(r.socket_errors),
        str(r.readback_errors),
        f"{r.recovery_s:.2f}", f"{r.jobs_done}/{r.jobs_acked}", str(r.sessions_lost),
        "-" if r.aof_delayed_fsync is None else str(r.aof_delayed_fsync),
        "ok" if not misses else "MISS: " + "; ".join(misses),
    ]  # fmt: skip


def main(argv: list[str]) -> int:
    """Run the faults; print the table; non-zero when a figure misses R3."""
    seconds = float(option(argv, "seconds", "60"))
    reps = int(option(argv, "reps", "5"))
    rate = float(option(argv, "rate", "20"))
    faults = tuple(f for f in option(argv, "faults", ",".join(FAULTS)).split(",") if f)
    unknown = sorted(set(faults) - set(ALL_FAULTS))
    if unknown:
        print(f"unknown faults {unknown}; choose from {', '.join(ALL_FAULTS)}", file=sys.stderr)
        return 2
    down = float(option(argv, "down", "2"))
    options = RunOptions(seconds=seconds, rate=rate, down=down)

    def report(result: RepResult) -> None:
        print(" | ".join(table_row(result)), flush=True)
        for note in result.notes:
            print(f"    {note}", flush=True)

    with tempfile.TemporaryDirectory(prefix="asciihub-outages-") as tmp:
        root = Path(tmp)
        if "--keep" in argv:  # keep the logs of serve, worker and the servers
            root = Path(tempfile.mkdtemp(prefix="asciihub-outages-kept-"))
            print(f"logs kept in {root}")
        results = run_faults(faults, reps, options, root, report)
    print_table(
        f"R3 dependency crashes: {rate:g} requests/s for {seconds:g}s, fault at "
        f"{options.fault_at:.0%}, down {options.down:g}s (serve: restarted at once)",
        HEADER,
        [table_row(r) for r in results],
    )
    return 0 if all(not r.misses() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
