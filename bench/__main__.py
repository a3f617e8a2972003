"""Run benchmark cases: ``python -m bench [CASE ...] [-- case options]``.

With no case named, every case runs in turn. Each case measures its baseline in the
same run and prints a table with ratios.
"""

from __future__ import annotations

import importlib
import sys

CASES = ("http", "scaleout", "engine", "queue", "bindings", "jobs")


def main(argv: list[str]) -> int:
    """Dispatch to ``bench.<case>.main``."""
    names = [arg for arg in argv if not arg.startswith("-")] or list(CASES)
    options = [arg for arg in argv if arg.startswith("-")]
    status = 0
    for name in names:
        if name not in CASES:
            print(f"unknown bench case {name!r}; choose from {', '.join(CASES)}", file=sys.stderr)
            return 2
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            print(f"bench case {name!r} is not written yet", file=sys.stderr)
            continue
        print(f"\n== bench {name} ==")
        status |= module.main(options)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
