"""Procedural scenes: each yields ``float32`` (rows, columns) light fields in [0, 1].

A scene is a generator function ``(rows, columns, frames, rng) -> Iterator[field]``,
deterministic for a given ``numpy.random.Generator`` seed. ``SCENES`` lists them with
the prompt words that choose them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from asciihub.engine.scenes import fields, particles

Field = npt.NDArray[np.float32]
SceneFunction = Callable[[int, int, int, np.random.Generator], Iterator[Field]]


@dataclass(frozen=True)
class Scene:
    """A named scene, the words that choose it, and its field generator."""

    name: str
    keywords: tuple[str, ...]
    description: str
    make: SceneFunction


SCENES: tuple[Scene, ...] = (
    Scene("fire", ("fire", "flame", "burn", "inferno", "campfire", "hot", "blaze"),
          "rising flames", particles.fire),
    Scene("rain", ("rain", "storm", "drizzle", "shower", "wet", "rainy"),
          "falling rain streaks", particles.rain),
    Scene("snow", ("snow", "winter", "blizzard", "flake", "christmas", "cold", "snowy"),
          "drifting snowflakes", particles.snow),
    Scene("starfield", ("star", "space", "warp", "hyperspace", "cosmos", "universe", "night"),
          "flying through stars", particles.starfield),
    Scene("matrix", ("matrix", "code", "hacker", "digital", "cyber", "terminal"),
          "falling code trails", particles.matrix),
    Scene("life", ("life", "conway", "cell", "cellular", "automaton", "game", "evolve"),
          "Conway's game of life", particles.life),
    Scene("fireworks", ("firework", "celebration", "party", "explosion", "celebrate", "new"),
          "bursting fireworks", particles.fireworks),
    Scene("plasma", ("plasma", "psychedelic", "lava", "trippy", "groovy", "retro"),
          "a flowing plasma", fields.plasma),
    Scene("waves", ("wave", "sine", "ripple", "vibe", "pulse", "sound"),
          "interfering waves", fields.waves),
    Scene("tunnel", ("tunnel", "vortex", "wormhole", "portal", "travel"),
          "a tunnel rushing by", fields.tunnel),
    Scene("spiral", ("spiral", "hypnotic", "swirl", "twist", "galaxy", "hypnosis"),
          "a turning spiral", fields.spiral),
    Scene("clouds", ("cloud", "sky", "fog", "mist", "smoke", "weather", "cloudy"),
          "clouds drifting by", fields.clouds),
    Scene("ocean", ("ocean", "sea", "beach", "surf", "tide", "water", "sail"),
          "waves rolling to the horizon", fields.ocean),
    Scene("aurora", ("aurora", "northern", "borealis", "lights", "polar"),
          "curtains of the northern lights", fields.aurora),
)  # fmt: skip
"""Every scene, in the order a prompt's words are matched against them."""

__all__ = ["SCENES", "Field", "Scene", "SceneFunction"]
