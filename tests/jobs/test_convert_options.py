"""Conversion options: dithering and the tone curve reach the engine, bad ones are 400s."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from asciihub.engine import convert
from asciihub.engine.charsets import DITHER_MODES, TONE_MODES
from tests.jobs.conftest import wait_job


def _gradient(width: int = 96, height: int = 48) -> bytes:
    image = Image.new("L", (width, height))
    for x in range(width):
        for y in range(height):
            image.putpixel((x, y), (x * 255 // (width - 1) + y) % 256)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return out.getvalue()


async def _converted(client: Any, data: dict[str, str]) -> str:
    files = {"file": ("gradient.png", _gradient(), "image/png")}
    response = await client.post("/api/convert", files=files, data=data)
    assert response.status_code == 202, response.text
    job = await wait_job(client, response.json()["job_id"])
    assert job["status"] == "done", job
    artwork = (await client.get(f"/api/artworks/{job['artwork_id']}")).json()
    return str(artwork["frames"][0]["text"])


async def test_dither_and_tone_reach_the_engine(jobs_client: Any) -> None:
    aspect = jobs_client.services.settings.engine_cell_aspect
    base = {"width": "30", "style": "simple", "color": "none"}
    plain = await _converted(jobs_client, base)
    dithered = await _converted(jobs_client, {**base, "dither": "floyd-steinberg"})
    linear = await _converted(jobs_client, {**base, "tone": "linear"})
    image = _gradient()

    def engine(**options: str) -> str:
        return convert(image, width=30, style="simple", cell_aspect=aspect, **options).text

    assert plain == engine(dither="auto", tone="perceptual")
    assert dithered == engine(dither="floyd-steinberg")
    assert linear == engine(tone="linear")
    assert dithered != plain and linear != plain


@pytest.mark.parametrize(("field", "choices"), [("dither", DITHER_MODES), ("tone", TONE_MODES)])
async def test_unknown_dither_or_tone_lists_the_choices(
    jobs_client: Any, field: str, choices: tuple[str, ...]
) -> None:
    files = {"file": ("gradient.png", _gradient(), "image/png")}
    response = await jobs_client.post("/api/convert", files=files, data={field: "sparkle"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == f"invalid_{field}"
    assert all(choice in error["message"] for choice in choices)


def test_the_openapi_document_lists_the_engine_choices() -> None:
    from asciihub.api.openapi_jobs import JOB_SCHEMAS

    fields = JOB_SCHEMAS["ConvertRequest"]["properties"]
    assert tuple(fields["dither"]["enum"]) == DITHER_MODES
    assert fields["dither"]["default"] == DITHER_MODES[0]
    assert tuple(fields["tone"]["enum"]) == TONE_MODES
    assert fields["tone"]["default"] == TONE_MODES[0]
