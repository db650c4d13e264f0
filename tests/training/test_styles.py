"""Style digits: deterministic, every digit and variant, on the canvas, graded honestly."""

from __future__ import annotations

import numpy as np
import pytest

from inference.canvas import CANVAS_PX, render_strokes
from inference.contract import to_uint8
from inference.preprocess import preprocess_png
from training import styles

ALL_VARIANTS = {(digit, name) for digit, names in styles.STYLES.items() for name in names}
ONE_ROUND = 10 * max(len(names) for names in styles.STYLES.values())
"""Items in which every digit has shown every one of its variants."""


def test_every_digit_has_several_variants():
    assert sorted(styles.STYLES) == list(range(10))
    assert all(len(names) >= 3 for digit, names in styles.STYLES.items() if digit != 1)
    assert {"bar", "plain"} <= set(styles.STYLES[7])
    assert {"closed", "open"} <= set(styles.STYLES[4])
    assert {"c_open", "slashed"} <= set(styles.STYLES[0])


def test_the_same_seed_draws_the_same_digits():
    first = styles.make_style_strokes(30, seed=5)
    second = styles.make_style_strokes(30, seed=5)
    other = styles.make_style_strokes(30, seed=6)
    assert first[0] == second[0]
    assert np.array_equal(first[1], second[1])
    assert first[2] == second[2]
    assert first[0] != other[0]


def test_an_item_does_not_depend_on_how_many_are_asked_for():
    few_images, few_labels, _ = styles.style_pixels(7, seed=3)
    many_images, many_labels, _ = styles.style_pixels(20, seed=3)
    assert np.array_equal(few_images, many_images[:7])
    assert np.array_equal(few_labels, many_labels[:7])


