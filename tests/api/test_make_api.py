"""The making routes (banner, remix, templates) and the site's HTML pages, in-process."""

from __future__ import annotations

from typing import Any

import httpx

from tests.users import signup


async def test_banner_draws_text_and_refuses_bad_input(client: Any) -> None:
    drawn = await client.post("/api/banner", json={"text": "Hi", "font": "standard"})
    assert drawn.status_code == 200
    body = drawn.json()
    assert body["font"] == "standard" and body["height"] == len(body["text"].split("\n"))
    assert "|_| |_|" in body["text"]
    bordered = (await client.post("/api/banner", json={"text": "Hi", "border": "ascii"})).json()
    assert bordered["text"].startswith("+-") and bordered["width"] > body["width"]
    for payload, status, code in (
        ({"text": ""}, 400, "invalid_text"),
        ({"text": "x" * 501}, 413, "text_too_long"),
        ({"text": "hi", "font": "no-such-font"}, 400, "invalid_font"),
        ({"text": "hi", "width": 5}, 400, "invalid_width"),
        ({"text": "hi", "align": "middle"}, 400, "invalid_option"),
        ({"text": "hi", "colour": "red"}, 400, "unknown_field"),
        (["hi"], 400, "invalid_body"),
    ):
        answer = await client.post("/api/banner", json=payload)
        assert answer.status_code == status, (payload, answer.text)
        assert answer.json()["error"]["code"] == code


async def test_remix_copies_a_public_artwork_crediting_it(client: Any) -> None:
    original = (
        await client.post(
            "/api/artworks",
            json={
                "title": "Cat",
                "visibility": "public",
                "tags": ["cats"],
                "frames": [{"text": "=^.^=", "duration_ms": 80}, {"text": "=^-^="}],
            },
        )
    ).json()
    transport = client._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await signup(other)
        response = await other.post(f"/api/artworks/{original['id']}/remix", json={})
        assert response.status_code == 201, response.text
        remix = response.json()
        assert remix["owner"] != original["owner"] and remix["visibility"] == "private"
        assert remix["title"] == "Cat (remix)" and remix["tags"] == ["cats", "remix"]
        assert remix["prompt"] == f"remix of /a/{original['id']} by @{original['owner']}"
        copied = (await other.get(f"/api/artworks/{remix['id']}")).json()
        assert [f["text"] for f in copied["frames"]] == ["=^.^=", "=^-^="]
        assert copied["frames"][0]["duration_ms"] == 80
        page = await other.get(f"/a/{remix['id']}")
        assert f'href="/a/{original["id"]}"' in page.text  # the credit links the original
        named = await other.post(
            f"/api/artworks/{original['id']}/remix", json={"title": "Mine", "visibility": "public"}
        )
        assert named.json()["title"] == "Mine" and named.json()["visibility"] == "public"
        bad = await other.post(f"/api/artworks/{original['id']}/remix", json={"frames": []})
        assert bad.status_code == 400
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as nobody:
        anonymous = await nobody.post(f"/api/artworks/{original['id']}/remix", json={})
        assert anonymous.status_code == 401


async def test_templates_list_popular_public_artworks(client: Any) -> None:
    await client.post(
        "/api/artworks",
        json={"title": "Starter", "visibility": "public", "frames": [{"text": "[ ]"}]},
    )
    await client.post(
        "/api/artworks",
        json={"title": "Hidden", "visibility": "private", "frames": [{"text": "x"}]},
    )
    items = (await client.get("/api/templates")).json()["items"]
    assert [item["title"] for item in items] == ["Starter"]


async def test_site_pages_answer_html_and_the_api_json(client: Any) -> None:
    for path in ("/", "/new", "/settings", "/login", "/signup"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert 'href="/new"' in response.text and "Log out" in response.text
    missing = await client.get("/settings/nothing")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Nothing here" in missing.text
    api = await client.get("/api/settings")
    assert api.status_code == 404 and api.json()["error"]["code"] == "route_not_found"
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    logged_out = await client.post("/api/auth/logout")
    assert logged_out.status_code == 204
    assert (await client.get("/settings")).status_code == 303
    home = await client.get("/")
    assert "Sign up" in home.text and "Log out" not in home.text


async def test_artwork_page_embeds_frames_safely_and_counts_views(client: Any) -> None:
    art = (
        await client.post(
            "/api/artworks",
            json={
                "title": "</script><b>x</b>",
                "visibility": "public",
                "frames": [{"text": "</script>\u2028&<!--"}],
            },
        )
    ).json()
    page = (await client.get(f"/a/{art['id']}")).text
    island = page.split('<script type="application/json" id="frames">', 1)[1].split("</script>")[0]
    assert "<" not in island and ">" not in island and "&" not in island
    assert "\u2028" not in island and "\\u003c/script\\u003e" in island
    assert "<b>x</b>" not in page
    assert 'property="og:image"' in page and 'name="twitter:card"' in page
    services = client.app.starlette.state.services
    assert services.views.pending >= 1
    oembed = await client.get("/oembed", params={"url": f"http://testserver/a/{art['id']}"})
    assert oembed.status_code == 200 and oembed.json()["type"] == "rich"
    embed = await client.get(f"/embed/{art['id']}")
    assert embed.status_code == 200 and 'id="art"' in embed.text
    # Other sites may frame the embed page, and only that page.
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    framed = await client.get(f"/a/{art['id']}")
    assert "frame-ancestors 'none'" in framed.headers["content-security-policy"]
    assert framed.headers["x-frame-options"] == "DENY"
    bad = await client.get("/oembed", params={"url": "http://testserver/elsewhere"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_url"


async def test_people_names_the_members_of_an_artwork_room(client: Any) -> None:
    art = (
        await client.post(
            "/api/artworks",
            json={"title": "Room", "visibility": "private", "frames": [{"text": "x"}]},
        )
    ).json()
    me = client.user
    found = await client.get(
        f"/api/artworks/{art['id']}/people", params={"ids": f"{me['id']},nope"}
    )
    assert found.status_code == 200 and found.json()["people"] == {me["id"]: me["handle"]}
    many = ",".join(f"id{n}" for n in range(51))
    too_many = await client.get(f"/api/artworks/{art['id']}/people", params={"ids": many})
    assert too_many.status_code == 400
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as other:
        hidden = await other.get(f"/api/artworks/{art['id']}/people", params={"ids": me["id"]})
        assert hidden.status_code == 404  # only those who may see the artwork
