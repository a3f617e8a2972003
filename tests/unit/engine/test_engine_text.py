"""Banners and the procedural generator."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asciihub.engine import banner, generate, list_fonts, list_scenes
from asciihub.engine.procedural import GenerateLimits, choose_scene, quoted_text
from asciihub.errors import InvalidInput, TooLarge


def test_banner_wraps_aligns_and_borders() -> None:
    frame = banner("hello wide world", width=40, align="center", border="ascii")
    lines = frame.text.split("\n")
    assert all(len(line) <= 40 for line in lines)
    assert lines[0].startswith("+")
    assert lines[0].endswith("+")
    assert all(line.startswith("|") for line in lines[1:-1])
    assert len(lines) > 8  # wrapped onto more than one figlet row


def test_every_font_is_listed_and_unknown_font_is_clear() -> None:
    assert len(list_fonts()) > 100
    assert "standard" in list_fonts()
    with pytest.raises(InvalidInput) as caught:
        banner("x", font="no-such-font")
    assert caught.value.code == "unknown_font"


@pytest.mark.parametrize(("text", "code"), [("", "empty_text"), ("x" * 600, "text_too_long")])
def test_banner_bad_text(text: str, code: str) -> None:
    with pytest.raises((InvalidInput, TooLarge)) as caught:
        banner(text)
    assert caught.value.code == code  # type: ignore[attr-defined]


def test_at_least_twelve_scenes_each_chosen_by_its_words() -> None:
    scenes = list_scenes()
    assert len(scenes) >= 12
    for name, _, words in scenes:
        assert choose_scene(f"a {words[0]} please").name == name


@pytest.mark.parametrize("name", [scene[0] for scene in list_scenes()])
def test_every_scene_animates_deterministically(name: str) -> None:
    first = [f.text for f in generate(name, frames=4, width=30, height=10, seed=1)]
    again = [f.text for f in generate(name, frames=4, width=30, height=10, seed=1)]
    assert first == again
    assert len(set(first)) > 1
    assert all(len(t.split("\n")) == 10 and all(len(x) == 30 for x in t.split("\n")) for t in first)


def test_quoted_text_is_drawn_in_the_scene() -> None:
    assert quoted_text('snow with "HI" on it') == "HI"
    plain = next(generate("snow", frames=1, width=60, height=20, seed=3)).text
    titled = next(generate('snow "HI"', frames=1, width=60, height=20, seed=3)).text
    assert "|_| |_|" in titled
    assert "|_| |_|" not in plain


@settings(max_examples=25, deadline=None)
@given(
    frames=st.integers(1, 5),
    width=st.integers(1, 60),
    height=st.integers(1, 20),
    style=st.sampled_from(["simple", "dense", "shape", "blocks", "braille", "edges"]),
)
def test_generate_respects_size_and_count(frames: int, width: int, height: int, style: str) -> None:
    out = list(generate("plasma", frames=frames, width=width, height=height, style=style))
    assert len(out) == frames
    for frame in out:
        lines = frame.text.split("\n")
        assert len(lines) == height
        assert all(len(line) == width for line in lines)


def test_generate_limits() -> None:
    limits = GenerateLimits(max_prompt_chars=10, max_frames=5)
    with pytest.raises(TooLarge) as caught:
        list(generate("x" * 11, limits=limits))
    assert caught.value.code == "prompt_too_long"
    with pytest.raises(TooLarge):
        list(generate("fire", frames=6, limits=limits))
    with pytest.raises(InvalidInput):
        list(generate("fire", frames=0))
    with pytest.raises(InvalidInput):
        list(generate("   "))
