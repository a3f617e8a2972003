"""``asciihub worker`` with a synthetic generator, for the fault tests (R1, R2).

Each frame takes 20-100 ms (seeded by the prompt); a prompt starting with ``poison``
SIGKILLs its own worker, one starting with ``hog`` allocates 1 GiB (past the fault
tests' ``worker_memory_limit_mb``). Every generation start and end is appended to
``$ASCIIHUB_DATA_DIR/executions.log`` as ``time pid event prompt`` lines.

Run: ``python -m tests.integration.job_worker worker --concurrency 2``.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asciihub.bootstrap
from asciihub.cli.app import run

_real = asciihub.bootstrap.frame_generator


def _log(event: str, prompt: str) -> None:
    path = Path(os.environ["ASCIIHUB_DATA_DIR"]) / "executions.log"
    line = f"{time.time():.3f} {os.getpid()} {event} {prompt}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class SlowGenerator:
    """The real generator, slowed down per frame; ``poison``/``hog`` prompts end the worker."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        low, high = os.environ.get("ASCIIHUB_TEST_FRAME_MS", "20,100").split(",")
        self.low, self.high = float(low) / 1000, float(high) / 1000

    def generate(self, prompt: str, **options: Any) -> Iterator[Any]:
        _log("start", prompt)
        if prompt.startswith("poison"):
            os.kill(os.getpid(), signal.SIGKILL)
        if prompt.startswith("hog"):
            hoard = bytearray(1 << 30)
            hoard[-1] = 1
        rng = random.Random(prompt)
        for frame in self.inner.generate(prompt, **options):
            time.sleep(rng.uniform(self.low, self.high))
            yield frame
        _log("end", prompt)


def _frame_generator(settings: Any) -> Any:
    return SlowGenerator(_real(settings))


asciihub.bootstrap.frame_generator = _frame_generator  # type: ignore[assignment]

if __name__ == "__main__":
    sys.argv[0] = "asciihub"
    run()
