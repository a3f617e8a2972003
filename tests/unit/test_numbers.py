"""Whole numbers from untrusted text: never an exception, only ASCII digits (defect 6)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from asciihub.services.numbers import MAX_DIGITS, whole_number, whole_number_or


@given(st.text(max_size=40))
def test_any_text_gives_an_int_or_none(text: str) -> None:
    number = whole_number(text)
    digits = text.strip()
    expected = digits.isascii() and digits.isdigit() and 0 < len(digits) <= MAX_DIGITS
    assert (number is not None) == expected
    if number is not None:
        assert number == int(digits)


def test_odd_digits_and_huge_numbers_are_refused() -> None:
    for odd in ("²", "٣", "１２", "9" * 5000, "1e3", "-1", "", " ", "0x10", "1_000"):
        assert whole_number(odd) is None, odd
    assert whole_number(b"12") == 12
    assert whole_number(b"\xff") is None
    assert whole_number(True) is None
    assert whole_number(7) == 7
    assert whole_number_or("²") == "²"
    assert whole_number_or(" 42 ") == 42
