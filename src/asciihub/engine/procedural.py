"""Prompt to art: the generator interface and the built-in procedural generator.

A prompt's words choose a scene (``list_scenes`` says which words each understands);
quoted text in the prompt is drawn as a banner in the middle of the scene. The same
prompt, size, style and seed always give the same frames.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from asciihub.engine.color import codes_to_text
from asciihub.engine.document import Frame
from asciihub.engine.scenes import SCENES, Scene
from asciihub.engine.still import ConvertOptions, style_codes
from asciihub.errors import InvalidInput, TooLarge

_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{1,80})[\"“”«»]|'([^']{1,80})'")


@dataclass(frozen=True)
class GenerateLimits:
    """Caps on a generation request (callers fill them from settings)."""

    max_prompt_chars: int = 2000
    max_frames: int = 1000
    max_columns: int = 500
    max_rows: int = 300


class FrameGenerator(Protocol):
    """Anything that turns a prompt into frames: the procedural generator, an AI model."""

    def generate(
        self,
        prompt: str,
        *,
        frames: int,
        width: int,
        height: int,
        style: str,
        seed: int | None,
    ) -> Iterator[Frame]:
        """Yield ``frames`` frames of ``height`` lines by ``width`` cells."""
        ...


def check_request(
    prompt: str, *, frames: int, width: int, height: int, limits: GenerateLimits
) -> None:
    """Raise ``InvalidInput`` or ``TooLarge`` when a generation request breaks a rule."""
    if not prompt.strip():
        message = "the prompt is empty"
        raise InvalidInput(message, code="empty_prompt")
    if len(prompt) > limits.max_prompt_chars:
        message = (
            f"the prompt is {len(prompt)} characters, over the limit of {limits.max_prompt_chars}"
        )
        raise TooLarge(message, code="prompt_too_long")
    for name, value, cap in (
        ("frames", frames, limits.max_frames),
        ("width", width, limits.max_columns),
        ("height", height, limits.max_rows),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            message = f"{name} must be a whole number, at least 1 (got {value!r})"
            raise InvalidInput(message, code="invalid_size")
        if value > cap:
            message = f"{name} {value} is over the limit of {cap}"
            raise TooLarge(message, code="size_too_large")


def _words(prompt: str) -> list[str]:
    words = re.findall(r"[a-z]+", prompt.lower())
    return [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words]


def choose_scene(prompt: str) -> Scene:
    """The scene the prompt's first known word names; else one picked by the prompt's hash."""
    for word in _words(_QUOTED.sub(" ", prompt)):
        for scene in SCENES:
            if word in scene.keywords or word == scene.name:
                return scene
    digest = hashlib.sha256(prompt.strip().lower().encode()).digest()
    return SCENES[digest[0] % len(SCENES)]


def quoted_text(prompt: str) -> str | None:
    """The first quoted text in the prompt, if any."""
    match = _QUOTED.search(prompt)
    return next((group for group in match.groups() if group), None) if match else None


def seed_for(prompt: str, seed: int | None) -> int:
    """``seed``, or one derived from the prompt so the same prompt gives the same art."""
    if seed is not None:
        return seed
    return int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:8], "big")


def _banner_grid(text: str, width: int, height: int) -> npt.NDArray[np.uint32] | None:
    from asciihub.engine.figlet import banner_lines

    for font in ("standard", "small", "mini"):
        try:
            lines = banner_lines(text, font=font, width=max(10, width - 2))
        except InvalidInput:
            continue
        if len(lines) <= height - 2 and max(len(line) for line in lines) <= width - 2:
            break
    else:
        lines = [text[: max(1, width - 2)]]
    span = max(len(line) for line in lines)
    padded = [f" {line.ljust(span)} " for line in lines]
    raw = "".join(padded).encode("utf-32-le")
    grid = np.frombuffer(raw, dtype="<u4").reshape(len(padded), span + 2).astype(np.uint32)
    return grid if grid.shape[0] <= height and grid.shape[1] <= width else None


def _overlay(codes: npt.NDArray[np.uint32], grid: npt.NDArray[np.uint32]) -> None:
    rows, cols = codes.shape
    top, left = (rows - grid.shape[0]) // 2, (cols - grid.shape[1]) // 2
    codes[top : top + grid.shape[0], left : left + grid.shape[1]] = grid


def list_scenes() -> list[tuple[str, str, tuple[str, ...]]]:
    """Every scene as (name, description, the prompt words that choose it)."""
    return [(scene.name, scene.description, scene.keywords) for scene in SCENES]


class ProceduralGenerator:
    """The built-in generator: deterministic animated scenes, no network."""

    def __init__(self, limits: GenerateLimits | None = None) -> None:
        self.limits = limits or GenerateLimits()

    def generate(
        self,
        prompt: str,
        *,
        frames: int = 24,
        width: int = 80,
        height: int = 24,
        style: str = "dense",
        seed: int | None = None,
        fps: float = 10.0,
    ) -> Iterator[Frame]:
        """Yield ``frames`` frames of the scene the prompt chooses (see module doc)."""
        check_request(prompt, frames=frames, width=width, height=height, limits=self.limits)
        # Scenes are drawn in perceptual tone already and must not flicker, so no
        # per-frame stretch; ordered dithering keeps their soft gradients.
        options = ConvertOptions(
            width=width, height=height, style=style, dither="ordered", tone="linear"
        )
        options.check()
        scene = choose_scene(prompt)
        rng = np.random.default_rng(seed_for(prompt, seed))
        sub_rows, sub_cols = options.sub_cells
        text = quoted_text(prompt)
        grid = _banner_grid(text, width, height) if text else None
        duration = max(1, round(1000 / fps))
        for field in scene.make(height * sub_rows, width * sub_cols, frames, rng):
            # Scenes are drawn in perceptual tone; the styles read linear light.
            codes = style_codes(np.power(field, 2.2).astype(np.float32), options)
            if grid is not None:
                _overlay(codes, grid)
            yield Frame(text=codes_to_text(codes), duration_ms=duration)


def generate(
    prompt: str,
    *,
    frames: int = 24,
    width: int = 80,
    height: int = 24,
    style: str = "dense",
    seed: int | None = None,
    fps: float = 10.0,
    limits: GenerateLimits | None = None,
) -> Iterator[Frame]:
    """Prompt to frames with the procedural generator (same arguments, same art)."""
    return ProceduralGenerator(limits).generate(
        prompt, frames=frames, width=width, height=height, style=style, seed=seed, fps=fps
    )
