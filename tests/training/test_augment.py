"""Augmentation keeps labels, shapes and value ranges, and makes pen-like digits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from training import augment


def bar_digit() -> np.ndarray:
    """A '1': a 20-px vertical bar, 4 px wide, centred like MNIST."""
    digit = np.zeros((28, 28), dtype=np.float32)
    digit[4:24, 12:16] = 1.0
    return digit


def seven_digit() -> np.ndarray:
    digit = np.zeros((28, 28), dtype=np.float32)
    digit[5:8, 8:21] = 1.0
    for row in range(8, 24):
        col = 20 - (row - 8) // 2
        digit[row, col - 1 : col + 2] = 1.0
    return digit


digit_batches = arrays(
    np.float32,
    st.tuples(st.integers(1, 6), st.just(28), st.just(28)),
    elements=st.floats(0, 1, width=32),
)


@settings(max_examples=25, deadline=None)
@given(digit_batches, st.integers(0, 2**32 - 1))
def test_affine_and_elastic_keep_shape_and_range(images, seed):
    out = augment.random_affine_elastic(images, np.random.default_rng(seed))
    assert out.shape == images.shape
    assert out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0


@settings(max_examples=15, deadline=None)
@given(digit_batches, st.integers(0, 2**32 - 1), st.floats(0, 1))
def test_augmented_copy_keeps_labels_shape_and_range(images, seed, pen_fraction):
    labels = np.arange(len(images)) % 10
    out, out_labels = augment.augmented_copy(
        images, labels, np.random.default_rng(seed), pen_fraction=pen_fraction
    )
    assert out.shape == images.shape
    assert out.dtype == np.float32
    assert np.array_equal(out_labels, labels)
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_augmentation_is_reproducible_with_a_seed():
    images = np.stack([bar_digit(), seven_digit()] * 3)
    labels = np.array([1, 7] * 3)
    first, _ = augment.augmented_copy(images, labels, np.random.default_rng(3))
    second, _ = augment.augmented_copy(images, labels, np.random.default_rng(3))
    third, _ = augment.augmented_copy(images, labels, np.random.default_rng(4))
    assert np.array_equal(first, second)
    assert not np.array_equal(first, third)


def test_augmented_digits_are_normalised_like_the_game():
    images = np.stack([seven_digit()] * 20)
    out, _ = augment.augmented_copy(images, np.full(20, 7), np.random.default_rng(0))
    for digit in out:
        com_y, com_x = ndimage.center_of_mass(digit)
        assert com_y == pytest.approx(14, abs=1.0)
        assert com_x == pytest.approx(14, abs=1.0)
        rows = np.flatnonzero((digit > 0.1).any(axis=1))
        cols = np.flatnonzero((digit > 0.1).any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20)


def test_augmentation_changes_the_digits():
    images = np.stack([seven_digit()] * 4)
    out = augment.random_affine_elastic(images, np.random.default_rng(1))
    assert not np.allclose(out, images, atol=0.05)


def test_pen_redraw_gives_strokes_of_the_pen_width():
    fine = augment.pen_redraw(bar_digit(), pen_radius=6.0)
    # The bar's middle row: a pen stroke 2 * radius + 1 px wide on the finer grid.
    width = fine[fine.shape[0] // 2].sum()
    assert width == pytest.approx(13, abs=1.5)
    thinner = augment.pen_redraw(bar_digit(), pen_radius=3.0)
    assert thinner[thinner.shape[0] // 2].sum() == pytest.approx(7, abs=1.5)


def test_pen_style_keeps_the_digit_recognisable():
    original = seven_digit()
    redrawn = augment.pen_style(original[None], np.random.default_rng(0))[0]
    assert redrawn.shape == (28, 28)
    overlap = (redrawn > 0.3) & (ndimage.binary_dilation(original > 0.3, iterations=2))
    assert overlap.sum() > 0.8 * (redrawn > 0.3).sum()


def test_an_empty_batch_gives_an_empty_batch():
    out, labels = augment.augmented_copy(
        np.zeros((0, 28, 28), np.float32), np.zeros(0, int), np.random.default_rng(0)
    )
    assert out.shape == (0, 28, 28)
    assert labels.shape == (0,)
