"""Counting what a crash left behind: rows against objects, orphans and temp files.

Runs after the crash, the restart and one GC, on the stopped deployment (nothing in
flight), through the product's own services so both object backends read alike.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEMP_NAMES = (".part", ".tmp", ".temp")


@dataclass
class Audit:
    """The R5(a) figures of one deployment (all but the ``checked`` counts must be 0)."""

    artwork_rows: int = 0
    job_rows: int = 0
    objects: int = 0
    rows_missing_object: list[str] = field(default_factory=list)
    rows_object_differs: list[str] = field(default_factory=list)
    orphan_objects: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    acked_lost: list[str] = field(default_factory=list)

    @property
    def violations(self) -> int:
        """Everything that must be zero."""
        return (
            len(self.rows_missing_object)
            + len(self.rows_object_differs)
            + len(self.orphan_objects)
            + len(self.temp_files)
            + len(self.acked_lost)
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _all_keys(objects: Any) -> list[Any]:
    infos: list[Any] = []
    cursor = None
    while True:
        page = await objects.list("", cursor=cursor)
        infos.extend(page.objects)
        if not page.truncated:
            return infos
        cursor = page.cursor


async def _check_artworks(built: Any, audit: Audit) -> dict[str, str]:
    keys: dict[str, str] = {}
    async for row in built.artworks_repo.iter_all():
        audit.artwork_rows += 1
        keys[row.r2_key] = row.id
        stored = await built.objects.get(row.r2_key)
        if stored is None:
            audit.rows_missing_object.append(f"artwork {row.id}")
        elif len(stored.data) != row.size or _sha256(stored.data) != row.sha256:
            audit.rows_object_differs.append(f"artwork {row.id}")
    return keys


async def _check_uploads(built: Any, audit: Audit, sent: Mapping[str, str]) -> dict[str, str]:
    """Job rows against their uploads; ``sent`` maps upload file names to sha256."""
    repo = built.background.jobs.repo
    held: dict[str, str] = {}
    async for upload in repo.iter_uploads():
        audit.job_rows += 1
        held[upload.media_key] = upload.status
        if upload.status == "done" or upload.error_code == "upload_missing":
            continue  # done: the upload was used up; upload_missing: fsck gave it up
        stored = await built.objects.get(upload.media_key)
        if stored is None:
            audit.rows_missing_object.append(f"job {upload.job_id} ({upload.status})")
            continue
        job = await repo.get(upload.job_id)
        expected = sent.get(str(job.params.get("filename", "")))
        if len(stored.data) != upload.media_size or _sha256(stored.data) != expected:
            audit.rows_object_differs.append(f"job {upload.job_id}")
    return held


def _is_orphan(key: str, artworks: Mapping[str, str], held: Mapping[str, str]) -> bool:
    if key.startswith("artworks/"):
        return key not in artworks
    if key.startswith("media/"):
        return held.get(key, "done") == "done"
    if key.startswith(("thumbnails/", "cards/")):
        artwork_id = key.rsplit("/", 1)[-1].removesuffix(".png")
        return artwork_id not in set(artworks.values())
    return True  # this run writes nothing else


def local_temp_files(data_dir: Path) -> list[str]:
    """Temp files anywhere under the data dir, and object bodies no index row holds."""
    found = [
        str(path.relative_to(data_dir))
        for path in data_dir.rglob("*")
        if path.is_file() and (path.name.endswith(TEMP_NAMES) or path.parent.name == "tmp")
    ]
    store = data_dir / "objects" / ".asciihub-store"
    if (store / "index.sqlite3").exists():
        import sqlite3

        with sqlite3.connect(store / "index.sqlite3") as conn:
            held = {str(blob) for (blob,) in conn.execute("SELECT blob FROM objects")}
        for sub in (store / "blobs").iterdir():
            found.extend(
                f"unreferenced body {sub.name}/{name}"
                for name in os.listdir(sub)
                if f"{sub.name}/{name}" not in held
            )
    return found


def s3_unfinished_uploads(bucket: str) -> list[str]:
    """Multipart uploads started and never completed or aborted (S3's temp files)."""
    import boto3

    client = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"])
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads") or []
    return [f"unfinished upload {item['Key']}" for item in uploads]


async def _check_acked(
    built: Any, audit: Audit, jobs: Iterable[str], artworks: Iterable[str]
) -> None:
    for job_id in jobs:
        if await built.background.jobs.repo.get(job_id) is None:
            audit.acked_lost.append(f"job {job_id}")
    for artwork_id in artworks:
        if await built.artworks_repo.get(artwork_id) is None:
            audit.acked_lost.append(f"artwork {artwork_id}")


async def audit_deployment(
    settings: Any,
    sent: Mapping[str, str],
    acked_jobs: Iterable[str],
    acked_artworks: Iterable[str],
) -> Audit:
    """Count every R5(a) figure of the (stopped) deployment ``settings`` names.

    ``sent`` maps upload file names to their sha256; ``acked_*`` are the
    ids the server acknowledged (202, 201) before it was killed.
    """
    from asciihub.bootstrap import build_services

    audit = Audit()
    built = await build_services(settings)
    try:
        artworks = await _check_artworks(built, audit)
        held = await _check_uploads(built, audit, sent)
        infos = await _all_keys(built.objects)
        audit.objects = len(infos)
        audit.orphan_objects = [i.key for i in infos if _is_orphan(i.key, artworks, held)]
        await _check_acked(built, audit, acked_jobs, acked_artworks)
    finally:
        await built.close()
    audit.temp_files = local_temp_files(Path(settings.data_dir))
    url = settings.resolved_objects_url()
    if url.startswith("s3://"):
        audit.temp_files += s3_unfinished_uploads(url[5:].split("/", 1)[0])
    return audit
