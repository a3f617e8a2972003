"""The web app in a real Chromium against ``asciihub serve`` on a port.

Each test opens its own browser context on one server per module. Every page a test
visits is screenshotted under ``tests/e2e/screenshots/`` (git-ignored; CI keeps the
folder as an artefact), and any console error, page error or unexpected HTTP error
fails the test. Waiting is Playwright's own (auto-waiting locators, ``expect``,
``wait_for_url``, ``expect_download``) or a poll with a deadline; never a sleep.
"""

from __future__ import annotations

import base64
import io
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import service_missing
from tests.e2e.servers import running_server
from tests.users import PASSWORD, new_handle

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

SHOTS = Path(__file__).parent / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


IMAGES_LOADED = "() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"


def wait_until(check: Callable[[], object], timeout: float = 15.0) -> None:
    """Poll ``check`` until it is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One running ``asciihub serve`` (views flushed fast, 4 cards a page) for the module."""
    data = tmp_path_factory.mktemp("webapp") / "data"
    data.mkdir()
    env = {"ASCIIHUB_VIEWS_FLUSH_SECONDS": "0.2", "ASCIIHUB_GALLERY_PAGE_SIZE": "4"}
    with running_server(data, env) as (url, _proc):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        service_missing("Chromium is not installed (make test installs Debian's chromium)")
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium, args=ARGS)
        yield launched
        launched.close()


