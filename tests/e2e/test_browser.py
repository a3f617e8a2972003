"""The web pages in a real Chromium: gallery, search, artwork page and its player."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import service_missing
from tests.e2e.servers import running_server
from tests.users import sync_signup

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

FRAMES = [
    {"text": "  o  \n /|\\ \n / \\ ", "duration_ms": 150},
    {"text": " \\o/ \n  |  \n / \\ ", "duration_ms": 150},
    {"text": "  o  \n <|> \n  |  ", "duration_ms": 150},
]


def wait_until(check: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll ``check`` until it is true, or fail after ``timeout`` seconds.

    (Playwright's wait_for_function evaluates strings, which the page's CSP forbids.)
    """
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        service_missing("Chromium is not installed (make test installs Debian's chromium)")
    assert path is not None
    return path


def test_gallery_search_and_player(data_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    with running_server(data_dir) as (url, _proc), httpx.Client(base_url=url) as http:
        sync_signup(http)
        dancer = http.post(
            "/api/artworks",
            json={"title": "Dancer", "visibility": "public", "tags": ["people"], "frames": FRAMES},
        ).json()
        http.post(
            "/api/artworks",
            json={"title": "Rocket", "visibility": "public", "frames": [{"text": "  ^\n /_\\"}]},
        ).raise_for_status()

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on(
                "response",
                lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )

            page.goto(url + "/")
            cards = page.locator(".card .title")
            assert sorted(cards.all_inner_texts()) == ["Dancer", "Rocket"]
            wait_until(
                lambda: page.evaluate(
                    "() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
                )
            )
            page.screenshot(path=str(tmp_path / "gallery.png"))

            page.fill("input[name=q]", "danc")
            page.press("input[name=q]", "Enter")
            page.wait_for_url("**/?q=danc")
            assert page.locator(".card .title").all_inner_texts() == ["Dancer"]

            page.click("text=Dancer")
            page.wait_for_url(f"**/a/{dancer['id']}")
            art = page.locator("pre#art")
            assert art.inner_text() in [frame["text"] for frame in FRAMES]  # it plays already
            wait_until(lambda: "\\o/" in art.inner_text())  # the player shows frame 2
            page.click("#play")
            assert page.get_attribute("#play", "aria-pressed") == "false"
            page.screenshot(path=str(tmp_path / "artwork.png"))
            assert errors == [], errors  # a CSP violation or a script error shows here

            response = page.goto(url + "/a/AAAAAAAAAAAAAAAAAAAAAA")
            assert response is not None and response.status == 404
            assert "Nothing here" in page.content()
            browser.close()
