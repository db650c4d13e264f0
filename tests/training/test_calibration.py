"""Calibration figures: ECE, reliability bins, temperature scaling and the diagram."""

from __future__ import annotations

import numpy as np
import pytest

from training import calibration


def calibrated_sample(n: int, k: int, rng: np.random.Generator):
    """Probabilities and labels drawn from those very probabilities: calibrated by design."""
    logits = rng.normal(0, 3, (n, k))
    probabilities = calibration.softmax(logits)
    cumulative = probabilities.cumsum(axis=1)
    labels = (rng.random((n, 1)) > cumulative).sum(axis=1)
    return probabilities, np.minimum(labels, k - 1)


@pytest.mark.parametrize("k", [10, 11])
def test_perfectly_calibrated_data_has_an_ece_near_zero(k):
    probabilities, labels = calibrated_sample(200_000, k, np.random.default_rng(0))
    assert calibration.expected_calibration_error(probabilities, labels) < 0.01


def test_overconfident_data_has_a_large_ece():
    probabilities, labels = calibrated_sample(50_000, 10, np.random.default_rng(1))
    logits = np.log(probabilities)
    sharpened = calibration.softmax(logits, temperature=0.3)  # the same labels, more sure
    assert calibration.expected_calibration_error(sharpened, labels) > 0.1


def test_ece_of_a_small_example_matches_the_hand_computed_value():
    # Top confidences 0.9, 0.9, 0.6, 0.6 with 3 bins (0, 1/3], (1/3, 2/3], (2/3, 1]:
    # bin 3 holds two at mean 0.9 with one right (accuracy 0.5): gap 0.4;
    # bin 2 holds two at mean 0.6 with both right (accuracy 1.0): gap 0.4.
    # ECE = 2/4 * 0.4 + 2/4 * 0.4 = 0.4.
    probabilities = np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.6, 0.4, 0.0], [0.2, 0.2, 0.6]])
    labels = np.array([0, 0, 0, 2])
    assert calibration.expected_calibration_error(probabilities, labels, bins=3) == pytest.approx(
        0.4
    )
    table = calibration.reliability_bins(probabilities, labels, bins=3)
    assert table["count"] == [0, 2, 2]
    assert table["confidence"] == [None, pytest.approx(0.6), pytest.approx(0.9)]
    assert table["accuracy"] == [None, 1.0, 0.5]


def test_a_confidence_on_a_bin_edge_falls_in_the_lower_bin():
    probabilities = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])
    table = calibration.reliability_bins(probabilities, np.array([0, 0, 1]), bins=2)
    assert table["count"] == [1, 2]


def test_not_a_digit_counts_as_the_top_label_of_an_eleven_column_row():
    probabilities = np.zeros((2, 11))
    probabilities[:, 10] = 0.8
    probabilities[:, 3] = 0.2
    # Both rows say "not a digit" at 0.8; one is right: accuracy 0.5, gap 0.3.
    assert calibration.expected_calibration_error(probabilities, np.array([10, 3])) == (
        pytest.approx(0.3)
    )


def test_labels_outside_the_columns_are_refused():
    with pytest.raises(ValueError, match="labels"):
        calibration.expected_calibration_error(np.full((2, 10), 0.1), np.array([0, 10]))


@pytest.mark.parametrize("temperature", [0.7, 1.0, 2.5])
def test_fit_temperature_recovers_the_temperature_that_made_the_labels(temperature):
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 4, (40_000, 10))
    probabilities = calibration.softmax(logits, temperature=temperature)
    labels = (rng.random((len(logits), 1)) > probabilities.cumsum(axis=1)).sum(axis=1)
    fitted = calibration.fit_temperature(logits, np.minimum(labels, 9))
    assert fitted == pytest.approx(temperature, rel=0.05)


def test_temperature_scaling_lowers_the_ece_of_an_overconfident_model():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 4, (20_000, 10))
    truth = calibration.softmax(logits, temperature=2.5)
    labels = np.minimum((rng.random((len(logits), 1)) > truth.cumsum(axis=1)).sum(axis=1), 9)
    before = calibration.expected_calibration_error(calibration.softmax(logits), labels)
    fitted = calibration.fit_temperature(logits, labels)
    after = calibration.expected_calibration_error(calibration.softmax(logits, fitted), labels)
    assert before > 0.1
    assert after < 0.02


@pytest.mark.parametrize("temperature", [0.05, 1.0, 3.0, 20.0])
def test_softmax_rows_sum_to_one_and_keep_the_order(temperature):
    logits = np.random.default_rng(4).normal(0, 50, (100, 11))
    probabilities = calibration.softmax(logits, temperature)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.array_equal(probabilities.argmax(axis=1), logits.argmax(axis=1))


def test_softmax_refuses_a_temperature_that_is_not_positive():
    with pytest.raises(ValueError, match="positive"):
        calibration.softmax(np.zeros((1, 10)), temperature=0)


def test_plot_reliability_writes_a_png(tmp_path):
    probabilities, labels = calibrated_sample(2_000, 10, np.random.default_rng(5))
    path = tmp_path / "reliability.png"
    calibration.plot_reliability(probabilities, labels, path, title="synthetic")
    assert path.read_bytes().startswith(b"\x89PNG")
