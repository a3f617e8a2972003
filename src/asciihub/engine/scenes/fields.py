"""Scenes drawn as closed-form fields of position and time: plasma, waves, tunnel ..."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

Field = npt.NDArray[np.float32]


def _grid(rows: int, cols: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Cell centres as (y, x) in units of cell width; y is doubled for 1:2 cells."""
    y = (np.arange(rows, dtype=np.float32)[:, None] - rows / 2) * 2.0
    x = np.arange(cols, dtype=np.float32)[None, :] - cols / 2
    return y, x


def _unit(values: npt.NDArray[np.floating[Any]]) -> Field:
    return np.asarray(np.clip(values, 0.0, 1.0), dtype=np.float32)


def plasma(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Sum of moving sines, the demo-scene plasma."""
    y, x = _grid(rows, cols)
    k = rng.uniform(0.06, 0.14, size=4).astype(np.float32)
    for t in range(frames):
        s = t * 0.25
        v = np.sin(x * k[0] + s) + np.sin(y * k[1] - s * 0.7)
        v += np.sin((x + y) * k[2] + s * 1.3) + np.sin(np.hypot(x, y) * k[3] - s)
        yield _unit((v + 4) / 8)


def waves(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Two circular wave sources interfering."""
    y, x = _grid(rows, cols)
    sources = rng.uniform(-0.4, 0.4, size=(2, 2)) * np.array([rows * 2, cols])
    for t in range(frames):
        s = t * 0.5
        v = np.zeros((rows, cols), dtype=np.float32)
        for sy, sx in sources:
            v += np.sin(np.hypot(y - sy, x - sx) * 0.45 - s)
        yield _unit((v + 2) / 4)


def tunnel(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Rings and spokes rushing towards the viewer."""
    y, x = _grid(rows, cols)
    radius = np.hypot(x, y) + 1.0
    angle = np.arctan2(y, x)
    spokes = int(rng.integers(4, 9))
    depth = 40.0 / radius
    for t in range(frames):
        rings = np.sin(depth * 3.0 + t * 0.6) > 0
        sectors = np.sin(angle * spokes + t * 0.15) > 0
        v = np.where(rings ^ sectors, 1.0, 0.3) * np.clip(radius / (cols * 0.5), 0.1, 1.0)
        yield _unit(v.astype(np.float32))


def spiral(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Logarithmic spiral arms turning."""
    y, x = _grid(rows, cols)
    radius = np.hypot(x, y) + 1.0
    angle = np.arctan2(y, x)
    arms = int(rng.integers(2, 5))
    for t in range(frames):
        v = np.sin(arms * angle + np.log(radius) * 4.0 - t * 0.3)
        yield _unit((v + 1) / 2 * np.clip(1.4 - radius / cols, 0.2, 1.0))


def _noise(rng: np.random.Generator, rows: int, cols: int, scale: int) -> Field:
    """Smooth value noise: a random lattice every ``scale`` cells, bilinearly filled."""
    lattice = rng.random((rows // scale + 2, cols // scale + 2), dtype=np.float32)
    ry = np.arange(rows, dtype=np.float32) / scale
    rx = np.arange(cols, dtype=np.float32) / scale
    y0, x0 = ry.astype(int), rx.astype(int)
    fy, fx = (ry - y0)[:, None], (rx - x0)[None, :]
    fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)
    a = lattice[y0][:, x0]
    b = lattice[y0][:, x0 + 1]
    c = lattice[y0 + 1][:, x0]
    d = lattice[y0 + 1][:, x0 + 1]
    mixed = a * (1 - fx) * (1 - fy) + b * fx * (1 - fy) + c * (1 - fx) * fy + d * fx * fy
    return np.asarray(mixed, dtype=np.float32)


def clouds(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Fractal value noise drifting sideways."""
    wide = cols + frames + 1
    layers = [(_noise(rng, rows, wide, s), w) for s, w in ((16, 0.55), (8, 0.3), (4, 0.15))]
    for t in range(frames):
        v = sum(w * layer[:, t : t + cols] for layer, w in layers)
        yield _unit((np.asarray(v) - 0.35) * 2.2)


def ocean(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """A dark sky over waves whose crests roll towards the viewer."""
    horizon = max(1, rows // 3)
    depth = np.arange(rows - horizon, dtype=np.float32)[:, None] + 1.0
    x = np.arange(cols, dtype=np.float32)[None, :]
    phase = rng.uniform(0, 6.28, size=3).astype(np.float32)
    sky = np.linspace(0.05, 0.25, horizon, dtype=np.float32)[:, None] * np.ones((1, cols))
    for t in range(frames):
        z = 30.0 / depth
        v = np.sin(x / (z * 2 + 2) + phase[0] + t * 0.2) * 0.5
        v += np.sin(depth * 1.3 / (1 + 0.05 * depth) - t * 0.5 + phase[1])
        v += 0.3 * np.sin(x * 0.3 - t * 0.4 + phase[2])
        sea = np.clip((v + 1.8) / 3.6, 0, 1) * (0.35 + 0.65 * depth / depth[-1])
        yield _unit(np.vstack([sky, sea]).astype(np.float32))


def aurora(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Vertical curtains of light swaying over a dark sky."""
    y = np.arange(rows, dtype=np.float32)[:, None] / max(rows - 1, 1)
    x = np.arange(cols, dtype=np.float32)[None, :]
    k = rng.uniform(0.04, 0.1, size=3).astype(np.float32)
    for t in range(frames):
        s = t * 0.15
        centre = 0.35 + 0.15 * np.sin(x * k[0] + s) + 0.08 * np.sin(x * k[1] - s * 1.7)
        band = np.exp(-(((y - centre) / 0.18) ** 2))
        ripple = 0.6 + 0.4 * np.sin(x * k[2] * 6 + s * 3)
        yield _unit((band * ripple).astype(np.float32))