def test_all_digits_and_variants_appear_in_equal_numbers():
    _, labels, variants = styles.make_style_strokes(2 * ONE_ROUND, seed=1)
    assert set(zip(labels.tolist(), variants, strict=True)) == ALL_VARIANTS
    assert np.bincount(labels, minlength=10).tolist() == [2 * ONE_ROUND // 10] * 10


def test_drawings_stay_on_the_canvas_with_time_moving_forward():
    drawings = styles.make_style_drawings(ONE_ROUND * 2, seed=2)
    for drawing in drawings:
        margin = drawing.pen_px / 2
        xs = np.concatenate([stroke[0] for stroke in drawing.strokes])
        ys = np.concatenate([stroke[1] for stroke in drawing.strokes])
        assert margin <= xs.min() and xs.max() <= CANVAS_PX - margin
        assert margin <= ys.min() and ys.max() <= CANVAS_PX - margin
        side = max(np.ptp(xs), np.ptp(ys)) + drawing.pen_px
        assert 0.24 * CANVAS_PX <= side <= 0.96 * CANVAS_PX
        times = np.concatenate([stroke[2] for stroke in drawing.strokes])
        assert np.all(np.diff(times) >= 0)
        starts = [stroke[2][0] for stroke in drawing.strokes]
        ends = [stroke[2][-1] for stroke in drawing.strokes]
        assert all(start > end for start, end in zip(starts[1:], ends[:-1], strict=True))
        assert all(len(stroke[0]) == len(stroke[1]) == len(stroke[2]) for stroke in drawing.strokes)


def test_most_drawings_use_the_games_pen_and_the_rest_another():
    pens = np.array([d.pen_px for d in styles.make_style_drawings(400, seed=4)])
    assert 0.6 < np.mean(pens == 14) < 0.9
    assert pens.min() >= 8 and pens.max() <= 28


def test_pixels_are_what_the_game_makes_of_the_png_the_browser_would_send():
    drawings = styles.make_style_drawings(ONE_ROUND, seed=8)
    images, _, _ = styles.style_pixels(ONE_ROUND, seed=8)
    for drawing, image in zip(drawings, images, strict=True):
        png = render_strokes(drawing.strokes, pen_px=drawing.pen_px)
        assert np.array_equal(image, to_uint8(preprocess_png(png).pixels))


def test_every_drawing_has_ink():
    images, _, _ = styles.style_pixels(ONE_ROUND, seed=9)
    assert images.dtype == np.uint8 and images.shape == (ONE_ROUND, 28, 28)
    assert (images.reshape(len(images), -1).max(axis=1) == 255).all()


def test_a_blank_drawing_is_drawn_again(monkeypatch):
    real = styles.drawing_pixels
    seen = []

    def blank_on_first_attempt(drawing):
        seen.append(drawing)
        return None if len(seen) == 1 else real(drawing)

    monkeypatch.setattr(styles, "drawing_pixels", blank_on_first_attempt)
    images, _, _ = styles.style_pixels(1, seed=10)
    assert len(seen) == 2 and seen[0].strokes != seen[1].strokes
    assert np.array_equal(images[0], real(styles._item(10, 0, attempt=1)))


def test_the_cache_returns_what_drawing_afresh_gives(tmp_path):
    fresh = styles.style_pixels(12, seed=11)
    first = styles.style_pixels(12, seed=11, cache_dir=tmp_path)
    (cached_file,) = tmp_path.glob("styles-n12-seed11-*.npz")
    second = styles.style_pixels(12, seed=11, cache_dir=tmp_path)
    for result in (first, second):
        assert np.array_equal(result[0], fresh[0])
        assert np.array_equal(result[1], fresh[1])
        assert result[2] == fresh[2]
    assert cached_file.exists()


def test_the_benchmark_counts_not_a_digit_as_a_refused_error():
    n = 40
    _, labels, variants = styles.style_pixels(n, seed=styles.STYLE_BENCH_SEED)

    def predict(images):
        assert images.dtype == np.float32 and images.shape == (n, 28, 28)
        assert 0.0 <= images.min() and images.max() == 1.0
        probabilities = np.full((n, 11), 0.01)
        probabilities[np.arange(n), labels] = 0.9
        probabilities[labels == 7, 10] = 0.95  # every 7 refused
        probabilities[labels == 3, 8] = 0.99  # every 3 read as an 8
        return probabilities

    stats = styles.style_benchmark(predict, n=n)
    assert stats["size"] == n and stats["seed"] == styles.STYLE_BENCH_SEED
    assert stats["accuracy"] == pytest.approx(0.8)
    assert stats["refused"] == pytest.approx(0.1)
    assert stats["per_digit_accuracy"]["7"] == 0.0
    assert stats["per_digit_refused"]["7"] == 1.0
    assert stats["per_digit_accuracy"]["3"] == 0.0
    assert stats["per_digit_refused"]["3"] == 0.0
    assert stats["per_digit_accuracy"]["5"] == 1.0
    seven = f"7/{variants[7]}"
    assert stats["per_variant"][seven]["refused"] == 1.0
    assert stats["per_variant"][seven]["wrong_guesses"] == {"not a digit": 1}
    three = f"3/{variants[3]}"
    assert stats["per_variant"][three]["wrong_guesses"] == {
        "8": stats["per_variant"][three]["count"]
    }
    assert sum(v["count"] for v in stats["per_variant"].values()) == n


def test_the_benchmark_takes_ten_columns_and_refuses_other_shapes():
    stats = styles.style_benchmark(lambda images: np.eye(10)[np.zeros(len(images), int)], n=20)
    assert stats["accuracy"] == pytest.approx(0.1)
    assert stats["refused"] == 0.0
    with pytest.raises(ValueError, match=r"\(N, 10\) or \(N, 11\)"):
        styles.style_benchmark(lambda images: np.zeros((len(images), 12)), n=20)


def test_the_picture_has_a_row_per_variant(tmp_path):
    path = tmp_path / "styles.png"
    styles.plot_styles(path, per_variant=1)
    assert path.read_bytes().startswith(b"\x89PNG")
