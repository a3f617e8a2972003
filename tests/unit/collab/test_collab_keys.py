"""Fractional order keys: strictly between, never equal, short."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asciihub.errors import InvalidInput
from asciihub.services.collab import MAX_KEY_CHARS, key_between


def test_first_key_and_appends_count_up() -> None:
    keys = [key_between(None, None)]
    for _ in range(70):
        keys.append(key_between(keys[-1], None))
    assert keys[:3] == ["a0", "a1", "a2"]
    assert keys[62] == "b00"  # a0..az are 62 keys, then the integer part grows
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_prepends_go_below_a0() -> None:
    keys = ["a0"]
    for _ in range(70):
        keys.insert(0, key_between(None, keys[0]))
    assert keys[-2] == "Zz"
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_between_neighbours() -> None:
    assert key_between("a0", "a1") == "a0V"
    assert key_between("a0", "a0V") == "a0G"
    assert key_between("a0V", "a1") == "a0l"
    assert "a1" < key_between("a1", "a3") < "a3"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("", None),  # empty
        ("a", None),  # head says two characters
        ("a0!", None),  # not base 62
        ("a00", None),  # fraction ends in 0
        ("0a", None),  # head is not a letter
        ("A" + "0" * 26, None),  # no room below the smallest integer
        ("a" + "1" * MAX_KEY_CHARS, None),  # too long
        ("a1", "a1"),  # equal
        ("a2", "a1"),  # reversed
    ],
)
def test_bad_keys_are_refused(a: str, b: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        key_between(a, b)
    assert caught.value.code == "invalid_order_key"


def test_repeated_insertion_at_one_spot_stays_short() -> None:
    # Always insert right after "a0", before the key made last time: the worst case
    # for any fractional index; it grows by one character about every 6 inserts.
    low, high = "a0", "a1"
    made = []
    for _ in range(300):
        high = key_between(low, high)
        made.append(high)
    assert made == sorted(made, reverse=True)
    assert len(set(made)) == len(made)
    assert max(len(key) for key in made) <= 2 + 300 // 5
    # Always insert right before "a1", after the key made last time.
    low, high = "a0", "a1"
    for _ in range(300):
        low = key_between(low, high)
    assert len(low) <= 2 + 300 // 5
    # 10,000 appends stay within four characters.
    key = "a0"
    for _ in range(10_000):
        key = key_between(key, None)
    assert len(key) <= 4


@settings(max_examples=80)
@given(st.lists(st.tuples(st.integers(0, 1000), st.booleans()), min_size=1, max_size=60))
def test_keys_are_strictly_between_and_never_equal(moves: list[tuple[int, bool]]) -> None:
    """Insert anywhere (or at the ends) many times: always strictly between, all distinct."""
    keys = [key_between(None, None)]
    for spot, at_end in moves:
        index = len(keys) if at_end else spot % (len(keys) + 1)
        before = keys[index - 1] if index > 0 else None
        after = keys[index] if index < len(keys) else None
        key = key_between(before, after)
        assert before is None or before < key
        assert after is None or key < after
        keys.insert(index, key)
        assert key_between(key, None) > key  # every key made is a valid key
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert max(len(key) for key in keys) <= 2 + len(moves) // 5 + 1
