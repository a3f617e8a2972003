"""Animated GIF, APNG and WebP, video through PyAV, pacing and frame limits."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from asciihub.engine import EngineLimits, convert_animation
from asciihub.engine.animation import pace
from asciihub.errors import InvalidInput, TooLarge, UnsupportedMedia

FIXTURES = Path(__file__).parents[2] / "fixtures" / "engine"


def animated(fmt: str, count: int = 5, duration: int = 80) -> bytes:
    frames = [Image.new("L", (32, 16), value * 255 // count) for value in range(count)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format=fmt, save_all=True, append_images=frames[1:],
                   duration=duration, loop=0)  # fmt: skip
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animated_images_give_frames_with_durations(fmt: str) -> None:
    frames = list(convert_animation(animated(fmt), width=16, style="simple"))
    assert len(frames) == 5
    assert all(frame.duration_ms == 80 for frame in frames)
    assert frames[0].text != frames[-1].text


def test_frame_cap_is_checked_while_iterating() -> None:
    cap = EngineLimits(max_frames=3)
    assert len(list(convert_animation(animated("GIF", count=3), width=8, limits=cap))) == 3
    produced = convert_animation(animated("GIF", count=6), width=8, limits=cap)
    seen: list[object] = []
    with pytest.raises(TooLarge) as caught:
        seen.extend(produced)
    assert caught.value.code == "too_many_frames"


def test_pace_keeps_total_time() -> None:
    items = [(index, 10) for index in range(10)]
    kept = list(pace(iter(items), max_fps=50))
    assert [item for item, _ in kept] == [0, 2, 4, 6, 8]
    assert sum(ms for _, ms in kept) == 100
    assert [i for i, _ in pace(iter(items), frame_step=3)] == [0, 3, 6, 9]
    assert len(list(pace(iter(items), frame_limit=4))) == 4


def test_still_image_is_one_frame() -> None:
    buffer = io.BytesIO()
    Image.new("L", (10, 10), 255).save(buffer, format="PNG")
    assert len(list(convert_animation(buffer.getvalue(), width=5))) == 1


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import av

    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(12):
            pixels = np.full((48, 64, 3), index * 20, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_video_frames_stream_with_durations(clip: Path) -> None:
    frames = list(convert_animation(clip, width=20, style="dense", color="truecolor"))
    assert len(frames) == 12
    assert all(frame.duration_ms == 100 for frame in frames)
    assert all(len(line) == 20 for line in frames[0].text.split("\n"))
    assert frames[0].colors is not None
    assert len(frames[0].colors) == 20 * 8 * 3
    assert frames[0].text != frames[-1].text


def test_video_limits(clip: Path) -> None:
    with pytest.raises(TooLarge) as caught:
        list(convert_animation(clip, width=10, limits=EngineLimits(max_video_seconds=0.5)))
    assert caught.value.code == "video_too_long"
    with pytest.raises(TooLarge) as caught:
        list(convert_animation(clip, width=10, limits=EngineLimits(max_video_pixels=1000)))
    assert caught.value.code == "video_too_large"
    with pytest.raises(TooLarge):
        list(convert_animation(clip, width=10, limits=EngineLimits(max_frames=5)))
    assert len(list(convert_animation(clip, width=10, frame_limit=4))) == 4


def test_video_bytes_and_garbage(clip: Path) -> None:
    assert len(list(convert_animation(clip.read_bytes(), width=10, max_fps=5))) == 6
    with pytest.raises(UnsupportedMedia):
        list(convert_animation(b"\x00\x01garbage" * 50, width=10))


def test_audio_only_file_has_no_video(tmp_path: Path) -> None:
    import av

    path = tmp_path / "sound.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(InvalidInput) as caught:
        list(convert_animation(path, width=10))
    assert caught.value.code == "empty_video"


def _png_animation(frames: list[np.ndarray]) -> bytes:
    images = [Image.fromarray(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="PNG", save_all=True, append_images=images[1:],
                   duration=40, loop=0)  # fmt: skip
    return buffer.getvalue()


def _change_ratio(texts: list[str]) -> float:
    """Mean share of characters that differ between consecutive frames."""
    grids = [np.array([list(line) for line in text.split("\n")]) for text in texts]
    return float(np.mean([(a != b).mean() for a, b in zip(grids, grids[1:], strict=False)]))


def _static_scene(rng: np.random.Generator, count: int, *, blink: bool) -> list[np.ndarray]:
    """A dark gradient with a little noise; with ``blink``, a bright 3 % patch on and off."""
    ramp = np.linspace(30, 140, 320, dtype=np.float32)[None, :].repeat(160, axis=0)
    frames = []
    for index in range(count):
        frame = ramp + rng.normal(0.0, 2.0, ramp.shape)
        if blink and index % 2:
            frame[:32, :48] = 255.0
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


@pytest.mark.parametrize("style", ["dense", "shape"])
def test_static_scene_with_noise_and_a_blinking_patch_does_not_pump(style: str) -> None:
    rng = np.random.default_rng(7)
    frames = _static_scene(rng, 60, blink=True)
    texts = [frame.text for frame in convert_animation(_png_animation(frames), width=40,
                                                       style=style)]  # fmt: skip
    # Outside the patch the scene is static: once the window has settled (it starts
    # from the first frame's percentiles), its characters barely change.
    outside = ["\n".join(line[8:] for line in text.split("\n")) for text in texts[40:]]
    smoothed = _change_ratio(outside)
    # Each frame stretched on its own percentiles (what the window prevents) pumps.
    from asciihub.engine import convert

    alone = [convert(Image.fromarray(frame), width=40, style=style).text for frame in frames]
    pumping = _change_ratio(["\n".join(line[8:] for line in text.split("\n"))
                             for text in alone[40:]])  # fmt: skip
    assert smoothed < 0.03
    assert pumping > 0.5


def test_static_scene_with_noise_is_stable() -> None:
    frames = _static_scene(np.random.default_rng(8), 12, blink=False)
    texts = [frame.text for frame in convert_animation(_png_animation(frames), width=40)]
    assert _change_ratio(texts) < 0.04


def test_a_scene_cut_takes_the_new_frames_tone_at_once() -> None:
    dark = _static_scene(np.random.default_rng(9), 6, blink=False)
    bright = np.asarray(Image.open(FIXTURES / "gradient.png").convert("L").resize((320, 160)))
    frames = [*dark, bright, bright]
    texts = [frame.text for frame in convert_animation(_png_animation(frames), width=40)]
    from asciihub.engine import convert

    assert texts[6] == convert(Image.fromarray(bright), width=40).text
