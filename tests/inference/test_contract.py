"""The model contract: a drawing's input travels and is stored as 784 grey levels."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from inference.contract import (
    PIXELS,
    from_uint8,
    is_pixel_bytes,
    levels_from_bytes,
    pixels_from_bytes,
    pixels_to_bytes,
    to_uint8,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Overrides tests/conftest.py's Django cache reset: this module needs no Django."""
    yield


@settings(max_examples=100, deadline=None)
@given(arrays(np.float32, (28, 28), elements=st.floats(-1, 2, width=32)))
def test_pixels_travel_as_256_grey_levels_within_half_a_level(pixels):
    levels = to_uint8(pixels)
    assert levels.dtype == np.uint8 and levels.shape == (28, 28)
    back = from_uint8(levels)
    assert back.dtype == np.float32
    assert np.abs(back - np.clip(pixels, 0, 1)).max() <= 0.5 / 255 + 1e-6
    assert np.array_equal(to_uint8(back), levels)  # a second trip changes nothing


def test_a_stored_drawing_is_784_bytes_and_reads_back_as_the_worker_feeds_the_model():
    pixels = np.linspace(0, 1, PIXELS, dtype=np.float32).reshape(28, 28)

    stored = pixels_to_bytes(pixels)

    assert len(stored) == PIXELS and is_pixel_bytes(stored)
    assert levels_from_bytes(stored).shape == (28, 28)
    np.testing.assert_array_equal(pixels_from_bytes(stored), from_uint8(to_uint8(pixels)))


def test_several_drawings_read_back_as_a_batch_and_a_torn_buffer_is_refused():
    stored = pixels_to_bytes(np.zeros((3, 28, 28), np.float32))

    assert pixels_from_bytes(stored).shape == (3, 28, 28)
    assert not is_pixel_bytes(stored) and not is_pixel_bytes(None)
    with pytest.raises(ValueError, match="not a whole number"):
        levels_from_bytes(stored[:-1])
