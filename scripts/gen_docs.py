"""Regenerate the generated parts of docs/: the settings table and the CLI reference.

Run by `make docs`; tests/unit/test_docs.py fails when docs/ is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def replace_block(text: str, name: str, body: str) -> str:
    """Replace what stands between <!-- NAME:start --> and <!-- NAME:end -->."""
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"no <!-- {name}:start/end --> block")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def generated() -> dict[Path, dict[str, str]]:
    """Each generated file with its blocks."""
    from asciihub.settings import settings_table

    return {ROOT / "docs" / "configuration.md": {"settings": settings_table()}}


def main(check: bool) -> int:
    """Write the blocks, or with --check report which are stale."""
    stale = []
    for path, blocks in generated().items():
        text = path.read_text()
        new = text
        for name, body in blocks.items():
            new = replace_block(new, name, body)
        if new != text:
            stale.append(path)
            if not check:
                path.write_text(new)
    if check and stale:
        print("out of date: " + ", ".join(str(p.relative_to(ROOT)) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
