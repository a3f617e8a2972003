"""Issue 9's probe list against a live ``asciihub serve``: probe, expected, got, pass/fail.

Starts its own server on a free port in a temporary data directory with embedded
backends, runs every probe of the 21 defects (socket-level ones over raw TCP), prints
one table and stops the server. The server runs on defaults except a few settings
that keep the run short or give a probe something to check, printed before the table
(short rate-limit window and socket timeouts, a metrics scrape token).

    .venv/bin/python -m bench probes
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._probe_cases import PROBES, Probe, Result, Target
from bench._tools import free_port, print_table, stop_process, wait_http

OVERRIDES = {
    "ASCIIHUB_RATE_LIMIT_WINDOW": "5",  # Retry-After probes wait seconds, not a minute
    "ASCIIHUB_RATE_LIMIT_READ": "100",  # a budget spent well within one short window
    "ASCIIHUB_HTTP_HEADER_TIMEOUT": "2",
    "ASCIIHUB_HTTP_BODY_TIMEOUT": "2",
    "ASCIIHUB_HTTP_IDLE_TIMEOUT": "2",
    "ASCIIHUB_METRICS_TOKEN": "probe-scrape-token",
    "ASCIIHUB_METRICS_ALLOW": "",
}


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ASCIIHUB_DATA_DIR": str(data_dir), **OVERRIDES}
    log = (data_dir / "serve.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "asciihub", "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )


def _run(probe: Probe, target: Target) -> Result:
    try:
        return probe.run(target)
    except Exception as exc:  # a probe that breaks is a failed probe, with the reason
        return Result(got=f"probe error: {type(exc).__name__}: {exc}"[:160], passed=False)


def main(argv: list[str]) -> int:
    """Run every probe; exit 1 when any fails."""
    del argv
    with tempfile.TemporaryDirectory(prefix="asciihub-probes-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        proc = _start(data_dir, port)
        base = f"http://127.0.0.1:{port}"
        rows: list[list[str]] = []
        failed = 0
        try:
            wait_http(f"{base}/healthz", timeout=60)
            target = Target(base=base, data_dir=data_dir)
            print(
                "server settings besides defaults: "
                + ", ".join(
                    f"{k.removeprefix('ASCIIHUB_').lower()}={v or '(empty)'}"
                    for k, v in OVERRIDES.items()
                )
            )
            for probe in PROBES:
                result = _run(probe, target)
                failed += not result.passed and not result.skipped
                verdict = "pass" if result.passed else ("skip" if result.skipped else "FAIL")
                rows.append([probe.defect, probe.name, probe.expected, result.got, verdict])
        finally:
            stop_process(proc)
        log = (data_dir / "serve.log").read_text(errors="replace")
        tracebacks = log.count("Traceback")
        rows.append(
            [
                "-",
                "server log",
                "no traceback",
                f"{tracebacks} tracebacks",
                "pass" if tracebacks == 0 else "FAIL",
            ]
        )
        failed += tracebacks > 0
    print_table("issue 9 probes", ["#", "probe", "expected", "got", "result"], rows)
    skipped = sum(row[-1] == "skip" for row in rows)
    print(f"\n{len(rows) - failed - skipped} pass, {failed} fail, {skipped} not probed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
