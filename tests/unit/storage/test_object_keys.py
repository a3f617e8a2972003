"""Properties of object key validation, ordering bounds, cursors, ranges and encodings."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asciihub.errors import InvalidInput, PreconditionFailed, TooLarge
from asciihub.storage.objects._local_index import decode_cursor, encode_cursor
from asciihub.storage.objects._presign import signed_path, verify_signature
from asciihub.storage.objects._s3_codec import decode_value, encode_value
from asciihub.storage.objects.keys import (
    key_upper_bound,
    validate_custom_metadata,
    validate_key,
)
from asciihub.storage.objects.options import PutConditions, normalize_etag, resolve_range
from asciihub.storage.objects.protocol import ByteRange

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
safe_segment = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="/\\\x85"),
    min_size=1,
    max_size=12,
).filter(lambda part: part not in (".", ".."))


def breaks_a_rule(key: str) -> bool:
    data = key.encode("utf-8", "surrogatepass")
    return (
        not key
        or len(data) > 1024
        or key.startswith("/")
        or "\\" in key
        or any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in key)
        or any(0xD800 <= ord(ch) <= 0xDFFF for ch in key)
        or any(part in (".", "..") for part in key.split("/"))
        or key.split("/")[0].casefold() == ".asciihub-store"
    )


@given(st.text(max_size=60))
def test_validate_key_accepts_exactly_the_keys_that_break_no_rule(key: str) -> None:
    if breaks_a_rule(key):
        with pytest.raises(InvalidInput):
            validate_key(key)
    else:
        assert validate_key(key) == key


@given(st.lists(safe_segment, min_size=1, max_size=6))
def test_keys_made_of_safe_segments_are_valid(parts: list[str]) -> None:
    key = "/".join(parts)
    if len(key.encode()) <= 1024 and parts[0].casefold() != ".asciihub-store":
        assert validate_key(key) == key


@given(st.sampled_from(["\x00", "\n", "\x1f", "\x7f", "\x9f", "\\"]), text, text)
def test_forbidden_characters_anywhere_are_refused(bad: str, head: str, tail: str) -> None:
    with pytest.raises(InvalidInput):
        validate_key(f"a{head}{bad}{tail}")


@given(
    st.sampled_from([".asciihub-store", ".ASCIIHUB-STORE", ".Asciihub-Store"]),
    st.lists(safe_segment, max_size=3),
)
def test_reserved_first_segment_is_refused_in_any_case(name: str, rest: list[str]) -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        validate_key("/".join([name, *rest]))


@given(st.lists(safe_segment, min_size=1, max_size=3))
def test_reserved_name_below_the_first_segment_is_fine(parts: list[str]) -> None:
    key = "/".join(["x", *parts, ".asciihub-store", "y"])
    if len(key.encode()) <= 1024:
        assert validate_key(key) == key


@given(text, text)
def test_upper_bound_bounds_every_extension(prefix: str, rest: str) -> None:
    upper = key_upper_bound(prefix)
    key = prefix + rest
    assert prefix <= key
    if upper is not None:
        assert key < upper
        assert key.encode() < upper.encode()  # code point order is byte order


@given(text, text)
def test_upper_bound_excludes_strings_without_the_prefix(prefix: str, other: str) -> None:
    upper = key_upper_bound(prefix)
    if prefix <= other and not other.startswith(prefix) and upper is not None:
        assert other >= upper


@given(text, st.booleans())
def test_local_cursor_round_trips(key: str, inclusive: bool) -> None:
    assert decode_cursor(encode_cursor((key, inclusive))) == (key, inclusive)


@given(st.text(max_size=20))
def test_garbage_cursor_is_invalid_input_or_a_position(cursor: str) -> None:
    try:
        key, inclusive = decode_cursor(cursor)
    except InvalidInput:
        return
    assert isinstance(key, str)
    assert isinstance(inclusive, bool)


@given(text)
def test_s3_metadata_values_round_trip_and_are_header_safe(value: str) -> None:
    encoded = encode_value(value)
    assert all(0x20 <= ord(ch) <= 0x7E for ch in encoded)
    assert encoded == encoded.strip()
    assert decode_value(encoded) == value


@given(
    st.integers(0, 100),
    st.one_of(st.none(), st.integers(0, 120)),
    st.one_of(st.none(), st.integers(0, 120)),
    st.one_of(st.none(), st.integers(0, 120)),
)
def test_resolved_range_matches_python_slicing(
    size: int, offset: int | None, length: int | None, suffix: int | None
) -> None:
    data = bytes(range(size))
    if suffix is not None:
        start, count = resolve_range(ByteRange(suffix=suffix), size)
        expected = data[size - min(suffix, size) :]
    else:
        start, count = resolve_range(ByteRange(offset=offset, length=length), size)
        begin = offset or 0
        expected = data[begin:] if length is None else data[begin : begin + length]
    assert data[start : start + count] == expected
    assert 0 <= start <= size


def test_metadata_rules() -> None:
    assert validate_custom_metadata({"a-b_1": "é"}) == {"a-b_1": "é"}
    assert validate_custom_metadata(None) == {}
    with pytest.raises(InvalidInput):
        validate_custom_metadata({"A": "x"})
    with pytest.raises(TooLarge):
        validate_custom_metadata({"k": "x" * 8192})


def test_conditions() -> None:
    etag = hashlib.md5(b"x").hexdigest()
    assert normalize_etag(f'W/"{etag}"') == etag
    PutConditions.of(etag, None).check("k", etag)
    PutConditions.of("*", None).check("k", etag)
    PutConditions.of(None, "*").check("k", None)
    PutConditions.of(None, "other").check("k", etag)
    for conditions, current in [
        (PutConditions.of(etag, None), None),
        (PutConditions.of("other", None), etag),
        (PutConditions.of(None, "*"), etag),
        (PutConditions.of(None, f'"{etag}"'), etag),
    ]:
        with pytest.raises(PreconditionFailed):
            conditions.check("k", current)
    with pytest.raises(InvalidInput):
        PutConditions.of("", None)


@given(text.filter(bool), st.integers(1, 2_000_000_000))
def test_signed_paths_verify_only_for_their_key(key: str, expires_at: int) -> None:
    secret = b"s" * 32
    path = signed_path(secret, key, expires_at)
    sig = path.rsplit("sig=", 1)[1]
    verify_signature(secret, key, str(expires_at), sig, now=expires_at - 1)
    with pytest.raises(Exception, match="signature|expired"):
        verify_signature(secret, key + "x", str(expires_at), sig, now=expires_at - 1)
