"""The blind reading sheet of the canvas benchmark, and the score of a person's answers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inference.contract import NOT_DIGIT_CLASS
from training.human_reading import (
    SHEET_COLUMNS,
    SHEET_ROWS,
    draw_sheets,
    human_estimate,
    parse_answers,
    reading_order,
)


def test_the_sheet_holds_every_error_among_as_many_right_answers_shuffled():
    wrong = np.zeros(500, dtype=bool)
    wrong[[3, 50, 51, 400]] = True
    items, model_wrong = reading_order(wrong, seed=1)
    assert len(items) == 8 and len(set(items.tolist())) == 8
    assert set(items[model_wrong].tolist()) == {3, 50, 51, 400}
    assert not wrong[items[~model_wrong]].any()
    assert model_wrong.tolist() != sorted(model_wrong.tolist(), reverse=True)  # mixed
    again, _ = reading_order(wrong, seed=1)
    assert again.tolist() == items.tolist()


def test_answers_are_digits_or_x_whatever_the_spacing():
    assert parse_answers("12 x\n9\n") == [1, 2, NOT_DIGIT_CLASS, 9]
    with pytest.raises(ValueError, match="'?'"):
        parse_answers("12?")


def test_the_estimate_adds_the_misses_on_errors_and_the_control_rate_on_the_rest():
    labels = np.array([1] * 20)
    model_wrong = np.array([True] * 10 + [False] * 10)
    answers = [7] * 4 + [1] * 6 + [7] * 1 + [1] * 9  # 4 of the errors, 1 control missed
    figures = human_estimate(answers, labels, model_wrong, benchmark_size=1000)
    assert figures["reader_missed_of_model_errors"] == 4
    assert figures["reader_missed_of_controls"] == 1
    assert figures["model_accuracy"] == pytest.approx(0.99)
    assert figures["model_or_reader_accuracy"] == pytest.approx(0.996)
    assert figures["reader_accuracy_estimate"] == pytest.approx(1 - (4 + 0.1 * 990) / 1000)
    low, high = figures["reader_accuracy_95"]
    assert low < figures["reader_accuracy_estimate"] < high <= figures["model_or_reader_accuracy"]


def test_a_perfect_reader_is_bounded_by_the_model_or_reader_accuracy():
    labels = np.arange(10)
    model_wrong = np.array([True] * 5 + [False] * 5)
    figures = human_estimate(labels.tolist(), labels, model_wrong, benchmark_size=100)
    assert figures["reader_accuracy_estimate"] == figures["model_or_reader_accuracy"] == 1.0


def test_answers_must_match_the_sheet():
    with pytest.raises(ValueError, match="3 answers for 4 drawings"):
        human_estimate([1, 2, 3], np.arange(4), np.array([True, False, True, False]), 100)


def test_sheets_are_numbered_pages_of_drawings(tmp_path):
    per_sheet = SHEET_COLUMNS * SHEET_ROWS
    pixels = np.random.default_rng(0).random((per_sheet + 5, 28, 28), dtype=np.float32)
    paths = draw_sheets(pixels, tmp_path)
    assert [p.name for p in paths] == ["sheet-1.png", "sheet-2.png"]
    with Image.open(paths[0]) as first:
        assert first.mode == "L" and first.width > 28 * SHEET_COLUMNS
