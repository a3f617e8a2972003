"""A worker's memory ceiling: RLIMIT_AS, and what a job that hits it does to its worker.

Python raises ``MemoryError`` when an allocation fails under the limit. Once that has
happened the process cannot be trusted (a half-built object, a library that did not
expect it), so a limited worker exits at once with :data:`EXIT_OUT_OF_MEMORY`; the
messages it held are redelivered after their lease, and a job that does this on every
delivery is dead-lettered as ``worker_lost``, as if it had been SIGKILLed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import resource
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)

EXIT_OUT_OF_MEMORY = 70
_M_ARENA_MAX = -8  # glibc mallopt parameter
T = TypeVar("T")


def limit_address_space(megabytes: int) -> None:
    """Cap this process's address space at ``megabytes`` MiB (never raising the hard cap).

    glibc reserves 64 MiB of address space per malloc arena (one per thread by default),
    which would count against the limit for nothing; the arenas are capped at two.
    """
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        libc = ctypes.CDLL(libc_name)
        if hasattr(libc, "mallopt"):
            libc.mallopt(_M_ARENA_MAX, 2)
    wanted = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    log.info("event=worker_memory_limit mib=%d", megabytes)


def end_process_on_memory_error(
    handler: Callable[[T], Awaitable[None]], queue_name: str
) -> Callable[[T], Awaitable[None]]:
    """``handler``, ending the process when it runs out of memory."""

    async def guarded(batch: T) -> None:
        try:
            await handler(batch)
        except MemoryError:
            log.critical(
                "event=worker_out_of_memory queue=%s exit=%d", queue_name, EXIT_OUT_OF_MEMORY
            )
            logging.shutdown()
            os._exit(EXIT_OUT_OF_MEMORY)

    return guarded
