"""The animated encoders stream: peak memory does not grow with the frame count.

Each run is a fresh interpreter that renders N different frames straight into a file
and reports its peak resident set size (``ru_maxrss``), so every allocation counts
(Pillow's image memory is invisible to tracemalloc). Holding the frames would cost
about 0.7 MB a frame here; streaming costs nothing a frame.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHILD = """
import json, resource, sys
import numpy as np
from asciihub.engine.document import build_document
from asciihub.render.exports import RenderOptions, write_export

name, count, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(1)
glyphs = np.array(list(" .:-=+*#%@"))
frames = [
    {
        "text": "\\n".join("".join(row) for row in rng.choice(glyphs, size=(20, 60))),
        "duration_ms": 40,
        "colors": rng.integers(0, 256, size=20 * 60 * 3, dtype=np.uint8).tobytes(),
    }
    for _ in range(count)
]
document = build_document(frames)
with open(path, "wb") as out:
    write_export(document, name, RenderOptions(font_size=16), out)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_kib": peak}))
"""


def _peak_kib(name: str, count: int, folder: Path) -> int:
    target = folder / f"{name}-{count}.out"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, name, str(count), str(target)],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    assert target.stat().st_size > 0
    return int(json.loads(done.stdout)["peak_kib"])


@pytest.mark.parametrize("name", ["gif", "apng", "mp4", "webm"])
def test_peak_memory_is_flat_from_30_to_300_frames(name: str, tmp_path: Path) -> None:
    small = _peak_kib(name, 30, tmp_path)
    large = _peak_kib(name, 300, tmp_path)
    # Holding 270 more frames would add about 180 MB (60 MB even as palette images).
    assert large - small < 20 * 1024, (small, large)
