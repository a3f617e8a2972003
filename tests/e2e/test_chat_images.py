"""Image attachments of room chat on a real ``asciihub serve``: HTTP upload, a chat
message over a real WebSocket naming it, another member fetching it, strangers 404.

The browser check at the end attaches an image in one Chromium context and sees it in
another. Waits are on messages or locators with deadlines; nothing sleeps.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench._room_client import RoomClient
from PIL import Image

from tests.conftest import service_missing
from tests.e2e.rooms_setup import Owner, new_artwork, new_owner, share
from tests.e2e.servers import running_server
from tests.users import PASSWORD, new_handle

pytestmark = pytest.mark.e2e

LIMITS = {
    "ASCIIHUB_ROOM_CHAT_IMAGE_MAX_BYTES": "20000",
    "ASCIIHUB_ROOM_CHAT_IMAGE_MAX_PIXELS": "40000",
    "ASCIIHUB_ROOM_PRESENCE_DEBOUNCE": "0.05",
}


def image_bytes(fmt: str, size: tuple[int, int] = (24, 16)) -> bytes:
    """A small image in ``fmt`` (PNG, JPEG, GIF, WEBP)."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
async def server(data_dir: Path) -> AsyncIterator[str]:
    """One embedded server with small chat image limits."""
    with running_server(data_dir, LIMITS) as (url, _proc):
        yield url


async def _upload(
    base: str, owner: Owner | None, artwork_id: str, data: bytes, **kwargs: Any
) -> httpx.Response:
    headers = {**(owner.headers if owner else {}), **kwargs.pop("headers", {})}
    async with httpx.AsyncClient(base_url=base, headers=headers) as http:
        return await http.post(f"/api/artworks/{artwork_id}/chat/images", **kwargs, content=data)


async def test_an_attached_image_reaches_members_only(server: str) -> None:
    owner = await new_owner(server)
    member = await new_owner(server)
    stranger = await new_owner(server)
    art = await new_artwork(server, owner)  # private: members are the owner and link holders
    link = await share(server, owner, art["id"], "view")
    png = image_bytes("PNG")
    made = await _upload(
        server, owner, art["id"], png, headers={"Content-Type": "application/octet-stream"}
    )
    assert made.status_code == 201, made.text
    image = made.json()
    assert image["type"] == "image/png" and (image["width"], image["height"]) == (24, 16)
    assert image["size"] == len(png) and image["user_id"] == owner.user_id

    sender = RoomClient(server, art["id"], client_id="sender", token=owner.token)
    reader = RoomClient(server, art["id"], client_id="reader", token=member.token, share=link)
    chats: list[dict[str, Any]] = []
    await sender.connect()
    await reader.connect()
    reader.on_message = lambda m: chats.append(m) if m["type"] == "chat" else None
    await sender.send({"type": "chat", "text": "look", "image": image["id"]})
    await reader.wait_until(lambda: bool(chats))
    assert chats[0]["text"] == "look" and chats[0]["image"] == image
    await sender.send({"type": "chat", "image": image["id"]})  # an image alone is a message
    await reader.wait_until(lambda: len(chats) == 2)
    assert chats[1]["text"] == "" and chats[1]["image"]["id"] == image["id"]

    async with httpx.AsyncClient(base_url=server, headers=member.headers) as http:
        got = await http.get(image["url"], params={"share": link})
        assert got.status_code == 200 and got.content == png
        assert got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff"
        again = await http.get(
            image["url"], params={"share": link}, headers={"If-None-Match": got.headers["etag"]}
        )
        assert again.status_code == 304
    # A late joiner sees the attachment in the chat of its welcome.
    late = RoomClient(server, art["id"], client_id="late", token=owner.token)
    welcome = await late.connect()
    assert [m.get("image", {}).get("id") for m in welcome["chat"]] == [image["id"]] * 2

    # Strangers and anonymous callers get exactly the 404 of an id that never existed.
    missing_url = image["url"].rsplit("/", 1)[0] + "/" + "A" * 22
    async with httpx.AsyncClient(base_url=server, headers=owner.headers) as http:
        missing = await http.get(missing_url)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "chat_image_not_found"
    for headers in ({}, stranger.headers):
        async with httpx.AsyncClient(base_url=server, headers=headers) as http:
            refused = await http.get(image["url"])
        assert (refused.status_code, refused.content) == (404, missing.content)
    # The stranger cannot attach to the private room either.
    assert (await _upload(server, stranger, art["id"], png)).status_code == 404
    for client in (sender, reader, late):
        await client.close()


