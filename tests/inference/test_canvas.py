"""The canvas renderer draws strokes like the browser: round pen, black ink, transparent paper."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from inference.canvas import CANVAS_PX, PEN_PX, _downsample, render_strokes


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Overrides tests/conftest.py's Django cache reset: this module needs no Django."""
    yield


def decode(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    return np.asarray(image)


def test_the_constants_are_the_demos_canvas_and_pen():
    assert CANVAS_PX == 225
    assert PEN_PX == 14


def test_no_strokes_give_a_fully_transparent_canvas():
    pixels = decode(render_strokes([]))
    assert pixels.shape == (225, 225, 4)
    assert not pixels[..., 3].any()


def test_ink_is_black_on_transparent():
    pixels = decode(render_strokes([[[20, 200], [100, 100], [0, 100]]]))
    inked = pixels[..., 3] > 0
    assert inked.any() and not inked.all()
    assert not pixels[..., :3].any()  # black everywhere; coverage lives in alpha


def test_a_horizontal_line_is_pen_wide_with_round_caps():
    alpha = decode(render_strokes([[[50, 150], [100, 100], [0, 100]]]))[..., 3] / 255
    column = alpha[:, 100]
    assert column.sum() == pytest.approx(PEN_PX, abs=0.5)  # full coverage across 14 px
    row = alpha[100]
    # Round caps reach half a pen beyond each end point.
    assert row.sum() == pytest.approx(100 + PEN_PX, abs=1)
    # Round, not square: the cap's corner is empty.
    assert alpha[100 - 6, 50 - 6] < 0.2


def test_a_single_point_is_a_round_dot():
    alpha = decode(render_strokes([[[100], [100], [0]]]))[..., 3] / 255
    area = alpha.sum()
    assert area == pytest.approx(np.pi * (PEN_PX / 2) ** 2, rel=0.05)
    assert alpha[100, 100] == 1.0


def test_edges_are_anti_aliased():
    alpha = decode(render_strokes([[[30, 190], [40, 170], [0, 100]]]))[..., 3]
    partial = (alpha > 0) & (alpha < 255)
    assert partial.any()


def test_size_and_pen_can_be_changed():
    pixels = decode(render_strokes([[[10], [10], [0]]], size=50, pen_px=4))
    assert pixels.shape == (50, 50, 4)
    assert pixels[..., 3].sum() / 255 == pytest.approx(np.pi * 4, rel=0.1)


def test_several_strokes_are_all_drawn():
    strokes = [[[20, 60], [20, 20], [0, 10]], [[150, 200], [200, 200], [20, 30]]]
    alpha = decode(render_strokes(strokes))[..., 3]
    assert alpha[20, 40] == 255
    assert alpha[200, 175] == 255
    assert alpha[110, 110] == 0


@pytest.mark.parametrize("seed", range(40))
def test_shrinking_only_the_inked_blocks_gives_the_whole_pictures_pixels(seed):
    """The renderer shrinks the blocks around the ink alone: the pixels of a box filter
    over the whole picture, wherever the ink is (edges, corners, a dot, none), to within
    one grey level (Pillow's fixed-point weights round a few grey inks differently)."""
    rng = np.random.default_rng(seed)
    size, scale = 57, 4
    big = Image.new("L", (size * scale, size * scale), 0)
    draw = ImageDraw.Draw(big)
    for _ in range(seed % 4):  # seed 0, 4, 8...: no ink at all
        x0, y0 = rng.integers(-20, size * scale + 20, 2)
        x1, y1 = rng.integers(-20, size * scale + 20, 2)
        draw.line([(int(x0), int(y0)), (int(x1), int(y1))], fill=int(rng.integers(1, 256)),
                  width=int(rng.integers(1, 30)))  # fmt: skip
    whole = big.resize((size, size), Image.Resampling.BOX)
    shrunk = np.asarray(_downsample(big, scale), dtype=np.int16)
    assert np.abs(shrunk - np.asarray(whole, dtype=np.int16)).max(initial=0) <= 1
