"""Property: every public artwork appears exactly once across pages while others arrive."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asciihub.bootstrap import build_services
from asciihub.services.gallery import PageQuery
from asciihub.services.principals import LOCAL
from tests.stack import make_settings

plans = st.lists(
    st.tuples(st.sampled_from(["public", "private", "unlisted"]), st.integers(0, 3)),
    min_size=1,
    max_size=12,
)


async def _run(
    data_dir: Path, initial: list[tuple[str, int]], arriving: list[str], limit: int, sort: str
) -> None:
    built = await build_services(make_settings(data_dir))
    try:
        public: set[str] = set()
        for visibility, views in initial:
            art = await built.artworks.create(
                LOCAL, {"visibility": visibility, "frames": [{"text": "x"}]}
            )
            if visibility == "public":
                public.add(art["id"])
            for _ in range(views):
                built.views.count(art["id"])
        await built.views.flush()
        seen: list[str] = []
        cursor = None
        arrivals = iter(arriving)
        while True:
            body = await built.gallery.public_page(PageQuery(sort=sort, limit=limit, cursor=cursor))  # type: ignore[arg-type]
            import orjson

            page = orjson.loads(body)
            seen.extend(item["id"] for item in page["items"])
            visibility = next(arrivals, None)
            if visibility is not None:  # someone publishes while we page
                await built.artworks.create(
                    LOCAL, {"visibility": visibility, "frames": [{"text": "y"}]}
                )
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)), "an artwork appeared twice"
        assert public <= set(seen), "an artwork that existed before paging was skipped"
    finally:
        await built.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    initial=plans,
    arriving=st.lists(st.sampled_from(["public", "private"]), max_size=4),
    limit=st.integers(1, 5),
    sort=st.sampled_from(["new", "popular"]),
)
def test_pages_are_stable(
    tmp_path_factory: Any, initial: Any, arriving: Any, limit: int, sort: str
) -> None:
    data_dir = tmp_path_factory.mktemp("pages")
    asyncio.run(_run(data_dir, initial, arriving, limit, sort))
