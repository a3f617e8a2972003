"""Gallery and profile listings: order, search, cursors, cache invalidation."""

from __future__ import annotations

from typing import Any

from tests.api.test_artworks_api import create


async def pages(client: Any, url: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_gallery_shows_public_only_newest_first(client: Any) -> None:
    public = [await create(client, title=f"public {i}") for i in range(5)]
    await create(client, title="hidden", visibility="private")
    await create(client, title="link only", visibility="unlisted")
    items = await pages(client, "/api/gallery", limit=2)
    assert [item["id"] for item in items] == [art["id"] for art in reversed(public)]
    assert all("frames" not in item for item in items)


async def test_popular_sorts_by_views(client: Any) -> None:
    quiet = await create(client, title="quiet")
    loud = await create(client, title="loud")
    services = client.app.starlette.state.services
    import httpx

    for viewer in range(3):  # three viewers: one view each
        transport = httpx.ASGITransport(app=client.app, client=(f"10.0.0.{viewer}", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anon:
            assert (await anon.get(f"/api/artworks/{quiet['id']}")).status_code == 200
    await services.views.flush()
    await client.patch(f"/api/artworks/{loud['id']}", json={"title": "loud!"})  # bumps the cache
    items = await pages(client, "/api/gallery", sort="popular", limit=1)
    assert [item["id"] for item in items] == [quiet["id"], loud["id"]]
    assert items[0]["views"] == 3


async def test_search_by_title_prompt_and_tag(client: Any) -> None:
    cat = await create(client, title="Sleeping cat", prompt="a cozy kitten", tags=["animals"])
    await create(client, title="Rocket", prompt="space launch", tags=["space"])
    for query in ("cat", "sleep", "kitten", "animals", "SLEEPING Cat"):
        items = await pages(client, "/api/gallery", q=query)
        assert [item["id"] for item in items] == [cat["id"]], query
    assert await pages(client, "/api/gallery", q="submarine") == []
    assert await pages(client, "/api/gallery", q='"; DROP TABLE users; --') == []
    tagged = await pages(client, "/api/gallery", tag="space")
    assert [item["title"] for item in tagged] == ["Rocket"]


async def test_deleted_or_hidden_artworks_leave_cached_pages_at_once(client: Any) -> None:
    first = await create(client, title="first")
    second = await create(client, title="second")
    assert len(await pages(client, "/api/gallery")) == 2  # now cached
    await client.delete(f"/api/artworks/{first['id']}")
    assert [i["id"] for i in await pages(client, "/api/gallery")] == [second["id"]]
    await client.patch(f"/api/artworks/{second['id']}", json={"visibility": "unlisted"})
    assert await pages(client, "/api/gallery") == []


async def test_bad_listing_parameters(client: Any) -> None:
    for params, code in (
        ({"sort": "oldest"}, "invalid_sort"),
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "1000"}, "invalid_limit"),
        ({"limit": "ten"}, "invalid_limit"),
        ({"cursor": "garbage"}, "invalid_cursor"),
        ({"page": "2"}, "unknown_parameter"),
        ({"q": "x" * 201}, "query_too_long"),
    ):
        response = await client.get("/api/gallery", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == code


async def test_user_artworks(client: Any) -> None:
    mine = [await create(client, visibility=v) for v in ("public", "private", "unlisted")]
    items = await pages(client, f"/api/users/{client.user['handle']}/artworks", limit=2)
    assert {item["id"] for item in items} == {art["id"] for art in mine}
    client.cookies.clear()
    public = await pages(client, f"/api/users/{client.user['handle']}/artworks")
    assert [item["id"] for item in public] == [mine[0]["id"]]
    missing = await client.get("/api/users/nobody/artworks")
    assert missing.status_code == 404


async def test_a_missing_page_is_built_once_for_concurrent_requests(services: Any) -> None:
    """Twenty requests for a page not cached yet run one query; all get the same page."""
    import asyncio

    import orjson

    from asciihub.services.gallery import PageQuery
    from asciihub.services.principals import LOCAL

    for index in range(3):
        art = {"title": f"art {index}", "visibility": "public", "frames": [{"text": "x"}]}
        await services.artworks.create(LOCAL, art)
    repo = services.gallery.artworks
    queries = 0
    real_page = repo.page

    async def counted_page(*args: Any, **kwargs: Any) -> Any:
        nonlocal queries
        queries += 1
        return await real_page(*args, **kwargs)

    repo.page = counted_page
    try:
        bodies = await asyncio.gather(
            *(services.gallery.public_page(PageQuery(limit=10)) for _ in range(20))
        )
    finally:
        del repo.page
    assert queries == 1
    assert len(set(bodies)) == 1
    assert [item["title"] for item in orjson.loads(bodies[0])["items"]] == [
        "art 2",
        "art 1",
        "art 0",
    ]
