"""Bench ``asciihub backup`` / ``restore`` on the embedded backends.

``python -m bench backup [--count N]``

Seeds N artworks (default 1,000) with tags and a thumbnail every 100th, then times a
backup to a tar file and a restore into an empty data directory, against baselines
measured in the same run: ``migrate-data`` (the verified row-and-object copy) into
another empty data directory, and a plain ``tar`` of the data directory.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

from asciihub.settings import Settings
from bench._tools import option, print_table


async def _seed(settings: Settings, count: int) -> None:
    from asciihub.bootstrap import build_services
    from asciihub.services.principals import LOCAL

    built = await build_services(settings)
    try:

        async def one(index: int) -> None:
            art = await built.artworks.create(
                LOCAL,
                {
                    "title": f"art {index}",
                    "tags": [f"t{index % 7}"],
                    "frames": [{"text": f"{index:05d}\n" + "#" * (index % 40 + 1)}],
                },
            )
            if index % 100 == 0:
                await built.images.png(LOCAL, art["id"], "thumbnail")

        for start in range(0, count, 20):
            await asyncio.gather(*(one(i) for i in range(start, min(start + 20, count))))
    finally:
        await built.close()


async def _timed(root: Path, count: int) -> list[list[str]]:
    from asciihub.bootstrap import close_endpoint, input_limits, open_endpoint
    from asciihub.services.backup import Backup, Restore
    from asciihub.services.datamigration import DataMigration
    from asciihub.settings import load_settings

    def settings(name: str) -> Settings:
        return load_settings(environ={}, overrides={"data_dir": str(root / name)})

    source_settings = settings("source")
    await _seed(source_settings, count)
    rows: list[tuple[str, float]] = []

    source = await open_endpoint(source_settings)
    started = time.perf_counter()
    await Backup(source, limits=input_limits(source_settings).document).write(root / "b.tar")
    rows.append(("backup (tar file)", time.perf_counter() - started))
    target = await open_endpoint(settings("restored"))
    started = time.perf_counter()
    summary = await Restore(target).run(root / "b.tar")
    rows.append(("restore (empty data dir)", time.perf_counter() - started))
    assert summary.ok, summary.mismatches
    await close_endpoint(target)

    copy = await open_endpoint(settings("migrated"))
    started = time.perf_counter()
    result = await DataMigration(source, copy, state_path=root / "state.json").run()
    rows.append(("baseline: migrate-data", time.perf_counter() - started))
    assert result.ok
    await close_endpoint(copy)
    await close_endpoint(source)

    started = time.perf_counter()
    subprocess.run(["tar", "-cf", str(root / "raw.tar"), "-C", str(root), "source"], check=True)
    rows.append(("baseline: tar of the data dir", time.perf_counter() - started))

    migrate = rows[2][1]
    return [
        [name, f"{seconds:.2f}", f"{count / seconds:.0f}", f"{seconds / migrate:.2f}"]
        for name, seconds in rows
    ]


def main(argv: list[str]) -> int:
    """Run the case; 0 on success."""
    count = int(option(argv, "count", "1000"))
    with tempfile.TemporaryDirectory(prefix="asciihub-bench-backup-") as folder:
        table = asyncio.run(_timed(Path(folder), count))
    print_table(
        f"backup and restore, {count} artworks, embedded backends",
        ["step", "seconds", "artworks/s", "x migrate-data"],
        table,
    )
    return 0
