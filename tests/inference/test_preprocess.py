"""The one preprocessing function: PNG in, MNIST-normalised 28x28 out, clear errors for bad input.

Pure NumPy/Pillow: no Django, no database, no TensorFlow.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from scipy import ndimage

from inference.canvas import render_strokes
from inference.limits import MAX_PIXELS, MAX_SIDE, WORK_SIDE
from inference.preprocess import (
    MAX_BYTES,
    DrawingError,
    Preprocessed,
    preprocess_array,
    preprocess_png,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Overrides tests/conftest.py's Django cache reset: this module needs no Django."""
    yield


# --- helpers -------------------------------------------------------------------------


def png_bytes(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def shape_mask(size: int = 225, box: tuple[int, int, int, int] = (60, 30, 110, 200)) -> np.ndarray:
    """An L-shaped figure inside ``box`` (left, top, right, bottom), True = ink."""
    mask = np.zeros((size, size), dtype=bool)
    left, top, right, bottom = box
    mask[top:bottom, left : left + 15] = True
    mask[bottom - 15 : bottom, left:right] = True
    return mask


def alpha_png(mask: np.ndarray) -> bytes:
    """Black ink on a transparent background, as the browser canvas sends."""
    rgba = np.zeros((*mask.shape, 4), dtype=np.uint8)
    rgba[..., 3] = mask * 255
    return png_bytes(Image.fromarray(rgba, "RGBA"))


def gray_png(mask: np.ndarray, *, ink: int, paper: int, mode: str = "L") -> bytes:
    gray = np.where(mask, ink, paper).astype(np.uint8)
    return png_bytes(Image.fromarray(gray, "L").convert(mode))


def chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def crafted_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height``: no real pixel data behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def ink_bbox(pixels: np.ndarray, level: float = 0.1) -> tuple[int, int]:
    rows = np.flatnonzero((pixels > level).any(axis=1))
    cols = np.flatnonzero((pixels > level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# --- the normalised picture ----------------------------------------------------------


def test_it_returns_a_28x28_float_picture_in_0_1():
    result = preprocess_png(alpha_png(shape_mask()))
    assert isinstance(result, Preprocessed)
    assert result.pixels.shape == (28, 28)
    assert result.pixels.dtype == np.float32
    assert 0.0 <= result.pixels.min() and result.pixels.max() <= 1.0
    assert result.pixels.max() == pytest.approx(1.0)
    assert not result.blank


@pytest.mark.parametrize(
    "box", [(10, 10, 60, 80), (120, 100, 220, 220), (5, 150, 200, 215), (100, 5, 130, 220)]
)
def test_it_puts_the_centre_of_mass_at_the_centre(box):
    pixels = preprocess_png(alpha_png(shape_mask(box=box))).pixels
    com_y, com_x = ndimage.center_of_mass(pixels)
    assert com_y == pytest.approx(14, abs=0.5)
    assert com_x == pytest.approx(14, abs=0.5)


def test_it_scales_the_longer_side_to_20_pixels_keeping_the_aspect_ratio():
    tall = np.zeros((225, 225), dtype=bool)
    tall[20:200, 80:170] = True  # 180 x 90: aspect 2:1
    height, width = ink_bbox(preprocess_png(alpha_png(tall)).pixels)
    assert height == 20
    assert width == pytest.approx(10, abs=1)

    wide = tall.T
    height, width = ink_bbox(preprocess_png(alpha_png(wide)).pixels)
    assert width == 20
    assert height == pytest.approx(10, abs=1)


def test_a_small_drawing_is_scaled_up_to_the_same_size_as_a_large_one():
    small = preprocess_png(alpha_png(shape_mask(box=(100, 100, 130, 150)))).pixels
    large = preprocess_png(alpha_png(shape_mask(box=(10, 10, 130, 210)))).pixels
    assert max(ink_bbox(small)) == max(ink_bbox(large)) == 20


def test_ink_comes_from_alpha_darkness_or_lightness_alike():
    mask = shape_mask()
    from_alpha = preprocess_png(alpha_png(mask)).pixels
    dark_on_light = preprocess_png(gray_png(mask, ink=0, paper=255)).pixels
    light_on_dark = preprocess_png(gray_png(mask, ink=255, paper=0)).pixels
    rgb_dark_on_light = preprocess_png(gray_png(mask, ink=0, paper=255, mode="RGB")).pixels
    for other in (dark_on_light, light_on_dark, rgb_dark_on_light):
        np.testing.assert_allclose(other, from_alpha, atol=1e-5)


def test_an_opaque_rgba_picture_is_read_by_darkness():
    gray = np.where(shape_mask(), 0, 255).astype(np.uint8)
    rgba = Image.fromarray(gray, "L").convert("RGBA")  # alpha 255 everywhere
    expected = preprocess_png(gray_png(shape_mask(), ink=0, paper=255)).pixels
    np.testing.assert_allclose(preprocess_png(png_bytes(rgba)).pixels, expected, atol=1e-5)


def test_a_16_bit_grey_png_is_read_at_its_full_depth():
    levels = np.where(shape_mask(), 50 * 257, 65535).astype(np.uint16)  # dark grey ink
    data = png_bytes(Image.fromarray(levels))
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    expected = preprocess_png(gray_png(shape_mask(), ink=50, paper=255)).pixels
    np.testing.assert_allclose(preprocess_png(data).pixels, expected, atol=1e-5)


def test_a_grey_paper_scan_is_read_against_its_paper():
    expected = preprocess_png(gray_png(shape_mask(), ink=0, paper=255)).pixels
    scan = preprocess_png(gray_png(shape_mask(), ink=20, paper=200)).pixels
    np.testing.assert_allclose(scan, expected, atol=1e-5)


def test_a_drawing_from_the_canvas_renderer_is_a_digit():
    strokes = [[[80, 150, 110, 110], [40, 40, 120, 200], [0, 50, 100, 150]]]
    result = preprocess_png(render_strokes(strokes))
    assert not result.blank
    assert max(ink_bbox(result.pixels)) == 20


def test_preprocess_array_matches_preprocess_png():
    mask = shape_mask()
    assert np.array_equal(
        preprocess_array(mask.astype(np.float32)).pixels, preprocess_png(alpha_png(mask)).pixels
    )


def test_an_mnist_like_digit_is_left_nearly_unchanged():
    digit = np.zeros((28, 28), dtype=np.float32)
    digit[4:24, 11:18] = 1.0  # a 20-px-tall bar, centre of mass at (13.5, 14)
    np.testing.assert_allclose(preprocess_array(digit).pixels, digit, atol=0.05)


# --- blank drawings ------------------------------------------------------------------


def test_an_empty_canvas_is_blank():
    result = preprocess_png(alpha_png(np.zeros((225, 225), dtype=bool)))
    assert result.blank
    assert not result.pixels.any()


def test_a_stray_speck_is_blank():
    mask = np.zeros((225, 225), dtype=bool)
    mask[100:102, 100:102] = True
    assert preprocess_png(alpha_png(mask)).blank


def test_a_speck_on_a_large_image_is_blank():
    mask = np.zeros((2000, 2000), dtype=bool)
    mask[900:930, 900:930] = True  # 900 ink pixels, but 1.5% of the side
    assert preprocess_png(alpha_png(mask)).blank


def test_a_thin_stroke_on_a_large_image_is_a_drawing():
    mask = np.zeros((2000, 2000), dtype=bool)
    mask[800:1100, 1000] = True  # a "1": 300 ink pixels, 15% of the side
    result = preprocess_png(alpha_png(mask))
    assert not result.blank
    assert result.pixels.max() == pytest.approx(1.0)


def test_a_small_digit_in_a_corner_of_a_large_image_is_a_drawing():
    mask = np.zeros((400, 400), dtype=bool)
    mask[300:328, 40:42] = True  # a 28-px "1", 56 ink pixels, 7% of the side
    assert not preprocess_png(alpha_png(mask)).blank


def test_a_white_page_is_blank():
    assert preprocess_png(gray_png(np.zeros((50, 50), dtype=bool), ink=0, paper=255)).blank


def test_a_dot_drawn_with_the_pen_is_not_blank():
    assert not preprocess_png(render_strokes([[[100], [100], [0]]])).blank


# --- bad input -----------------------------------------------------------------------


def assert_refused(data: bytes, status: int) -> DrawingError:
    with pytest.raises(DrawingError) as caught:
        preprocess_png(data)
    assert caught.value.status == status
    assert str(caught.value).endswith(".")  # a sentence for a person
    return caught.value


def test_bytes_that_are_not_an_image_are_refused_with_400():
    assert_refused(b"hello, this is not a picture", 400)


def test_no_bytes_at_all_are_refused_with_400():
    assert_refused(b"", 400)


def test_a_truncated_png_is_refused_with_400():
    data = alpha_png(shape_mask())
    assert_refused(data[: len(data) // 2], 400)


def test_a_png_with_a_corrupt_body_is_refused_with_400():
    data = bytearray(alpha_png(shape_mask()))
    data[60:80] = b"\xff" * 20
    assert_refused(bytes(data), 400)


def test_an_upload_over_2_mb_is_refused_with_413():
    error = assert_refused(b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_BYTES, 413)
    assert "too large" in str(error)


def test_a_png_claiming_more_than_4096_pixels_is_refused_before_decoding():
    assert_refused(crafted_png(4097, 10), 413)
    assert_refused(crafted_png(10, 5000), 413)


def test_a_decompression_bomb_header_is_refused_with_413():
    assert_refused(crafted_png(100_000, 100_000), 413)


def test_a_png_over_the_pixel_budget_is_refused_before_decoding():
    assert MAX_PIXELS < MAX_SIDE * MAX_SIDE
    error = assert_refused(crafted_png(4096, 4096), 413)
    assert "4096x4096 pixels is 16.8 megapixels, the limit is 4.2" in str(error)
    assert_refused(crafted_png(2049, 2048), 413)


def test_a_page_scanned_at_300_dpi_is_refused_with_a_clear_message():
    page = np.full((3508, 2480), 255, dtype=np.uint8)  # A4 at 300 dpi, a digit on it
    page[1500:1800, 1200:1240] = 0
    error = assert_refused(png_bytes(Image.fromarray(page)), 413)
    assert "2480x3508 pixels" in str(error) and "Scale it down" in str(error)


def test_a_digit_on_a_page_scanned_at_150_dpi_is_read():
    digit = shape_mask(size=400, box=(100, 50, 300, 350))
    page = np.full((1754, 1240), 255, dtype=np.uint8)  # A4 at 150 dpi
    page[700:1100, 400:800] = np.where(digit, 0, 255)
    result = preprocess_png(png_bytes(Image.fromarray(page)))
    expected = preprocess_png(gray_png(digit, ink=0, paper=255))
    assert not result.blank
    np.testing.assert_allclose(result.pixels, expected.pixels, atol=0.1)


@pytest.mark.parametrize("mode", ["RGBA", "L", "I;16"])
def test_a_large_picture_decoded_at_reduced_size_reads_like_the_canvas(mode):
    canvas = shape_mask()  # 225 px
    scale = 9  # 2025 px: reduced to WORK_SIDE by a factor of 2
    assert 225 * scale > WORK_SIDE and (225 * scale) ** 2 <= MAX_PIXELS
    large = canvas.repeat(scale, axis=0).repeat(scale, axis=1)
    if mode == "RGBA":
        data = alpha_png(large)
    elif mode == "L":
        data = gray_png(large, ink=0, paper=255)
    else:
        data = png_bytes(Image.fromarray(np.where(large, 0, 65535).astype(np.uint16)))
    np.testing.assert_allclose(
        preprocess_png(data).pixels, preprocess_png(alpha_png(canvas)).pixels, atol=0.1
    )


def worst_allowed_png(kind: str) -> bytes:
    """The costliest pictures within the limits: MAX_PIXELS in each kind of PNG."""
    side = round(MAX_PIXELS**0.5)
    mask = shape_mask(size=side, box=(side // 4, side // 8, side * 3 // 4, side * 7 // 8))
    grey = Image.fromarray(np.where(mask, 0, 255).astype(np.uint8))
    if kind == "16-bit grey":
        return png_bytes(Image.fromarray(np.asarray(grey).astype(np.uint16) * 257))
    if kind == "RGBA, ink in alpha":
        return alpha_png(mask)
    if kind == "RGB, no alpha":
        return png_bytes(grey.convert("RGB"))
    if kind == "palette with transparency":
        return png_bytes(grey.convert("P"), transparency=255)
    assert kind == "4096x1024 RGBA strip"
    return alpha_png(shape_mask(size=MAX_SIDE)[: MAX_PIXELS // MAX_SIDE])


WORST_ALLOWED = [
    "16-bit grey",
    "RGBA, ink in alpha",
    "RGB, no alpha",
    "palette with transparency",
    "4096x1024 RGBA strip",
]


PEAK_MEMORY_MB = 48
"""Most memory one decode may add, in MB. Measured 24-37 MB for these pictures, 38-91 MB
for the same ones before the reduced decode, and 370 MB for a 16-bit 4096x4096 PNG before
the pixel budget."""

MEASURE_PEAK = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from inference.preprocess import preprocess_png

    def status_mb(field):  # this process's memory, from Linux's /proc
        text = Path("/proc/self/status").read_text()
        return int(text.split(field + ":")[1].split()[0]) / 1024

    data = Path(sys.argv[1]).read_bytes()
    resident = status_mb("VmRSS")
    preprocess_png(data)
    print(status_mb("VmHWM") - resident)
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
@pytest.mark.parametrize("kind", WORST_ALLOWED)
def test_decoding_the_largest_allowed_picture_stays_within_its_memory_budget(kind, tmp_path):
    """A fresh process each, whose peak resident size (VmHWM) is this one decode's.

    Not getrusage's ru_maxrss: Linux carries the parent's peak into a spawned child.
    """
    path = tmp_path / "worst.png"
    path.write_bytes(worst_allowed_png(kind))
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", MEASURE_PEAK, str(path)],
        cwd=root, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    added_mb = float(result.stdout)
    assert added_mb < PEAK_MEMORY_MB, f"{kind}: {added_mb:.1f} MB"


@pytest.mark.parametrize("size", [(0, 10), (10, 0), (0, 0)])
def test_a_zero_sized_png_is_refused_with_400(size):
    error = assert_refused(crafted_png(*size), 400)
    assert "no pixels" in str(error)


@pytest.mark.parametrize(
    "fmt,mode", [("JPEG", "RGB"), ("GIF", "L"), ("BMP", "RGB"), ("WEBP", "RGB")]
)
def test_an_image_that_is_not_png_is_refused_with_415(fmt, mode):
    image = Image.fromarray(np.where(shape_mask(), 0, 255).astype(np.uint8)).convert(mode)
    error = assert_refused(png_bytes(image, fmt), 415)
    assert "PNG" in str(error)


def test_a_string_instead_of_bytes_is_refused():
    with pytest.raises(DrawingError):
        preprocess_png("not bytes")  # type: ignore[arg-type]


def test_a_non_2d_array_is_refused():
    with pytest.raises(DrawingError):
        preprocess_array(np.zeros((3, 3, 3)))
    with pytest.raises(DrawingError):
        preprocess_array(np.zeros((0, 5)))


# --- properties ----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_give_a_drawing_error_and_nothing_else(data):
    try:
        result = preprocess_png(data)
    except DrawingError as error:
        assert error.status in (400, 413, 415)
    else:  # astronomically unlikely, but a valid PNG is a valid answer
        assert result.pixels.shape == (28, 28)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_pngs_give_a_drawing_error_and_nothing_else(data):
    original = alpha_png(shape_mask(size=40, box=(5, 5, 30, 35)))
    position = data.draw(st.integers(0, len(original) - 1))
    value = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(original)))
    damaged = (original[:position] + bytes([value]) + original[position + 1 :])[:cut]
    try:
        result = preprocess_png(damaged)
    except DrawingError as error:
        assert error.status in (400, 413, 415)
    else:
        assert result.pixels.shape == (28, 28)


images = arrays(
    np.uint8,
    st.tuples(st.integers(1, 64), st.integers(1, 64), st.sampled_from([1, 2, 3, 4])),
    elements=st.integers(0, 255),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images)
def test_any_png_gives_a_valid_picture(array):
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[array.shape[2]]
    picture = array[..., 0] if mode == "L" else array
    result = preprocess_png(png_bytes(Image.fromarray(picture, mode)))
    assert result.pixels.shape == (28, 28)
    assert result.pixels.dtype == np.float32
    assert np.all(np.isfinite(result.pixels))
    assert 0.0 <= result.pixels.min() and result.pixels.max() <= 1.0
    if result.blank:
        assert not result.pixels.any()
    else:
        assert max(ink_bbox(result.pixels, level=0.0)) <= 20


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 80), st.integers(1, 80)),
        elements=st.floats(0, 1, width=32),
    )
)
def test_any_ink_array_gives_a_valid_picture(ink):
    result = preprocess_array(ink)
    assert result.pixels.shape == (28, 28)
    assert 0.0 <= result.pixels.min() and result.pixels.max() <= 1.0
    if not result.blank:
        # The centre of mass lands on pixel 14, to the whole-pixel shift, unless the box
        # would leave the field: then it is pinned to the edge away from its mass (ink
        # heavy on one side, faint on the other, as Hypothesis found).
        for axis, com in enumerate(ndimage.center_of_mass(result.pixels)):
            lines = np.flatnonzero(result.pixels.any(axis=1 - axis))
            assert (
                abs(com - 14) <= 0.5 + 1e-4
                or (com < 14 and lines[-1] >= 26)
                or (com > 14 and lines[0] <= 1)
            )


def test_nan_and_out_of_range_ink_is_cleaned():
    ink = np.zeros((40, 40), dtype=np.float32)
    ink[5:35, 18:24] = 3.0
    ink[10, 20] = np.nan
    ink[12, 20] = np.inf
    ink[0, 0] = -5.0
    result = preprocess_array(ink)
    assert not result.blank
    assert np.all(np.isfinite(result.pixels))
    assert 0.0 <= result.pixels.min() and result.pixels.max() <= 1.0