async def test_bad_uploads_and_foreign_attachments_are_refused(server: str) -> None:
    owner = await new_owner(server)
    other = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public")
    elsewhere = await new_artwork(server, owner, visibility="public")
    cases = [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415, "unsupported_chat_image"),
        (image_bytes("BMP"), 415, "unsupported_chat_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 415, "invalid_chat_image"),
        (image_bytes("PNG", (300, 300)), 413, "chat_image_too_many_pixels"),
        (Image.effect_noise((120, 120), 90).tobytes() * 2, 413, "chat_image_too_large"),
        (b"", 400, "empty_upload"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, 415, "unsupported_chat_image"),
    ]
    for data, status, code in cases:
        refused = await _upload(
            server, owner, art["id"], data, headers={"Content-Type": "image/png"}
        )
        assert refused.status_code == status, (code, refused.text)
        assert refused.json()["error"]["code"] == code
    # Anonymous callers may not attach; a multipart JPEG is fine for a signed-in viewer.
    assert (await _upload(server, None, art["id"], image_bytes("PNG"))).status_code == 401
    async with httpx.AsyncClient(base_url=server, headers=other.headers) as http:
        jpeg = await http.post(
            f"/api/artworks/{art['id']}/chat/images",
            files={"file": ("x.png", image_bytes("JPEG"), "image/png")},
        )
        gif = await http.post(
            f"/api/artworks/{elsewhere['id']}/chat/images", content=image_bytes("GIF")
        )
    assert jpeg.status_code == 201 and jpeg.json()["type"] == "image/jpeg"
    assert gif.status_code == 201 and gif.json()["type"] == "image/gif"
    # A chat message may name only the sender's own image of this very room.
    mine = await _upload(server, owner, art["id"], image_bytes("WEBP"))
    assert mine.status_code == 201 and mine.json()["type"] == "image/webp"
    chatter = RoomClient(server, art["id"], client_id="chatter", token=other.token)
    await chatter.connect()
    for image_id in (mine.json()["id"], gif.json()["id"], "nope", 5):
        await chatter.send({"type": "chat", "text": "hi", "image": image_id})
    await chatter.wait_until(lambda: len(chatter.errors) == 4)
    assert {e["error"]["code"] for e in chatter.errors} == {"invalid_chat_image"}
    assert not chatter.closed.is_set()
    await chatter.close()


# --- the browser editor's chat -----------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium (skipped with a reason when it is not installed)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        service_missing("Chromium is not installed (make test installs Debian's chromium)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def _context(browser: Any, base: str) -> tuple[Any, Owner]:
    """A browser context logged in as a new user (its session cookie)."""
    http = httpx.Client(base_url=base, headers={"Origin": base})
    handle = new_handle("chat")
    signed = http.post("/api/auth/signup", json={"handle": handle, "password": PASSWORD})
    assert signed.status_code == 201, signed.text
    token = http.post("/api/tokens", json={"name": "t", "scopes": ["read", "write"]})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in http.cookies.jar])
    http.close()
    return context, Owner(signed.json()["user"]["id"], token.json()["token"])


@pytest.mark.browser
@pytest.mark.slow
def test_an_image_attached_in_one_editor_shows_in_the_other(browser: Any, data_dir: Path) -> None:
    from playwright.sync_api import expect

    with running_server(data_dir, LIMITS) as (base, _proc):
        owner_context, owner = _context(browser, base)
        editor_context, _editor = _context(browser, base)
        with httpx.Client(base_url=base, headers=owner.headers) as http:
            art = http.post(
                "/api/artworks",
                json={"title": "pics", "visibility": "private", "frames": [{"text": "abc"}]},
            ).json()
            link = http.post(
                f"/api/artworks/{art['id']}/shares",
                json={"permission": "edit", "expires_in": 3600},
            ).json()["token"]
        errors: list[str] = []
        a, b = owner_context.new_page(), editor_context.new_page()
        for page in (a, b):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        a.goto(f"{base}/a/{art['id']}/edit")
        b.goto(f"{base}/a/{art['id']}/edit?share={link}")
        for page in (a, b):
            expect(page.locator("#ed-status")).to_have_attribute("data-state", "saved")
        a.fill("#chat-text", "a red square")
        a.set_input_files(
            "#chat-image",
            {"name": "square.png", "mimeType": "image/png", "buffer": image_bytes("PNG")},
        )
        for page in (a, b):
            item = page.locator("#chat-log li").filter(has_text="a red square")
            expect(item.locator("img.chat-image")).to_have_count(1)
            page.wait_for_function(
                "() => { const i = document.querySelector('#chat-log img.chat-image');"
                " return i && i.complete && i.naturalWidth === 24; }",
                timeout=15000,
            )
        # A file that is not an image is refused with the server's message.
        b.set_input_files(
            "#chat-image", {"name": "x.png", "mimeType": "image/png", "buffer": b"not a png"}
        )
        expect(b.locator("#chat-error")).to_contain_text("PNG, JPEG, GIF or WebP")
        expect(a.locator("#chat-log img.chat-image")).to_have_count(1)
        assert not errors
        owner_context.close()
        editor_context.close()
