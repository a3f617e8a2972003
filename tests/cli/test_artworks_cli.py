"""``asciihub artworks``, ``migrate`` and ``fsck`` on a real data directory."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asciihub.settings import load_settings


def cli(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASCIIHUB_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "asciihub", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
    )


def test_create_list_show_delete(data_dir: Path, tmp_path: Path) -> None:
    art = tmp_path / "cat.txt"
    art.write_text(" /\\_/\\\n( o.o )\n---\n /\\_/\\\n( -.- )\n")
    created = cli(
        data_dir,
        "artworks",
        "create",
        "--from-file",
        str(art),
        "--title",
        "Cat",
        "--visibility",
        "public",
        "--tag",
        "cats",
        "--frame-separator",
        "---",
    )
    assert created.returncode == 0, created.stderr
    artwork_id = created.stdout.strip()
    assert len(artwork_id) == 22

    listed = cli(data_dir, "artworks", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert [(i["id"], i["title"], i["frame_count"], i["tags"]) for i in items] == [
        (artwork_id, "Cat", 2, ["cats"])
    ]
    table = cli(data_dir, "artworks", "list")
    assert artwork_id in table.stdout

    shown = cli(data_dir, "artworks", "show", artwork_id)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [" /\\_/\\ ", "( o.o )"]
    full = json.loads(cli(data_dir, "artworks", "show", artwork_id, "--json").stdout)
    assert full["frames"][1]["text"] == " /\\_/\\ \n( -.- )"

    assert cli(data_dir, "artworks", "delete", artwork_id).returncode == 0
    gone = cli(data_dir, "artworks", "show", artwork_id)
    assert gone.returncode == 2
    assert gone.stderr.strip() == "error: no artwork with this id"
    assert "Traceback" not in gone.stderr


def test_create_from_an_artwork_document(data_dir: Path, tmp_path: Path) -> None:
    document = tmp_path / "doc.json"
    document.write_text(
        json.dumps(
            {
                "format": "asciihub.artwork",
                "version": 1,
                "width": 3,
                "height": 1,
                "fps": 5,
                "frames": [{"text": "abc", "duration_ms": 200}],
            }
        )
    )
    created = cli(data_dir, "artworks", "create", "--from-file", str(document))
    assert created.returncode == 0, created.stderr
    shown = json.loads(cli(data_dir, "artworks", "show", created.stdout.strip(), "--json").stdout)
    assert shown["fps"] == 5 and shown["frames"] == [{"text": "abc", "duration_ms": 200}]


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("\x1b[31mred", ".txt", "control character"),
        ("{broken", ".json", "is not valid JSON"),
        ("[1]", ".json", "must hold a JSON object"),
    ],
)
def test_bad_files_give_one_clear_line(
    data_dir: Path, tmp_path: Path, content: str, suffix: str, message: str
) -> None:
    bad = tmp_path / f"bad{suffix}"
    bad.write_text(content)
    result = cli(data_dir, "artworks", "create", "--from-file", str(bad))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_and_bad_setting(data_dir: Path, tmp_path: Path) -> None:
    missing = cli(data_dir, "artworks", "create", "--from-file", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    env = {**os.environ, "ASCIIHUB_DATA_DIR": str(data_dir), "ASCIIHUB_PORT": "http"}
    bad = subprocess.run(
        [sys.executable, "-m", "asciihub", "serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode != 0
    assert bad.stderr.strip() == "error: setting port: 'http' is not a valid int"


def test_migrate_is_idempotent(data_dir: Path) -> None:
    first = cli(data_dir, "migrate")
    assert first.returncode == 0 and "migrated schema from empty to" in first.stdout
    second = cli(data_dir, "migrate")
    assert "up to date" in second.stdout


def test_fsck_finds_and_repairs_drift(data_dir: Path, tmp_path: Path) -> None:
    art = tmp_path / "a.txt"
    art.write_text("hello")
    keep = cli(data_dir, "artworks", "create", "--from-file", str(art)).stdout.strip()
    lost = cli(data_dir, "artworks", "create", "--from-file", str(art)).stdout.strip()
    assert cli(data_dir, "fsck").stdout.strip().endswith("ok")

    async def damage() -> None:
        from asciihub.bootstrap import build_services

        built = await build_services(
            load_settings(environ={}, overrides={"data_dir": str(data_dir)})
        )
        try:
            await built.objects.put("artworks/local/OrphanOrphanOrphan0000.json", b"{}")
            await built.objects.delete(f"artworks/local/{lost}.json")
        finally:
            await built.close()

    asyncio.run(damage())
    found = cli(data_dir, "fsck", "--grace", "0")
    assert found.returncode == 1
    assert "orphan object: artworks/local/OrphanOrphanOrphan0000.json" in found.stdout
    assert f"row without object: {lost}" in found.stdout
    repaired = cli(data_dir, "fsck", "--grace", "0", "--repair")
    assert repaired.returncode == 0 and "repaired 2 problem(s)" in repaired.stdout
    assert cli(data_dir, "fsck", "--grace", "0").stdout.strip().endswith("ok")
    assert cli(data_dir, "artworks", "show", keep).returncode == 0
    assert cli(data_dir, "artworks", "show", lost).returncode == 2
