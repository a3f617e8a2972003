"""The SVG and HTML exports opened in a real Chromium, from files, offline."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from asciihub.engine.document import ArtworkDocument, build_document
from asciihub.render.exports import RenderOptions, render_export
from asciihub.render.raster import frame_image
from tests.conftest import service_missing

pytestmark = pytest.mark.browser

OPTIONS = RenderOptions(title="Export <page>", font_size=16)


def wait_until(check: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll ``check`` until it is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _document(frames: int) -> ArtworkDocument:
    items: list[dict[str, Any]] = []
    for index in range(frames):
        rng = np.random.default_rng(index)
        chars = rng.choice(list("#@*+=:.<&>ab "), size=(6, 24))
        items.append(
            {
                "text": "\n".join("".join(row) for row in chars),
                "duration_ms": 200,
                "colors": rng.integers(90, 256, size=(6, 24, 3), dtype=np.uint8).tobytes(),
                "backgrounds": np.repeat(
                    rng.integers(0, 70, size=(6, 2, 3), dtype=np.uint8), 12, axis=1
                ).tobytes(),
            }
        )
    return build_document(items)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        service_missing("Chromium is not installed (make test installs Debian's chromium)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=path)
        yield launched
        launched.close()


def _difference(shot: bytes, expected: Image.Image) -> float:
    shown = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)
    return float(np.abs(shown - np.asarray(expected, dtype=np.int16)).mean())


def _open(browser: Any, path: Path, size: tuple[int, int], **context: Any) -> tuple[Any, list[str]]:
    page = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, device_scale_factor=1, **context
    ).new_page()
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.on("console", lambda message: seen.append(f"console {message.type}: {message.text}"))
    page.on("pageerror", lambda error: seen.append(f"error: {error}"))
    page.goto(path.as_uri())
    return page, seen


def test_svg_rasterised_by_chromium_matches_the_png_export(browser: Any, tmp_path: Path) -> None:
    still = _document(1)
    path = tmp_path / "still.svg"
    path.write_bytes(render_export(still, "svg", OPTIONS))
    expected = frame_image(still.frames[0], still.width, still.height, font_size=16)
    page, seen = _open(browser, path, expected.size)
    difference = _difference(page.screenshot(), expected)
    assert difference < 12, difference  # antialiasing differs; a shifted grid is ~40
    blank = Image.new("RGB", expected.size, (17, 17, 20))
    assert _difference(page.screenshot(), blank) > 20, "the text and backgrounds are drawn"
    assert seen == [path.as_uri()]
    assert page.evaluate("document.querySelectorAll('text').length") == 6


def test_animated_svg_shows_each_frame_in_turn(browser: Any, tmp_path: Path) -> None:
    animation = _document(3)
    path = tmp_path / "animated.svg"
    path.write_bytes(render_export(animation, "svg", OPTIONS))
    drawn = [frame_image(frame, 24, 6, font_size=16) for frame in animation.frames]
    page, _ = _open(browser, path, drawn[0].size)
    for expected in (drawn[1], drawn[2], drawn[0]):
        wait_until(lambda e=expected: _difference(page.screenshot(), e) < 12)


def test_html_player_plays_pauses_scrubs_and_stops_without_loop(
    browser: Any, tmp_path: Path
) -> None:
    animation = _document(4)
    path = tmp_path / "player.html"
    path.write_bytes(render_export(animation, "html", OPTIONS))
    page, seen = _open(browser, path, (800, 400))
    screen = page.locator("#screen")

    def frame() -> int:
        return int(screen.get_attribute("data-frame") or "-1")

    assert page.title() == "Export <page>"
    assert page.locator("#controls").is_visible()
    wait_until(lambda: frame() != 0)  # playing
    page.click("#play")
    assert page.get_attribute("body", "data-playing") == "false"
    page.locator("#scrub").fill("2")
    assert frame() == 2
    assert screen.inner_text() == animation.frames[2].text
    colours = page.evaluate("getComputedStyle(document.querySelector('#screen span')).color")
    assert colours.startswith("rgb(")
    page.select_option("#speed", "4")
    page.uncheck("#loop")
    page.click("#play")
    wait_until(lambda: page.get_attribute("body", "data-playing") == "false")
    assert frame() == 3, "without loop the player stops on the last frame"
    assert seen == [path.as_uri()], "no other request, no console message, no error"


def test_html_without_javascript_shows_the_first_frame(browser: Any, tmp_path: Path) -> None:
    animation = _document(2)
    path = tmp_path / "still.html"
    path.write_bytes(render_export(animation, "html", OPTIONS))
    page, seen = _open(browser, path, (800, 400), java_script_enabled=False)
    assert page.locator("#screen").inner_text() == animation.frames[0].text
    assert not page.locator("#controls").is_visible()
    assert seen == [path.as_uri()]
