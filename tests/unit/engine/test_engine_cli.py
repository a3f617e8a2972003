"""The engine commands through the real console script, stdout not a terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asciihub.engine.document import parse_document

FIXTURES = Path(__file__).parents[2] / "fixtures" / "engine"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "from asciihub.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, cwd=cwd, timeout=60,
        env={"PATH": "/usr/bin:/bin", "ASCIIHUB_DATA_DIR": str(cwd)},
    )  # fmt: skip


def test_convert_prints_plain_text(tmp_path: Path) -> None:
    done = run(
        "convert", str(FIXTURES / "gradient.png"), "--width", "24", "--style", "shape", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    expected = (FIXTURES / "gradient.shape.golden.txt").read_text(encoding="utf-8")
    assert done.stdout == expected
    assert "\x1b" not in done.stdout


def test_convert_tone_flag(tmp_path: Path) -> None:
    image = str(FIXTURES / "gradient.png")
    default = run("convert", image, "--width", "24", cwd=tmp_path)
    linear = run("convert", image, "--width", "24", "--tone", "linear", cwd=tmp_path)
    assert default.returncode == linear.returncode == 0
    assert default.stdout == (FIXTURES / "gradient.dense.golden.txt").read_text(encoding="utf-8")
    assert linear.stdout != default.stdout
    bad = run("convert", image, "--tone", "bright", cwd=tmp_path)
    assert bad.returncode != 0
    assert "unknown tone curve 'bright'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_convert_writes_a_document_with_colours(tmp_path: Path) -> None:
    out = tmp_path / "art.json"
    done = run(
        "convert", str(FIXTURES / "gradient.png"), "-w", "20", "--output", str(out), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    document = parse_document(json.loads(out.read_text()))
    assert document.width == 20
    assert document.frame_count == 1
    assert document.frames[0].colors is not None


def test_generate_and_banner_to_files(tmp_path: Path) -> None:
    out = tmp_path / "gen.json"
    done = run(
        "generate",
        'rain "OK"',
        "--frames",
        "3",
        "-w",
        "30",
        "--height",
        "8",
        "-o",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    document = parse_document(json.loads(out.read_text()))
    assert (document.frame_count, document.width, document.height) == (3, 30, 8)
    text = tmp_path / "banner.txt"
    done = run("banner", "Hi", "--border", "ascii", "-o", str(text), cwd=tmp_path)
    assert done.returncode == 0
    assert text.read_text().startswith("+")


def test_listings(tmp_path: Path) -> None:
    assert "fire" in run("generate", "--list", cwd=tmp_path).stdout
    assert "shape" in run("styles", cwd=tmp_path).stdout
    assert "slant" in run("fonts", cwd=tmp_path).stdout.split()


@pytest.mark.parametrize(
    "args",
    [
        ("convert", "missing.png"),
        ("convert", "{fixture}", "--style", "nope"),
        ("convert", "{fixture}", "--width", "0"),
        ("convert", "{fixture}", "--output", "art.gif"),
        ("generate", "x" * 3000),
        ("banner", "hi", "--font", "no-such-font"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(tmp_path: Path, args: tuple[str, ...]) -> None:
    filled = [a.replace("{fixture}", str(FIXTURES / "gradient.png")) for a in args]
    done = run(*filled, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""
