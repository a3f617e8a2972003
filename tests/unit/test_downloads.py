"""Download plans (conditional and ranged GETs), file names and Content-Disposition."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from asciihub.services.attachments import MAX_STEM, content_disposition, download_filename
from asciihub.services.downloads import plan_download
from asciihub.services.spool import spool

TAG = '"abc"'


def test_whole_304_and_single_ranges() -> None:
    assert plan_download(TAG, 10).status == 200
    whole = plan_download(TAG, 10)
    assert (whole.start, whole.end, whole.length, whole.content_range) == (0, 9, 10, None)
    assert plan_download(TAG, 10, if_none_match=TAG).status == 304
    assert plan_download(TAG, 10, if_none_match='W/"abc", "x"').status == 304
    assert plan_download(TAG, 10, if_none_match="*").status == 304
    assert plan_download(TAG, 10, if_none_match='"x"').status == 200
    part = plan_download(TAG, 10, range_header="bytes=2-4")
    assert (part.status, part.length, part.content_range) == (206, 3, "bytes 2-4/10")
    assert plan_download(TAG, 10, range_header="bytes=8-100").content_range == "bytes 8-9/10"
    assert plan_download(TAG, 10, range_header="bytes=-3").content_range == "bytes 7-9/10"
    assert plan_download(TAG, 10, range_header="bytes=-30").content_range == "bytes 0-9/10"
    assert plan_download(TAG, 10, range_header="bytes=4-").content_range == "bytes 4-9/10"


def test_unsatisfiable_ignored_and_if_range() -> None:
    for header in ("bytes=10-", "bytes=99-100", "bytes=-0"):
        plan = plan_download(TAG, 10, range_header=header)
        assert (plan.status, plan.content_range, plan.length) == (416, "bytes */10", 0)
    assert plan_download(TAG, 0, range_header="bytes=0-").status == 416
    for header in ("bytes=0-1,3-4", "items=0-1", "bytes=5-2", "bytes=-", "garbage"):
        assert plan_download(TAG, 10, range_header=header).status == 200
    assert plan_download(TAG, 10, range_header="bytes=0-1", if_range='"old"').status == 200
    assert plan_download(TAG, 10, range_header="bytes=0-1", if_range=TAG).status == 206
    empty = plan_download(TAG, 0)
    assert (empty.status, empty.length) == (200, 0)


@given(
    size=st.integers(min_value=0, max_value=10_000),
    first=st.integers(min_value=0, max_value=12_000) | st.none(),
    last=st.integers(min_value=0, max_value=12_000) | st.none(),
)
def test_a_range_never_leaves_the_object(size: int, first: int | None, last: int | None) -> None:
    header = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    plan = plan_download(TAG, size, range_header=header)
    assert plan.status in (200, 206, 416)
    if plan.status in (200, 206):
        assert 0 <= plan.start <= plan.end < size or (size == 0 and plan.length == 0)
        assert plan.length == plan.end - plan.start + 1 or size == 0


def test_filenames_from_titles() -> None:
    assert download_filename("Cat", "asciihub-x", "gif") == "Cat.gif"
    assert download_filename("", "asciihub-x", "gif") == "asciihub-x.gif"
    assert download_filename(None, "asciihub-x", "gif") == "asciihub-x.gif"
    assert download_filename("../../etc/passwd", "f", "txt") == "etc-passwd.txt"
    assert download_filename('a "quoted"\r\nname', "f", "txt") == "a-quoted-name.txt"
    assert download_filename("...", "f", "txt") == "f.txt"
    assert download_filename("x" * 500, "f", "png") == "x" * MAX_STEM + ".png"


@given(st.text(max_size=300))
def test_any_title_gives_a_safe_header(title: str) -> None:
    name = download_filename(title, "asciihub-id", "cast")
    assert name.endswith(".cast") and "/" not in name and "\\" not in name
    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    match = re.fullmatch(
        r'attachment; filename="([^"\\]*)"(?:; filename\*=UTF-8\'\'(\S+))?', header
    )
    assert match is not None, header
    assert unquote(match.group(2)) == name if match.group(2) else match.group(1) == name


def test_unicode_names_carry_filename_star() -> None:
    assert content_disposition("Cat.gif") == 'attachment; filename="Cat.gif"'
    assert content_disposition("Café.gif") == (
        "attachment; filename=\"Cafe.gif\"; filename*=UTF-8''Caf%C3%A9.gif"
    )
    assert content_disposition("猫.txt") == (
        "attachment; filename=\"download.txt\"; filename*=UTF-8''%E7%8C%AB.txt"
    )


def test_spool_measures_and_spills() -> None:
    data = bytes(range(256)) * 100

    def write(out: io.BufferedIOBase) -> None:
        out.write(data)

    made = spool(write, threshold=1024)  # type: ignore[arg-type]
    try:
        assert made.size == len(data)
        assert made.file.read() == data
        assert made.file._rolled  # type: ignore[attr-defined]  # on disk past the threshold
    finally:
        made.file.close()
