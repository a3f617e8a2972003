"""The artwork page's JSON island holds any frame text without breaking the page.

Parsed with html5lib, which tokenises as the WHATWG HTML standard (and so every
browser) does, including the script-data escape states ``<!--<script`` enters.
"""

from __future__ import annotations

from typing import Any

import html5lib
import orjson
import pytest

NASTY = [
    "<!--<script>",
    "<!--<script ",  # the space (or a padded shorter line) enters the double-escaped state
    "</script><p id=injected>x</p>",
    "<!-- a & b > c -->",
    "line\u2028sep\u2029end",
]


@pytest.mark.parametrize("text", NASTY)
async def test_frame_text_cannot_break_out_of_the_json_island(client: Any, text: str) -> None:
    frames = [{"text": text, "duration_ms": 100}, {"text": "after", "duration_ms": 100}]
    made = await client.post("/api/artworks", json={"visibility": "public", "frames": frames})
    assert made.status_code == 201, made.text
    page = await client.get(f"/a/{made.json()['id']}")
    assert page.status_code == 200

    tree = html5lib.parse(page.text, namespaceHTMLElements=False)
    island = tree.find(".//script[@id='frames']")
    assert island is not None
    data = orjson.loads(island.text or "")
    stored = (await client.get(f"/api/artworks/{made.json()['id']}")).json()
    assert [frame["text"] for frame in data["frames"]] == [f["text"] for f in stored["frames"]]
    sources = [element.get("src") or "" for element in tree.iter("script")]
    assert any(src.startswith("/static/player.js") for src in sources)  # the page goes on
    assert tree.find(".//*[@id='injected']") is None
