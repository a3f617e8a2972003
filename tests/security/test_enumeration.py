"""Goal S2, enumeration: ids derived from known ones never open another artwork."""

from __future__ import annotations

import base64
import dataclasses
import random
from typing import Any

import httpx
import pytest

from asciihub.api.app import create_app
from tests.users import signup

pytestmark = pytest.mark.slow

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def derived_ids(known: list[str], count: int, seed: int = 7) -> set[str]:
    """Neighbours of known ids: one character changed, ±1 on the number, shared prefixes."""
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        base = rng.choice(known)
        kind = rng.randrange(3)
        if kind == 0:  # one character changed
            at = rng.randrange(len(base))
            candidate = base[:at] + rng.choice(ALPHABET) + base[at + 1 :]
        elif kind == 1:  # the id read as a number, plus or minus a little
            raw = int.from_bytes(base64.urlsafe_b64decode(base + "=="), "big")
            raw += rng.randint(-512, 512)
            candidate = base64.urlsafe_b64encode(raw.to_bytes(16, "big")).decode().rstrip("=")
        else:  # the same prefix, a random tail
            keep = rng.randrange(4, 20)
            tail = "".join(rng.choice(ALPHABET) for _ in range(22 - keep))
            candidate = base[:keep] + tail
        if candidate not in known:
            found.add(candidate)
    return found


async def test_derived_ids_open_nothing(embedded_settings: Any) -> None:
    # Rate limits would refuse most guesses with 429; switched off, every guess must 404.
    app = create_app(dataclasses.replace(embedded_settings, rate_limits_enabled=False))
    async with app.starlette.router.lifespan_context(app.starlette):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as owner:
            await signup(owner)
            known = []
            for visibility in ("private", "unlisted") * 5:
                made = await owner.post(
                    "/api/artworks", json={"visibility": visibility, "frames": [{"text": "s"}]}
                )
                known.append(made.json()["id"])
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as stranger:
            opened = []
            for candidate in derived_ids(known, 10_000):
                response = await stranger.get(f"/api/artworks/{candidate}")
                if response.status_code != 404:
                    opened.append((candidate, response.status_code))
    assert opened == []