class Watched:
    """A page whose console errors and failed requests are collected."""

    def __init__(self, page: Any, expected: tuple[str, ...] = ()) -> None:
        self.page = page
        self.errors: list[str] = []
        self.expected = expected
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("response", self._response)

    def _console(self, msg: Any) -> None:
        if msg.type == "error" and not (self.expected and "Failed to load resource" in msg.text):
            self.errors.append(f"console: {msg.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and not any(part in response.url for part in self.expected):
            self.errors.append(f"{response.status} {response.url}")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def check(self) -> None:
        assert self.errors == [], self.errors


_CLIENTS: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def api_user(url: str) -> tuple[httpx.Client, str]:
    """A signed-up user on an httpx client (session cookie, Origin set; closed after the test)."""
    http = httpx.Client(base_url=url, headers={"Origin": url})
    _CLIENTS.append(http)
    handle = new_handle("web")
    response = http.post("/api/auth/signup", json={"handle": handle, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return http, handle


def logged_in(browser: Any, url: str, **options: Any) -> tuple[Any, httpx.Client, str]:
    """A browser context holding a new user's session, the same user over httpx."""
    http, handle = api_user(url)
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
    context.add_cookies([{"name": c.name, "value": c.value, "url": url} for c in http.cookies.jar])
    return context, http, handle


def coloured_frames(width: int = 48, height: int = 12, count: int = 3) -> list[dict[str, Any]]:
    """Frames with a per-cell colour gradient and 1 s durations."""
    frames = []
    for k in range(count):
        rows = [
            "".join("#@%*+=-:. "[(x + y + k) % 10] for x in range(width)) for y in range(height)
        ]
        rgb = bytearray()
        for y in range(height):
            for x in range(width):
                rgb += bytes([40 + x * 4, 60 + y * 12, 200 - k * 40])
        frames.append(
            {
                "text": "\n".join(rows),
                "duration_ms": 1000,
                "colors": base64.b64encode(bytes(rgb)).decode(),
            }
        )
    return frames


def photo_bytes() -> bytes:
    """A small colourful PNG to upload (a graded sky, so dithering and tone show)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 120))
    draw = ImageDraw.Draw(image)
    for y in range(120):
        draw.line((0, y, 160, y), fill=(20 + y, 30 + y, 60 + y))
    draw.ellipse((30, 20, 130, 100), fill=(240, 180, 40))
    draw.rectangle((0, 90, 160, 120), fill=(40, 160, 80))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_sign_up_log_out_log_in_from_the_home_page(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(site + "/")
    watched.shot("home-anonymous")
    page.click("header >> text=Sign up")
    page.wait_for_url("**/signup")
    handle = new_handle("ui")
    page.fill("#handle", handle)
    page.fill("#password", PASSWORD)
    watched.shot("signup")
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(site + "/")
    expect(page.locator("header .me")).to_have_text(f"@{handle}")
    watched.shot("home-logged-in")

    page.click("#logout")
    expect(page.locator("header >> text=Log in")).to_be_visible()
    assert page.locator("header .me").count() == 0

    page.click("header >> text=Log in")
    page.wait_for_url("**/login**")
    page.fill("#handle", handle)
    page.fill("#password", "wrong password, surely")
    page.click("#auth-form button[type=submit]")
    expect(page.locator("#auth-error")).to_be_visible()
    watched.shot("login-error")
    # The refused login is the one error this test asks for (its 401 and its console line).
    watched.errors = [e for e in watched.errors if "/api/auth/login" not in e and "401" not in e]
    page.fill("#password", PASSWORD)
    page.click("#auth-form button[type=submit]")
    expect(page.locator("header .me")).to_have_text(f"@{handle}")
    page.click("header >> text=Settings")
    page.wait_for_url("**/settings")
    watched.shot("settings")
    watched.check()
    context.close()


def _upload_and_convert(page: Any, site: str) -> None:
    page.goto(site + "/new")
    page.set_input_files(
        "#file", files=[{"name": "sunset.png", "mimeType": "image/png", "buffer": photo_bytes()}]
    )
    from playwright.sync_api import expect

    expect(page.locator("#preview")).to_be_visible()
    page.check("input[name=style][value=dense]", force=True)
    page.fill("#convert-form input[name=width]", "60")
    page.select_option("#convert-form select[name=color]", "truecolor")
    page.select_option("#convert-form select[name=dither]", "floyd-steinberg")
    page.select_option("#convert-form select[name=tone]", "linear")
    page.click("#convert-form button[type=submit]")
    page.wait_for_url("**/a/**", timeout=60_000)
    expect(page.locator("#art-title")).to_have_text("sunset")
    # The dithering and tone chosen on the form are the ones the engine used.
    from asciihub.engine import convert

    artwork_id = page.url.rsplit("/", 1)[-1]
    frames = page.evaluate(f"() => fetch('/api/artworks/{artwork_id}').then(r => r.json())")
    text = frames["frames"][0]["text"]

    def engine(**options: str) -> str:
        return convert(photo_bytes(), width=60, style="dense", color="truecolor", **options).text

    assert text == engine(dither="floyd-steinberg", tone="linear")
    assert text != engine()


def test_upload_and_convert_a_photo_with_live_progress(browser: Any, site: str) -> None:
    context, _http, _handle = logged_in(browser, site)
    watched = Watched(context.new_page())
    page = watched.page
    received: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda payload: received.append(str(payload))),
    )
    polled: list[str] = []
    page.on("response", lambda r: polled.append(r.url) if "/api/jobs/" in r.url else None)
    page.goto(site + "/new")
    watched.shot("make")
    _upload_and_convert(page, site)
    assert polled == []  # the socket carried it
    kinds = [m.replace(" ", "") for m in received if "/ws/" not in m]
    assert any('"type":"hello"' in m for m in kinds), [m[:80] for m in received]
    # (A still photo converts in one step, often before the socket opens: then the
    # outcome comes from the job row. Frames arriving live are checked with a prompt.)
    assert any('"type":"done"' in m for m in kinds)
    coloured = page.locator("pre#art span")
    assert coloured.count() > 10  # per-cell colour is drawn
    assert page.evaluate("() => document.querySelector('pre#art span[style]').style.color")
    watched.shot("converted")
    watched.check()
    context.close()


def animated_gif(count: int = 6) -> bytes:
    """A small animated GIF: a bright square moving across a dark field."""
    from PIL import Image, ImageDraw

    frames = []
    for k in range(count):
        image = Image.new("RGB", (96, 48), (10, 20, 40))
        ImageDraw.Draw(image).rectangle((k * 12, 12, k * 12 + 24, 36), fill=(250, 200, 60))
        frames.append(image)
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=120, loop=0)
    return out.getvalue()


def test_drop_an_animated_gif_and_convert_it(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context, http, _handle = logged_in(browser, site)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(site + "/new")
    data = base64.b64encode(animated_gif()).decode()
    transfer = page.evaluate_handle(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0));
            const moved = new DataTransfer();
            moved.items.add(new File([bytes], "square.gif", { type: "image/gif" }));
            return moved;
        }""",
        data,
    )
    page.dispatch_event("#drop", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#drop")).to_have_class("drop over")
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    expect(page.locator("#preview")).to_be_visible()  # the dropped file is the one chosen
    expect(page.locator("#drop-text")).to_contain_text("square.gif")
    assert page.evaluate("() => document.getElementById('file').files[0].name") == "square.gif"
    page.fill("#convert-form input[name=width]", "32")
    watched.shot("make-dropped")
    page.click("#convert-form button[type=submit]")
    page.wait_for_url("**/a/**", timeout=60_000)
    expect(page.locator("#art-title")).to_have_text("square")
    art = http.get(f"/api/artworks/{page.url.rsplit('/', 1)[-1]}").json()
    assert art["frame_count"] == 6 and art["width"] == 32
    expect(page.locator("#position")).to_contain_text("/ 6")
    watched.check()
    context.close()


def small_video() -> bytes:
    """A five-frame MP4 (MPEG-4 part 2, so any FFmpeg build writes it)."""
    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for k in range(5):
            pixels = np.zeros((48, 64, 3), np.uint8)
            pixels[:, k * 10 : k * 10 + 10] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_a_chosen_video_is_previewed_then_converted(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context, http, _handle = logged_in(browser, site)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(site + "/new")
    page.set_input_files(
        "#file", files=[{"name": "bar.mp4", "mimeType": "video/mp4", "buffer": small_video()}]
    )
    expect(page.locator("#preview-video")).to_be_visible()
    expect(page.locator("#preview")).to_be_hidden()
    assert page.get_attribute("#preview-video", "src").startswith("blob:")
    page.fill("#convert-form input[name=width]", "24")
    page.click("#convert-form button[type=submit]")
    page.wait_for_url("**/a/**", timeout=60_000)
    art = http.get(f"/api/artworks/{page.url.rsplit('/', 1)[-1]}").json()
    assert art["frame_count"] == 5 and art["width"] == 24
    watched.check()
    context.close()


def test_convert_without_sockets_polls_the_job(browser: Any, site: str) -> None:
    context, http, _handle = logged_in(browser, site)
    context.route_web_socket("**/ws/**", lambda ws: ws.close())  # no socket gets through
    watched = Watched(context.new_page())
    page = watched.page
    polled: list[str] = []
    page.on("response", lambda r: polled.append(r.url) if "/api/jobs/" in r.url else None)
    _upload_and_convert(page, site)
    assert polled, "the page never asked for the job's progress"
    job = http.get(polled[-1].removeprefix(site)).json()
    assert job["status"] == "done" and job["progress"] == 1
    assert page.url.endswith(f"/a/{job['artwork_id']}")
    watched.check()
    context.close()


def test_generate_from_a_prompt(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context, _http, _handle = logged_in(browser, site)
    watched = Watched(context.new_page())
    page = watched.page
    received: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda payload: received.append(str(payload))),
    )
    page.goto(site + "/new")
    page.click("#prompt details summary")
    scene = page.locator("[data-scene]").first
    name = scene.get_attribute("data-scene")
    scene.click()
    assert name in page.input_value("#prompt-text")
    page.fill("#generate-form input[name=frames]", "6")
    page.fill("#generate-form input[name=width]", "40")
    page.fill("#generate-form input[name=height]", "12")
    page.fill("#generate-form input[name=title]", "Generated")
    page.click("#generate-form button[type=submit]")
    page.wait_for_url("**/a/**", timeout=60_000)
    expect(page.locator("#art-title")).to_have_text("Generated")
    expect(page.locator("#position")).to_contain_text("/ 6")
    assert any('"type":"frame"' in m.replace(" ", "") for m in received), received[:3]
    assert any('"type":"done"' in m.replace(" ", "") for m in received)
    watched.shot("generated")
    watched.check()
    context.close()


def test_make_a_banner_with_a_live_preview(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context, http, _handle = logged_in(browser, site)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(site + "/new")
    preview = page.locator("#banner-preview")
    page.fill("#banner-text", "Hi")
    standard = http.post("/api/banner", json={"text": "Hi", "font": "standard"}).json()["text"]
    expect(preview).to_have_text(standard)
    page.select_option("#banner-font", "slant")
    slant = http.post("/api/banner", json={"text": "Hi", "font": "slant"}).json()["text"]
    assert slant != standard
    expect(preview).to_have_text(slant)
    watched.shot("banner")
    page.click("#banner-form button[type=submit]")
    page.wait_for_url("**/a/**")
    expect(page.locator("pre#art")).to_have_text(slant)
    watched.check()
    context.close()


def test_player_controls_and_the_page_counts_a_view(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    http, _handle = api_user(site)
    art = http.post(
        "/api/artworks",
        json={"title": "Gradient", "visibility": "public", "frames": coloured_frames()},
    ).json()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{site}/a/{art['id']}")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    position = page.locator("#position")
    page.click("#next")
    expect(position).to_have_text("2 / 3")
    page.click("#prev")
    expect(position).to_have_text("1 / 3")
    page.locator("#scrub").fill("2")
    expect(position).to_have_text("3 / 3")
    page.locator("pre#art").click()  # keys go to the player, not the slider
    page.keyboard.press("ArrowRight")  # wraps round
    expect(position).to_have_text("1 / 3")
    page.select_option("#speed", "4")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(position).to_have_text("2 / 3")  # 1 s frames at 4x: a quarter second each
    page.uncheck("#loop")
    expect(position).to_have_text("3 / 3")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")  # stops at the end
    assert page.locator("pre#art span").count() > 0
    watched.shot("artwork")
    page.click("#fullscreen")
    expect(page.locator("#fullscreen")).to_have_text("Exit fullscreen")
    assert (
        page.evaluate("() => document.fullscreenElement && document.fullscreenElement.id")
        == "stage"
    )
    page.click("#fullscreen")
    expect(page.locator("#fullscreen")).to_have_text("Fullscreen")

    def views() -> int:
        items = http.get("/api/gallery?sort=new").json()["items"]
        return int(next(item["views"] for item in items if item["id"] == art["id"]))

    wait_until(lambda: views() >= 1)
    watched.check()
    context.close()


def test_a_share_link_opens_in_a_logged_out_context(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context, http, _handle = logged_in(browser, site)
    art = http.post(
        "/api/artworks",
        json={"title": "Secret", "visibility": "private", "frames": [{"text": "shh"}]},
    ).json()
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{site}/a/{art['id']}")
    page.click("text=Share")
    page.select_option("#share-form select[name=expires_in]", "86400")
    page.click("#share-form button[type=submit]")
    expect(page.locator("#share-new")).to_be_visible()
    link = page.input_value("#share-url")
    assert "/s/" in link
    expect(page.locator("#share-list li")).to_have_count(1)
    watched.shot("share-dialog")

    stranger = browser.new_context(viewport={"width": 1280, "height": 900})
    other = Watched(stranger.new_page())
    other.page.goto(link)
    expect(other.page.locator("#art-title")).to_have_text("Secret")
    expect(other.page.locator("pre#art")).to_have_text("shh")
    assert other.page.locator("header >> text=Log in").count() == 1
    other.shot("shared-logged-out")
    other.check()
    response = stranger.new_page().goto(f"{site}/a/{art['id']}")
    assert response is not None and response.status == 404  # the link, not the address

    page.click("#share-list button.danger")
    expect(page.locator("#share-list li")).to_have_text("No live links.")
    gone = stranger.new_page().goto(link)
    assert gone is not None and gone.status == 404
    watched.check()
    stranger.close()
    context.close()


def test_export_and_download(browser: Any, site: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    context, http, _handle = logged_in(browser, site)
    art = http.post(
        "/api/artworks",
        json={"title": "Loop", "visibility": "public", "frames": coloured_frames(24, 6, 2)},
    ).json()
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{site}/a/{art['id']}")
    page.click("text=Export")
    formats = page.locator("#export-dialog [data-format]").evaluate_all(
        "els => els.map(e => e.dataset.format)"
    )
    assert {"gif", "svg"} <= set(formats)
    for fmt in ("gif", "svg"):
        with page.expect_download(timeout=60_000) as info:
            page.click(f"#export-dialog [data-format={fmt}]")
        download = info.value
        assert download.suggested_filename.endswith(f".{fmt}")
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        head = saved.read_bytes()[:6]
        assert head.startswith(b"GIF89a") if fmt == "gif" else b"<svg" in saved.read_bytes()
        expect(page.locator("#export-link")).to_be_visible()
    watched.shot("export-dialog")
    watched.check()
    context.close()

    # A visitor who is not logged in may export a public artwork too.
    visitor = browser.new_context()
    seen = Watched(visitor.new_page())
    seen.page.goto(f"{site}/a/{art['id']}")
    seen.page.click("text=Export")
    with seen.page.expect_download(timeout=60_000) as info:
        seen.page.click("#export-dialog [data-format=svg]")
    assert b"<svg" in Path(info.value.path()).read_bytes()
    seen.check()
    visitor.close()


def test_a_phone_shows_the_art_without_horizontal_scrolling(browser: Any, site: str) -> None:
    http, handle = api_user(site)
    wide = http.post(
        "/api/artworks",
        json={
            "title": "Very wide",
            "visibility": "public",
            "frames": [{"text": "\n".join("<" + "=" * 118 + ">" for _ in range(16))}],
        },
    ).json()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    watched = Watched(context.new_page())
    page = watched.page
    for name, path in (
        ("phone-artwork", f"/a/{wide['id']}"),
        ("phone-gallery", "/"),
        ("phone-make", "/new"),
        ("phone-profile", f"/u/{handle}"),
        ("phone-login", "/login"),
    ):
        page.goto(site + path)
        sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert sizes[0] <= sizes[1], f"{path} scrolls sideways: {sizes}"
        watched.shot(name)
    page.goto(f"{site}/a/{wide['id']}")
    fits = page.evaluate(
        "() => { const a = document.getElementById('art'); return [a.scrollWidth, a.clientWidth]; }"
    )
    assert fits[0] <= fits[1] + 1, f"the art is cut or scrolls: {fits}"
    remix = page.locator(".actions >> text=Log in to remix")  # a visitor is asked to log in
    assert remix.get_attribute("href") == f"/login?next=/a/{wide['id']}"
    watched.check()
    context.close()


def test_every_page_without_console_errors(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context, http, handle = logged_in(browser, site, color_scheme="dark")
    art = http.post(
        "/api/artworks",
        json={
            "title": "Tagged",
            "visibility": "public",
            "tags": ["demo"],
            "frames": coloured_frames(),
        },
    ).json()
    watched = Watched(context.new_page(), expected=("/no/such/page", "/a/AAAAAAAAAAAAAAAAAAAAAA"))
    page = watched.page
    for name, path in (
        ("gallery-dark", "/"),
        ("gallery-popular", "/?sort=popular"),
        ("gallery-tag", "/?tag=demo"),
        ("search", "/?q=tagged"),
        ("artwork-owner-dark", f"/a/{art['id']}"),
        ("embed", f"/embed/{art['id']}"),
        ("profile", f"/u/{handle}"),
        ("make-dark", "/new"),
        ("settings-dark", "/settings"),
    ):
        response = page.goto(site + path)
        assert response is not None and response.status == 200, path
        if name.startswith("gallery"):
            wait_until(lambda: page.evaluate(IMAGES_LOADED))
        if name == "embed":
            expect(page.locator("#play")).to_be_visible()
        if name == "make-dark":
            expect(page.locator("#templates [data-remix]").first).to_be_visible()
        watched.shot(name)
    page.goto(site + "/new")
    page.locator("#templates [data-remix]").first.click()  # a hot template, remixed
    page.wait_for_url("**/a/**")
    expect(page.locator("#art-title")).to_contain_text("(remix)")
    expect(page.locator(".prompt")).to_contain_text("Remix of")
    watched.shot("remixed")
    page.goto(site + "/?tag=demo")
    expect(page.locator(".card .title")).to_have_text(["Tagged"])
    missing = page.goto(site + "/no/such/page")
    assert missing is not None and missing.status == 404
    assert "text/html" in missing.headers["content-type"]
    expect(page.locator("h1")).to_have_text("Nothing here")
    watched.shot("not-found")
    gone = page.goto(site + "/a/AAAAAAAAAAAAAAAAAAAAAA")
    assert gone is not None and gone.status == 404
    api = http.get("/api/no-such-route")
    assert api.status_code == 404 and api.json()["error"]["code"] == "route_not_found"
    icon = http.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/")
    oembed = http.get("/oembed", params={"url": f"{site}/a/{art['id']}"}).json()
    assert oembed["type"] == "rich" and f"/embed/{art['id']}" in oembed["html"]
    watched.check()
    context.close()


def test_settings_tokens_theme_and_deleting_the_account(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context, http, handle = logged_in(browser, site)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(site + "/settings")
    page.fill("#token-form input[name=name]", "script")
    page.check("#token-form input[value=write]")
    page.click("#token-form button[type=submit]")
    expect(page.locator("#token-new")).to_be_visible()
    secret = page.input_value("#token-secret")
    me = httpx.get(site + "/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    expect(page.locator("#token-rows tr")).to_have_count(1)
    expect(page.locator("#token-rows tr td").nth(1)).to_have_text("read, write")
    watched.shot("settings-token")
    page.click("#token-rows button[data-revoke]")
    expect(page.locator("#token-rows tr")).to_have_count(0)
    revoked = httpx.get(site + "/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401
    page.select_option("#pref-theme", "light")
    page.click("#prefs-form button[type=submit]")
    expect(page.locator("#prefs-status")).to_have_text("Saved.")
    assert http.get("/api/me/preferences").json()["theme"] == "light"
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")

    # An avatar: uploaded here, shown in the header and on the profile.
    page.set_input_files(
        "#avatar-file", files=[{"name": "me.png", "mimeType": "image/png", "buffer": photo_bytes()}]
    )
    page.click("#avatar-form button[type=submit]")
    expect(page.locator("#avatar-img")).to_be_visible()
    expect(page.locator("header .me img")).to_be_visible()
    page.goto(f"{site}/u/{handle}")
    expect(page.locator(".profile-head img.avatar")).to_be_visible()
    wait_until(lambda: page.evaluate(IMAGES_LOADED))
    watched.shot("profile-avatar")
    page.goto(site + "/settings")

    # Export all my data: progress, then the archive downloads (a zip holding my artwork).
    http.post("/api/artworks", json={"title": "mine", "frames": [{"text": "hi"}]})
    with page.expect_download(timeout=60_000) as download:
        page.click("#export-data")
    archive = download.value.path()
    import zipfile

    with zipfile.ZipFile(archive) as zipped:
        assert any(
            "mine" in zipped.read(name).decode("utf-8", "replace") for name in zipped.namelist()
        )
    expect(page.locator("#export-data-status")).to_have_text("Your archive is ready.")
    watched.shot("settings-export-data")

    # Deleting the account asks first, then logs out; the login no longer works.
    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("#delete-form input[name=password]", PASSWORD)
    page.click("#delete-form button[type=submit]")
    page.wait_for_url(site + "/")
    expect(page.locator("header >> text=Log in")).to_be_visible()
    gone = httpx.post(
        site + "/api/auth/login",
        json={"handle": handle, "password": PASSWORD},
        headers={"Origin": site},
    )
    assert gone.status_code == 401
    watched.check()
    context.close()


def _editor_text(page: Any) -> str:
    return str(page.evaluate("() => window.asciihubEditor.text()"))


def _cell(page: Any, row: int, col: int, rows: int, cols: int) -> tuple[float, float]:
    box = page.locator("#ed-canvas").bounding_box()
    return box["x"] + (col + 0.5) * box["width"] / cols, box["y"] + (row + 0.5) * box[
        "height"
    ] / rows


def test_two_editors_converge_and_undo_only_their_own(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    blank = "\n".join(["title"] + [" " * 24] * 5)
    owner, http, handle = logged_in(browser, site)
    art = http.post(
        "/api/artworks",
        json={"title": "Together", "visibility": "private", "frames": [{"text": blank}]},
    ).json()
    link = http.post(
        f"/api/artworks/{art['id']}/shares", json={"permission": "edit", "expires_in": 3600}
    ).json()
    guest = browser.new_context(viewport={"width": 1280, "height": 900})
    a, b = Watched(owner.new_page()), Watched(guest.new_page())
    a.page.goto(f"{site}/a/{art['id']}/edit")
    b.page.goto(f"{site}/a/{art['id']}/edit?share={link['token']}")
    for page in (a.page, b.page):
        expect(page.locator("#ed-status")).to_have_attribute("data-state", "saved")
    expect(a.page.locator("#ed-people")).to_have_text("2 here · 2 editing")

    # A draws a line of '#' on row 2; B types on row 4.
    start, end = _cell(a.page, 2, 1, 6, 24), _cell(a.page, 2, 10, 6, 24)
    a.page.mouse.move(*start)
    a.page.mouse.down()
    a.page.mouse.move(*end, steps=5)
    a.page.mouse.up()
    b.page.click("label.tool:has(input[value=type])")
    b.page.mouse.click(*_cell(b.page, 4, 2, 6, 24))
    b.page.keyboard.type("hey")
    wait_until(
        lambda: _editor_text(a.page) == _editor_text(b.page) and "hey" in _editor_text(a.page)
    )
    rows = _editor_text(a.page).split("\n")
    assert rows[2].startswith(" ##########") and rows[4].startswith("  hey")
    a.shot("editor-owner")
    b.shot("editor-guest")

    # The owner chats; the guest (no account: it may read, not write) sees it.
    a.page.fill("#chat-text", "nice lettering")
    a.page.press("#chat-text", "Enter")
    expect(b.page.locator("#chat-log li")).to_contain_text(["nice lettering"])
    expect(a.page.locator("#chat-log li strong")).to_have_text(["you"])
    expect(b.page.locator("#chat-log li strong")).to_have_text([f"@{handle}"])
    assert b.page.locator("#chat-form").count() == 0

    # A's undo takes back A's line only; B's typing stays.
    a.page.click("#ed-undo")
    wait_until(lambda: "#" not in _editor_text(b.page))
    assert "hey" in _editor_text(b.page) and _editor_text(a.page) == _editor_text(b.page)
    expect(b.page.locator("#ed-status")).to_have_attribute("data-state", "saved")

    # A third browser, after a reload, sees the same; the room saves the document.
    third = owner.new_page()
    third.goto(f"{site}/a/{art['id']}/edit")
    expect(third.locator("#ed-status")).to_have_attribute("data-state", "saved")
    third.reload()
    expect(third.locator("#ed-status")).to_have_attribute("data-state", "saved")
    wait_until(lambda: _editor_text(third) == _editor_text(a.page))
    expect(third.locator("#chat-log li")).to_contain_text(["nice lettering"])  # history
    wait_until(lambda: "hey" in http.get(f"/api/artworks/{art['id']}").json()["frames"][0]["text"])

    # A view link opens the viewer, not the editor.
    view = http.post(
        f"/api/artworks/{art['id']}/shares", json={"permission": "view", "expires_in": 3600}
    ).json()
    reader = guest.new_page()
    reader.goto(f"{site}/a/{art['id']}/edit?share={view['token']}")
    reader.wait_for_url(f"**/a/{art['id']}?share=*")
    expect(reader.locator("pre#art")).to_be_visible()
    a.check()
    b.check()
    guest.close()
    owner.close()


def test_frames_timeline_in_the_editor(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context, http, _handle = logged_in(browser, site)
    art = http.post(
        "/api/artworks", json={"title": "Frames", "frames": [{"text": "one  \n     "}]}
    ).json()
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{site}/a/{art['id']}/edit")
    expect(page.locator("#ed-status")).to_have_attribute("data-state", "saved")
    page.focus("#ed-canvas")  # drawing from the keyboard alone
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    wait_until(lambda: _editor_text(page) == "one  \n #   ")
    expect(page.locator("#ed-status")).to_have_attribute("data-state", "saved")
    page.click("#ed-dup")
    expect(page.locator("#ed-frames li")).to_have_count(2)
    page.fill("#ed-duration", "250")
    page.press("#ed-duration", "Enter")
    expect(page.locator("#ed-frames li").nth(1)).to_have_text("2 · 250 ms")
    page.click("#ed-left")
    expect(page.locator("#ed-frames li").nth(0)).to_have_text("1 · 250 ms")
    page.click("#ed-add")
    expect(page.locator("#ed-frames li")).to_have_count(3)
    page.click("#ed-delete")
    expect(page.locator("#ed-frames li")).to_have_count(2)
    page.check("#ed-onion")
    watched.shot("editor-frames")
    wait_until(lambda: len(http.get(f"/api/artworks/{art['id']}").json()["frames"]) == 2)
    frames = http.get(f"/api/artworks/{art['id']}").json()["frames"]
    assert [f["duration_ms"] for f in frames] == [250, 100]
    watched.check()
    context.close()


def test_the_artwork_page_shows_how_many_watch(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    http, _handle = api_user(site)
    art = http.post(
        "/api/artworks",
        json={"title": "Watched", "visibility": "public", "frames": [{"text": "o"}]},
    ).json()
    first = browser.new_context()
    second = browser.new_context()
    one = Watched(first.new_page())
    one.page.goto(f"{site}/a/{art['id']}")
    expect(one.page.locator("#live-viewers")).to_have_text("1 watching now")
    two = second.new_page()
    two.goto(f"{site}/a/{art['id']}")
    expect(one.page.locator("#live-viewers")).to_have_text("2 watching now")
    two.close()
    expect(one.page.locator("#live-viewers")).to_have_text("1 watching now")
    one.check()
    first.close()
    second.close()


def test_the_gallery_scrolls_on_with_the_cursor(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    http, _handle = api_user(site)
    tag = new_handle("t").replace("-", "")
    for n in range(9):
        http.post(
            "/api/artworks",
            json={
                "title": f"Scroll {n}",
                "visibility": "public",
                "tags": [tag],
                "frames": [{"text": str(n)}],
            },
        ).raise_for_status()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    page = watched.page
    first = http.get(f"/?tag={tag}").text
    assert first.count('<li class="card">') == 4 and 'id="more"' in first  # one page in HTML
    page.goto(f"{site}/?tag={tag}")
    cards = page.locator(".card .title")
    page.mouse.wheel(0, 5000)
    expect(cards).to_have_count(9)  # two more pages came from /api/gallery with the cursor
    expect(page.locator("#more")).to_have_count(0)
    titles = cards.all_inner_texts()
    assert titles == [f"Scroll {n}" for n in range(8, -1, -1)]  # newest first, no repeats
    watched.check()
    context.close()


def test_watch_together_follows_the_host(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    host_context, http, _handle = logged_in(browser, site)
    art = http.post(
        "/api/artworks",
        json={"title": "Together", "visibility": "public", "frames": coloured_frames(20, 4, 3)},
    ).json()
    host = Watched(host_context.new_page())
    host.page.goto(f"{site}/a/{art['id']}")
    expect(host.page.locator("#host")).to_be_visible()
    host.page.check("#host input")
    viewer_context = browser.new_context()
    viewer = Watched(viewer_context.new_page())
    viewer.page.goto(f"{site}/a/{art['id']}")
    expect(viewer.page.locator("#live-viewers")).to_have_text("2 watching now")
    assert viewer.page.locator("#host").is_hidden()  # only editors host
    host.page.click("#play")  # pause
    host.page.locator("#scrub").fill("2")  # the last frame
    expect(host.page.locator("#position")).to_have_text("3 / 3")
    expect(viewer.page.locator("#position")).to_have_text("3 / 3")
    expect(viewer.page.locator("#play")).to_have_attribute("aria-pressed", "false")
    host.page.click("#play")
    expect(viewer.page.locator("#play")).to_have_attribute("aria-pressed", "true")
    host.check()
    viewer.check()
    viewer_context.close()
    host_context.close()


def test_the_owner_edits_title_visibility_and_tags(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    context, http, _handle = logged_in(browser, site)
    art = http.post(
        "/api/artworks", json={"title": "Draft", "frames": [{"text": "hello\nthere"}]}
    ).json()
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{site}/a/{art['id']}")
    page.click("[data-open=edit-dialog]")
    page.fill("#edit-title", "Renamed")
    page.select_option("#edit-visibility", "public")
    page.fill("#edit-tags", "greetings, Words")
    watched.shot("edit-details")
    page.click("#edit-form button[type=submit]")
    expect(page.locator("#art-title")).to_have_text("Renamed")
    expect(page.locator(".art-head .badge")).to_have_text("public")
    saved = http.get(f"/api/artworks/{art['id']}").json()
    assert (saved["title"], saved["visibility"], saved["tags"]) == (
        "Renamed",
        "public",
        ["greetings", "words"],
    )
    page.goto(site + "/?tag=greetings")  # public now: in the gallery under its tag
    expect(page.locator(".card .title")).to_have_text(["Renamed"])
    watched.check()
    context.close()


def test_the_editor_tools(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    rows, cols = 6, 12
    context, http, _handle = logged_in(browser, site)
    art = http.post(
        "/api/artworks",
        json={"title": "Tools", "frames": [{"text": "\n".join([" " * cols] * rows)}]},
    ).json()
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{site}/a/{art['id']}/edit")
    expect(page.locator("#ed-status")).to_have_attribute("data-state", "saved")

    def cell(r: int, c: int) -> tuple[float, float]:
        return _cell(page, r, c, rows, cols)

    def drag(tool: str, a: tuple[int, int], b: tuple[int, int]) -> None:
        page.click(f"label.tool:has(input[value={tool}])")
        page.mouse.move(*cell(*a))
        page.mouse.down()
        page.mouse.move(*cell(*b), steps=6)
        page.mouse.up()

    def grid() -> list[str]:
        return _editor_text(page).split("\n")

    def becomes(expected: list[str]) -> None:
        wait_until(lambda: grid() == expected)

    page.fill("#ed-char", "*")
    drag("rect", (1, 1), (4, 8))
    box = [" " * cols, " ******** ", " *      * ", " *      * ", " ******** ", " " * cols]
    becomes([line.ljust(cols) for line in box])

    page.fill("#ed-char", ".")
    page.click("label.tool:has(input[value=fill])")
    page.mouse.click(*cell(2, 3))
    box[2] = box[3] = " *......* "
    becomes([line.ljust(cols) for line in box])

    page.fill("#ed-char", "-")
    drag("line", (5, 0), (5, cols - 1))
    box[5] = "-" * cols
    becomes([line.ljust(cols) for line in box])

    page.fill("#ed-char", "x")  # the eyedropper takes the character under it
    page.click("label.tool:has(input[value=pick])")
    page.mouse.click(*cell(1, 1))
    expect(page.locator("#ed-char")).to_have_value("*")

    page.click("label.tool:has(input[value=erase])")
    page.mouse.click(*cell(4, 8))
    erased = [line.ljust(cols) for line in box]
    erased[4] = erased[4][:8] + " " + erased[4][9:]
    becomes(erased)
    page.keyboard.press("Control+z")  # undo brings the cell back, redo takes it again
    becomes([line.ljust(cols) for line in box])
    page.click("#ed-redo")
    becomes(erased)

    # Select two rows of three cells, copy, move the cursor with the keys and paste.
    drag("select", (1, 1), (2, 3))
    page.keyboard.press("Control+c")
    page.keyboard.press("ArrowUp")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+v")
    pasted = list(erased)
    pasted[1] = pasted[1][:9] + "***"
    pasted[2] = pasted[2][:9] + "*.."
    becomes(pasted)
    expect(page.locator("#ed-status")).to_have_attribute("data-state", "saved")

    def stored() -> list[str]:  # the room saves what everyone sees
        text = http.get(f"/api/artworks/{art['id']}").json()["frames"][0]["text"]
        return [line.rstrip() for line in text.split("\n")]

    wait_until(lambda: stored() == [line.rstrip() for line in pasted])

    # A colour: red ink drawn at the corner is stored per cell; the eyedropper reads it.
    page.click("label.tool:has(input[value=draw])")
    page.uncheck("#ed-fg-none")
    page.fill("#ed-fg", "#ff0000")
    page.fill("#ed-char", "@")
    page.mouse.click(*cell(0, 0))

    def corner_ink() -> bytes:
        frame = http.get(f"/api/artworks/{art['id']}").json()["frames"][0]
        return base64.b64decode(frame.get("colors") or "")[:3]

    wait_until(lambda: corner_ink() == b"\xff\x00\x00")
    page.check("#ed-fg-none")
    page.click("label.tool:has(input[value=pick])")
    page.mouse.click(*cell(0, 0))
    expect(page.locator("#ed-fg")).to_have_value("#ff0000")
    expect(page.locator("#ed-fg-none")).not_to_be_checked()
    watched.shot("editor-tools")
    watched.check()
    context.close()
