"""Scenes with state stepped each frame: fire, rain, snow, stars, code, life, fireworks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

Field = npt.NDArray[np.float32]


def _splat(rows: int, cols: int, ys: npt.NDArray[np.float64], xs: npt.NDArray[np.float64],
           values: npt.NDArray[np.float64]) -> Field:  # fmt: skip
    """A field with ``values`` at the (ys, xs) cells that fall inside, the brightest winning."""
    out = np.zeros((rows, cols), dtype=np.float32)
    r, c = np.floor(ys).astype(np.intp), np.floor(xs).astype(np.intp)
    inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
    np.maximum.at(out, (r[inside], c[inside]), values[inside].astype(np.float32))
    return out


def fire(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """The classic heat buffer: a hot bottom row, heat rising, spreading and cooling."""
    heat = np.zeros((rows + 2, cols), dtype=np.float32)
    for t in range(frames + rows):
        heat[-1] = rng.random(cols, dtype=np.float32) ** 0.6
        heat[-2] = heat[-1]
        below = heat[2:]
        rising = (np.roll(below, 1, axis=1) + below + np.roll(below, -1, axis=1) + heat[1:-1]) / 4
        cooling = rng.random((rows, cols), dtype=np.float32) * (2.4 / rows)
        heat[:-2] = np.clip(rising - cooling, 0.0, 1.0)
        if t >= rows:
            yield np.clip(heat[:-2] * 1.3, 0.0, 1.0).astype(np.float32)


def rain(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Streaks falling at different speeds."""
    count = max(4, rows * cols // 40)
    ys = rng.uniform(-rows, rows, count)
    xs = rng.uniform(0, cols, count)
    speed = rng.uniform(0.8, 2.0, count)
    for _ in range(frames):
        field = np.zeros((rows, cols), dtype=np.float32)
        for k in range(4):
            field = np.maximum(field, _splat(rows, cols, ys - k, xs, speed / 2.0 * (1 - k / 4)))
        yield np.clip(field, 0, 1)
        ys += speed
        wrapped = ys - 4 > rows
        ys[wrapped] -= rows + 8
        xs[wrapped] = rng.uniform(0, cols, int(wrapped.sum()))


def snow(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Flakes drifting down and sideways, nearer ones brighter and faster."""
    count = max(4, rows * cols // 25)
    ys = rng.uniform(0, rows, count)
    xs = rng.uniform(0, cols, count)
    near = rng.uniform(0.2, 1.0, count)
    phase = rng.uniform(0, 6.28, count)
    for t in range(frames):
        yield _splat(rows, cols, ys, (xs + 1.5 * np.sin(phase + t * 0.2)) % cols, near)
        ys = (ys + 0.25 + 0.35 * near) % rows


def starfield(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Stars flying past the viewer."""
    count = max(8, rows * cols // 30)
    sx = rng.uniform(-1, 1, count)
    sy = rng.uniform(-1, 1, count)
    sz = rng.uniform(0.05, 1.0, count)
    for _ in range(frames):
        ys = rows / 2 + sy / sz * rows / 4
        xs = cols / 2 + sx / sz * cols / 4
        yield _splat(rows, cols, ys, xs, np.clip(1.1 - sz, 0.1, 1.0))
        sz -= 0.02
        reborn = sz <= 0.02
        sz[reborn] = 1.0
        sx[reborn] = rng.uniform(-1, 1, int(reborn.sum()))
        sy[reborn] = rng.uniform(-1, 1, int(reborn.sum()))


def matrix(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Columns of code falling, a bright head and a fading trail."""
    head = rng.uniform(-rows, rows, cols)
    speed = rng.uniform(0.4, 1.2, cols)
    length = rng.uniform(rows * 0.3, rows * 0.9, cols)
    r = np.arange(rows, dtype=np.float64)[:, None]
    flicker = rng.random((rows, cols))
    for _ in range(frames):
        d = head[None, :] - r
        trail = np.where((d >= 0) & (d < length), 1.0 - d / length, 0.0)
        trail = np.where((d >= 0) & (d < 1), 1.0, trail * (0.55 + 0.45 * flicker))
        yield trail.astype(np.float32)
        head += speed
        done = head - length > rows
        head[done] = rng.uniform(-rows * 0.5, 0, int(done.sum()))
        flicker = np.roll(flicker, 1, axis=0)


def life(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Conway's game of life on a torus, with fading ghosts of dead cells."""
    alive = rng.random((rows, cols)) < 0.3
    glow = alive.astype(np.float32)
    for _ in range(frames):
        yield glow.copy()
        n = sum(
            np.roll(np.roll(alive, dy, axis=0), dx, axis=1).astype(np.int8)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if dy or dx
        )
        alive = (n == 3) | (alive & (n == 2))
        if alive.sum() < rows * cols * 0.02:
            alive |= rng.random((rows, cols)) < 0.15
        glow = np.maximum(alive.astype(np.float32), glow * 0.5)


def fireworks(rows: int, cols: int, frames: int, rng: np.random.Generator) -> Iterator[Field]:
    """Shells bursting into falling sparks."""
    sparks = np.zeros((0, 5))  # y, x, vy, vx, life
    for t in range(frames):
        if t % 12 == 0:
            cy, cx = rng.uniform(rows * 0.2, rows * 0.6), rng.uniform(cols * 0.2, cols * 0.8)
            n = 40
            angle = rng.uniform(0, 2 * np.pi, n)
            power = rng.uniform(0.3, 1.0, n)
            burst = np.column_stack([
                np.full(n, cy), np.full(n, cx),
                np.sin(angle) * power * 0.6, np.cos(angle) * power * 1.5, np.ones(n),
            ])  # fmt: skip
            sparks = np.vstack([sparks, burst])
        yield _splat(rows, cols, sparks[:, 0], sparks[:, 1], sparks[:, 4])
        sparks[:, 0] += sparks[:, 2]
        sparks[:, 1] += sparks[:, 3]
        sparks[:, 2] += 0.04
        sparks[:, 4] -= 0.04
        sparks = sparks[sparks[:, 4] > 0]
