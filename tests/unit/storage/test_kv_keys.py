"""Properties of KV key, value, metadata, expiry and cursor rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asciihub.errors import InvalidInput, TooLarge
from asciihub.storage.kv.keys import (
    decode_cursor,
    encode_cursor,
    encode_metadata,
    expiry_of,
    key_upper_bound,
    validate_key,
    validate_limit,
    validate_many,
)

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@given(st.text(max_size=300))
def test_validate_key_accepts_exactly_the_valid_keys(key: str) -> None:
    try:
        size = len(key.encode())
    except UnicodeEncodeError:
        size = -1
    if key in ("", ".", "..") or size < 0 or size > 512:
        with pytest.raises(InvalidInput):
            validate_key(key)
    else:
        assert validate_key(key) == key


@given(st.integers(min_value=1, max_value=40))
def test_key_byte_limit_counts_utf8(count: int) -> None:
    key = "😀" * count  # 4 bytes each
    if 4 * count <= 512:
        validate_key(key)
    else:
        with pytest.raises(InvalidInput):
            validate_key(key)
    validate_key("😀" * 128)
    with pytest.raises(InvalidInput):
        validate_key("😀" * 128 + "a")


@given(text)
def test_cursor_round_trips(key: str) -> None:
    assert decode_cursor(encode_cursor(key)) == key


@given(text, text)
def test_upper_bound(prefix: str, rest: str) -> None:
    upper = key_upper_bound(prefix)
    if upper is not None:
        assert prefix + rest < upper


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=5), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_metadata_is_json_within_the_limit(value: object) -> None:
    try:
        encoded = encode_metadata(value)
    except TooLarge:
        return
    if value is None:
        assert encoded is None
    else:
        assert encoded is not None
        assert len(encoded.encode()) <= 1024


@given(st.integers(-10, 10), st.floats(1e9, 2e9))
def test_ttl_rules(ttl: int, now: float) -> None:
    if ttl >= 1:
        assert expiry_of(ttl, None, now) == int(now) + ttl
    else:
        with pytest.raises(InvalidInput):
            expiry_of(ttl, None, now)


def test_expiration_rules() -> None:
    assert expiry_of(None, None, 100.0) is None
    assert expiry_of(None, 101, 100.0) == 101
    assert expiry_of(5, 1000, 100.0) == 105
    with pytest.raises(InvalidInput):
        expiry_of(None, 100, 100.0)
    with pytest.raises(InvalidInput):
        expiry_of(None, 100.5, 1.0)  # type: ignore[arg-type]


@given(st.integers(-5, 1005))
def test_limit(limit: int) -> None:
    if 1 <= limit <= 1000:
        assert validate_limit(limit) == limit
    else:
        with pytest.raises(InvalidInput):
            validate_limit(limit)


def test_get_many_cap() -> None:
    assert validate_many([f"k{n}" for n in range(100)])
    with pytest.raises(InvalidInput):
        validate_many([f"k{n}" for n in range(101)])
