"""Counting a digit's loops before and after the canvas benchmark redraws it."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import disk, rectangle

from training.canvas_loops import loop_count, report, split_by_loops


def ring(holes: int = 1) -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.float32)
    for k in range(holes):
        centre = (8 + 11 * k, 14)  # two rings overlap: one 8
        image[disk(centre, 6, shape=image.shape)] = 1.0
        image[disk(centre, 3, shape=image.shape)] = 0.0
    return image


def bar() -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.float32)
    image[rectangle((4, 12), end=(23, 15))] = 1.0
    return image


def test_loops_are_counted_like_a_reader_would():
    assert loop_count(bar()) == 0
    assert loop_count(ring(1)) == 1
    assert loop_count(ring(2)) == 2


def test_a_filled_loop_counts_as_changed():
    filled = ring(1)
    filled[disk((8, 14), 6, shape=filled.shape)] = 1.0  # ink fills the loop
    assert loop_count(filled) == 0
    changed = split_by_loops(np.stack([ring(1), bar()]), np.stack([filled, bar()]))
    assert changed.tolist() == [True, False]


def test_the_report_scores_both_groups():
    labels = np.array([9, 9, 1, 1])
    predicted = np.array([1, 9, 1, 7])
    changed = np.array([True, False, False, False])

    figures = report(labels, predicted, changed)

    assert figures["errors"] == 2
    assert figures["errors_with_loops_changed"] == 1
    assert figures["accuracy_loops_changed"] == 0.0
    assert figures["accuracy_loops_kept"] == pytest.approx(2 / 3)
