"""Imports refuse hostile files with a 4xx and never write outside their own keys (S7)."""

from __future__ import annotations

import io
import json
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asciihub.bootstrap import build_services
from asciihub.engine.document import build_document
from asciihub.errors import AsciihubError
from asciihub.render.exports import RenderOptions, zip_bytes
from asciihub.services.principals import LOCAL

DOC = json.dumps(
    {
        "format": "asciihub.artwork",
        "version": 1,
        "width": 3,
        "height": 1,
        "fps": 10,
        "frames": [{"text": "abc", "duration_ms": 100}],
    }
).encode()


def archive(*entries: tuple[Any, bytes]) -> bytes:
    """A ZIP of (name or ZipInfo, bytes) entries, written as given (duplicates too)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return buffer.getvalue()


def symlink() -> bytes:
    info = zipfile.ZipInfo("artwork.json")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return archive((info, b"/etc/passwd"))


def patched(data: bytes, signature: bytes, offset: int, value: Callable[[bytes], bytes]) -> bytes:
    """``data`` with a field of every header of ``signature`` rewritten."""
    out = bytearray(data)
    start = out.find(signature)
    while start != -1:
        size = 2 if offset in (6, 8) else 4
        out[start + offset : start + offset + size] = value(
            bytes(out[start + offset : start + offset + size])
        )
        start = out.find(signature, start + 4)
    return bytes(out)


def encrypted() -> bytes:
    flag = lambda old: struct.pack("<H", struct.unpack("<H", old)[0] | 1)  # noqa: E731
    data = patched(archive(("artwork.json", DOC)), b"PK\x03\x04", 6, flag)
    return patched(data, b"PK\x01\x02", 8, flag)


def lying_sizes() -> bytes:
    """Central directory and local header say 10 bytes; the entry holds 20,000."""
    big = DOC + b" " * 20_000
    small = lambda old: struct.pack("<I", 10)  # noqa: E731
    data = patched(archive(("artwork.json", big)), b"PK\x03\x04", 22, small)
    return patched(data, b"PK\x01\x02", 24, small)


def overlapping() -> bytes:
    """The second entry's directory record points at the first entry's bytes."""
    data = bytearray(archive(("a.json", DOC), ("b.json", DOC)))
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    data[second + 42 : second + 46] = struct.pack("<I", 0)
    return bytes(data)


def many_entries(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for index in range(count):
            zf.writestr(f"e{index}", b"")
    return buffer.getvalue()


def gigabyte_of_zeros() -> bytes:
    """One deflated entry of 1 GiB of zeros (about 1 MB packed), written by hand.

    A full flush resets the compressor, so every 1 MiB block of zeros packs to the same
    bytes: the stream is one block repeated, no need to deflate a gigabyte.
    """
    chunk, count = bytes(1 << 20), 1024
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = block * count + packer.flush()
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    name = b"artwork.json"
    sizes = struct.pack("<III", crc, len(stream), len(chunk) * count)
    local = b"PK\x03\x04" + struct.pack("<HHHHH", 20, 0, 8, 0, 0) + sizes
    local += struct.pack("<HH", len(name), 0) + name
    central = b"PK\x01\x02" + struct.pack("<HHHHHH", 20, 20, 0, 8, 0, 0) + sizes
    central += struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0o644 << 16, 0) + name
    offset = len(local) + len(stream)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), offset, 0)
    return local + stream + central + end


def million_frames() -> bytes:
    head = b'{"format":"asciihub.artwork","version":1,"width":1,"height":1,"fps":10,"frames":['
    return head + b",".join([b'{"text":"a"}'] * 1_000_000) + b"]}"


HOSTILE: dict[str, Callable[[], tuple[str, bytes]]] = {
    "dot-dot": lambda: ("a.zip", archive(("../x", DOC))),
    "absolute": lambda: ("a.zip", archive(("/abs/x.json", DOC))),
    "drive": lambda: ("a.zip", archive(("C:\\x.json", DOC))),
    "backslash-dot-dot": lambda: ("a.zip", archive(("..\\x.json", DOC))),
    "look-alike dots": lambda: ("a.zip", archive(("\uff0e\uff0e/x.json", DOC))),
    "two-dot leader": lambda: ("a.zip", archive(("\u2025/x.json", DOC))),
    "symlink": lambda: ("a.zip", symlink()),
    "duplicate names": lambda: ("a.zip", archive(("artwork.json", DOC), ("artwork.json", DOC))),
    "case duplicates": lambda: ("a.zip", archive(("A.json", DOC), ("a.json", DOC))),
    "100,000 empty entries": lambda: ("a.zip", many_entries(100_000)),
    "1 GB of zeros": lambda: ("a.zip", gigabyte_of_zeros()),
    "lying sizes": lambda: ("a.zip", lying_sizes()),
    "encrypted": lambda: ("a.zip", encrypted()),
    "overlapping entries": lambda: ("a.zip", overlapping()),
    "nested archive only": lambda: (
        "a.zip",
        archive(("inner.zip", archive(("artwork.json", DOC)))),
    ),
    "not a zip": lambda: ("a.zip", b"PK\x03\x04 garbage"),
    "10^6 frames": lambda: ("big.json", million_frames()),
    "10^6 frames in a zip": lambda: ("a.zip", archive(("artwork.json", million_frames()))),
    "bad cast": lambda: ("a.cast", b'{"version": 2, "width": 0, "height": 3}\n'),
}


def tree(root: Path, skip: Path) -> set[str]:
    return {
        str(p.relative_to(root)) for p in root.rglob("*") if skip not in p.parents and p != skip
    }


@pytest.fixture
async def built(embedded_settings: Any) -> Any:
    services = await build_services(embedded_settings)
    try:
        yield services
    finally:
        await services.close()


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_hostile_file_is_refused_with_a_4xx(
    case: str, built: Any, embedded_settings: Any, tmp_path: Path
) -> None:
    filename, data = HOSTILE[case]()
    data_dir = Path(embedded_settings.data_dir)
    before = tree(tmp_path, data_dir)
    with pytest.raises(AsciihubError) as caught:
        await built.background.imports.import_now(LOCAL, filename, data)
    assert 400 <= caught.value.status < 500, caught.value
    assert caught.value.message
    assert tree(tmp_path, data_dir) == before  # nothing written beside the data directory
    assert [row async for row in built.artworks_repo.iter_all()] == []
    assert not any(p.name == "x" or p.name == "x.json" for p in tmp_path.rglob("*"))


async def test_an_export_bundle_imports_back_private_and_mass_assignment_is_ignored(
    built: Any,
) -> None:
    raw = [
        {"text": "ab\ncd", "duration_ms": 120},
        {"text": "xy\nzw", "duration_ms": 300, "colors": "AAECAwQFBgcICQoL"},
    ]
    document = build_document(raw)
    bundle = zip_bytes(document, RenderOptions(title="Round trip"))
    created = await built.background.imports.import_now(LOCAL, "export.zip", bundle)
    assert len(created) == 1
    art = created[0]
    assert art["visibility"] == "private" and art["title"] == "Round trip"
    stored = await built.artworks.document_for(await built.artworks_repo.get(art["id"]))
    assert stored.frames == document.frames  # text, timing and colours

    sneaky = archive(
        ("one/artwork.json", DOC),
        (
            "one/artwork-info.json",
            json.dumps(
                {"title": "Mine", "visibility": "public", "user_id": "someone-else", "views": 99}
            ).encode(),
        ),
    )
    (made,) = await built.background.imports.import_now(LOCAL, "all.zip", sneaky)
    row = await built.artworks_repo.get(made["id"])
    assert (row.visibility, row.user_id, row.views, row.title) == ("private", "local", 0, "Mine")
