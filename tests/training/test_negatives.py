"""The non-digit generator: deterministic, on the canvas, never a reserved glyph, and the
benchmark's arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from inference.canvas import CANVAS_PX, render_strokes
from inference.contract import to_uint8
from inference.preprocess import preprocess_png
from training import negatives
from training.negatives import (
    KINDS,
    make_negative_strokes,
    named_as_digit,
    negative_pixels,
    nondigit_benchmark,
    nondigit_rates,
)


def test_the_same_seed_draws_the_same_negatives():
    first, kinds = make_negative_strokes(60, seed=5)
    again, kinds_again = make_negative_strokes(60, seed=5)
    other, _ = make_negative_strokes(60, seed=6)
    assert first == again
    assert kinds == kinds_again
    assert first != other


def test_an_item_does_not_depend_on_how_many_are_drawn():
    few, _ = make_negative_strokes(10, seed=3)
    many, _ = make_negative_strokes(40, seed=3)
    assert many[:10] == few


def test_kinds_take_turns_so_every_kind_is_in_a_small_set():
    _, kinds = make_negative_strokes(len(negatives.SCHEDULE), seed=0)
    assert set(kinds) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_draws_inside_the_canvas_with_time_moving_forward(kind):
    for index in range(5):
        strokes = KINDS[kind](np.random.default_rng([11, index]))
        assert strokes
        times = []
        for xs, ys, ts in strokes:
            assert len(xs) == len(ys) == len(ts) > 0
            assert all(0 <= v <= CANVAS_PX for v in (*xs, *ys))
            times += ts
        assert times == sorted(times)
        assert not preprocess_png(render_strokes(strokes)).blank


def test_negative_pixels_are_the_games_preprocessing_of_the_browsers_png():
    drawings, _ = make_negative_strokes(6, seed=9)
    pixels, _ = negative_pixels(6, seed=9)
    for index, strokes in enumerate(drawings):
        png = render_strokes(strokes, pen_px=negatives.pen_of(9, index))
        np.testing.assert_array_equal(pixels[index], to_uint8(preprocess_png(png).pixels))


def test_negative_pixels_replace_a_blank_drawing_so_n_come_back(monkeypatch):
    tiny = [[[100.0], [100.0], [0]]]  # a 1-px speck under a 1-px pen: blank
    calls = {"n": 0}

    def sometimes_blank(rng):
        calls["n"] += 1
        return tiny if calls["n"] % 2 else [[[50.0, 150.0], [60.0, 160.0], [0, 100]]]

    monkeypatch.setattr(negatives, "SCHEDULE", ("blank_half",))
    monkeypatch.setitem(negatives.KINDS, "blank_half", sometimes_blank)
    monkeypatch.setattr(negatives, "pen_of", lambda seed, index: 1.0)
    pixels, kinds = negative_pixels(4, seed=1)
    assert pixels.shape == (4, 28, 28) and pixels.dtype == np.uint8
    assert kinds == ["blank_half"] * 4
    assert all(p.max() == 255 for p in pixels)
    assert calls["n"] == 8


def test_workers_and_cache_give_the_same_pixels(tmp_path):
    plain, _ = negative_pixels(220, seed=4)
    parallel, _ = negative_pixels(220, seed=4, workers=2, cache_dir=tmp_path)
    cached, _ = negative_pixels(220, seed=4, cache_dir=tmp_path)
    np.testing.assert_array_equal(plain, parallel)
    np.testing.assert_array_equal(plain, cached)
    assert len(list(tmp_path.glob("negatives-4-220-*.npz"))) == 1


def test_no_digit_glyph_is_ever_drawn():
    glyphs = (
        set(negatives.LETTERS_INCLUDED)
        | set(negatives.SYMBOLS_INCLUDED)
        | set(negatives.DEJAVU_SYMBOLS_INCLUDED)
    )
    assert not glyphs & set("0123456789")
    with pytest.raises(ValueError):
        negatives._hershey_glyph("futural", "7")


def test_excluded_look_alikes_are_not_included():
    excluded = "".join(negatives.LETTERS_EXCLUDED).replace(" ", "")
    assert set("OoIlSZBGbgqDC") <= set(excluded)
    assert not set(excluded) & set(negatives.LETTERS_INCLUDED)
    dejavu_excluded = "".join(negatives.DEJAVU_SYMBOLS_EXCLUDED).replace(" ", "")
    assert not set(dejavu_excluded) & set(negatives.DEJAVU_SYMBOLS_INCLUDED)


def test_a_digit_is_named_only_above_the_threshold_and_never_from_column_ten():
    probabilities = np.array(
        [
            [0.7] + [0.3 / 9] * 9 + [0.0],  # digit 0 at 0.7: named
            [0.5] + [0.0] * 9 + [0.5],  # tie at 0.5: below the threshold
            [0.3] + [0.0] * 9 + [0.7],  # "not a digit" wins: not named
            [0.0] * 5 + [0.6] + [0.0] * 4 + [0.4],  # digit 5 exactly at 0.6: named
        ]
    )
    assert named_as_digit(probabilities, 0.6).tolist() == [True, False, False, True]


def test_rates_overall_and_per_kind():
    ten_columns = np.zeros((5, 10))
    ten_columns[:, 3] = [0.9, 0.5, 0.95, 0.61, 0.2]
    ten_columns[:, 4] = 1 - ten_columns[:, 3]
    kinds = ["star", "star", "letter", "letter", "letter"]
    rates = nondigit_rates(ten_columns, kinds, 0.6)
    # 0.9 -> 3, 0.5 -> 4 (0.5 is below), 0.95 -> 3, 0.61 -> 3, 0.2 -> 4 at 0.8
    assert rates["named_as_digit_rate"] == pytest.approx(4 / 5)
    assert rates["per_kind"] == {"star": pytest.approx(0.5), "letter": pytest.approx(1.0)}
    assert rates["count"] == 5


def test_the_benchmark_counts_a_model_that_always_refuses_as_perfect_and_one_that_cannot_as_not():
    def refuses(images):
        out = np.zeros((len(images), 11), np.float32)
        out[:, 10] = 1.0
        return out

    def always_seven(images):
        out = np.zeros((len(images), 10), np.float32)
        out[:, 7] = 1.0
        return out

    assert nondigit_benchmark(refuses, n=30, seed=2)["named_as_digit_rate"] == 0.0
    rates = nondigit_benchmark(always_seven, n=30, seed=2)
    assert rates["named_as_digit_rate"] == 1.0
    assert rates["count"] == 30
