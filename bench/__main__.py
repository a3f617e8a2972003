"""Run benchmark cases: ``python -m bench [CASE ...] [-- case options]``.

With no case named, every case runs in turn. Each case measures its baseline in the
same run and prints a table with ratios.
"""

from __future__ import annotations

import importlib
import sys

CASES = (
    "http",
    "scaleout",
    "engine",
    "queue",
    "bindings",
    "jobs",
    "uploads",
    "outages",
    "uploads-crash",
    "probes",
    "backup",
    "rooms",
    "exports",
)


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Case names and options; ``--name value`` becomes ``--name=value``."""
    names: list[str] = []
    options: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else None
        if not arg.startswith("-"):
            names.append(arg)
        elif (
            arg.startswith("--")
            and "=" not in arg
            and following is not None
            and not following.startswith("-")
            and following not in CASES
        ):
            options.append(f"{arg}={following}")
            index += 1
        else:
            options.append(arg)
        index += 1
    return names, options


def main(argv: list[str]) -> int:
    """Dispatch to ``bench.<case>.main``."""
    names, options = _split(argv)
    names = names or list(CASES)
    status = 0
    for name in names:
        if name not in CASES:
            print(f"unknown bench case {name!r}; choose from {', '.join(CASES)}", file=sys.stderr)
            return 2
        try:
            module = importlib.import_module(f"bench.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name.replace('-', '_')}":
                raise
            print(f"bench case {name!r} is not written yet", file=sys.stderr)
            continue
        print(f"\n== bench {name} ==")
        status |= module.main(options)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
