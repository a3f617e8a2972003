"""Running async service code from synchronous CLI commands."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def run_with_services(settings: Any, work: Callable[[Any], Awaitable[T]]) -> T:
    """Build the services, run ``work(services)``, close them; return its result."""
    from asciihub.bootstrap import build_services

    async def main() -> T:
        built = await build_services(settings)
        try:
            return await work(built)
        finally:
            await built.close()

    return asyncio.run(main())
