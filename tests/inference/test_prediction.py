"""Prediction: the one rule that turns a model's row (10 or 11 outputs) into an answer."""

from __future__ import annotations

import math

import pytest

from inference.contract import NOT_DIGIT_CLASS
from inference.prediction import Prediction
from tests.inference.drawings import blank_answer


def digits_row(digit: int, p: float) -> list[float]:
    """Ten probabilities summing to 1, ``p`` on ``digit``."""
    rest = (1 - p) / 9
    return [p if d == digit else rest for d in range(10)]


def with_not_digit(digit_probabilities: list[float], p_not_digit: float) -> list[float]:
    """An 11-output row: the ten digits scaled to 1 - p_not_digit, then "not a digit"."""
    scale = 1 - p_not_digit
    return [p * scale for p in digit_probabilities] + [p_not_digit]


def test_ten_outputs_name_the_most_probable_digit_as_before():
    prediction = Prediction.from_probabilities(digits_row(7, 0.91), model_version="default-v2")
    assert prediction.digit == 7
    assert prediction.confidence == pytest.approx(0.91)
    assert prediction.not_digit is False
    assert len(prediction.probabilities) == 10
    assert prediction.as_json() == {
        "digit": 7,
        "confidence": 0.91,
        "probabilities": prediction.probabilities,
        "blank": False,
        "not_digit": False,
        "model_version": "default-v2",
    }


def test_a_ten_output_model_never_answers_not_a_digit():
    unsure = [0.1] * 10  # nothing stands out: still a digit, the first of the tied
    prediction = Prediction.from_probabilities(unsure, model_version="default-v2")
    assert prediction.not_digit is False and prediction.digit == 0


def test_eleven_outputs_with_not_a_digit_first_answer_not_a_digit():
    row = with_not_digit(digits_row(4, 0.6), 0.85)
    prediction = Prediction.from_probabilities(row, model_version="default-v3")
    assert prediction.not_digit is True
    assert prediction.digit is None
    assert prediction.confidence == pytest.approx(0.85)
    assert prediction.as_json()["not_digit"] is True
    assert prediction.as_json()["digit"] is None


def test_the_ten_digit_probabilities_come_back_as_they_are_not_renormalised():
    row = with_not_digit(digits_row(4, 0.6), 0.85)
    prediction = Prediction.from_probabilities(row, model_version="default-v3")
    assert prediction.probabilities == pytest.approx(row[:10], abs=1e-6)
    assert sum(prediction.probabilities) == pytest.approx(0.15, abs=1e-5)


def test_eleven_outputs_with_a_digit_first_name_the_digit_and_its_own_probability():
    row = with_not_digit(digits_row(3, 0.9), 0.05)
    prediction = Prediction.from_probabilities(row, model_version="default-v3")
    assert prediction.not_digit is False
    assert prediction.digit == 3
    assert prediction.confidence == pytest.approx(0.9 * 0.95, abs=1e-6)


def test_a_digit_that_is_not_the_best_of_eleven_is_still_not_named():
    # "not a digit" at 0.4 beats every digit (the best, 2, has 0.3).
    row = [0.3 if d == 2 else 0.3 / 9 for d in range(10)] + [0.4]
    prediction = Prediction.from_probabilities(row, model_version="v3")
    assert prediction.not_digit is True and prediction.confidence == pytest.approx(0.4)


def test_a_tie_between_a_digit_and_not_a_digit_names_the_digit():
    row = [0.0] * 11
    row[5] = row[NOT_DIGIT_CLASS] = 0.5
    prediction = Prediction.from_probabilities(row, model_version="v3")
    assert prediction.not_digit is False and prediction.digit == 5


def test_a_tie_between_digits_names_the_lower_one():
    row = [0.0] * 11
    row[6] = row[9] = 0.45
    row[NOT_DIGIT_CLASS] = 0.1
    assert Prediction.from_probabilities(row, model_version="v3").digit == 6


def test_a_blank_drawing_is_neither_a_digit_nor_not_a_digit():
    prediction = Prediction.blank_drawing(model_version="default-v3")
    assert prediction.as_json() == blank_answer("default-v3")


@pytest.mark.parametrize("count", [0, 9, 12])
def test_any_other_number_of_outputs_is_refused(count):
    with pytest.raises(ValueError, match="10 or 11 probabilities"):
        Prediction.from_probabilities([0.1] * count, model_version="v")


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_number_that_is_not_finite_is_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        Prediction.from_probabilities([bad] + [0.1] * 10, model_version="v")


def test_every_answer_and_every_example_matches_the_openapi_contract():
    from jsonschema import Draft202012Validator

    from inference.views import openapi_document

    document = openapi_document()
    content = document["paths"]["/predict"]["post"]["responses"]["200"]["content"]
    validator = Draft202012Validator(
        {**content["application/json"]["schema"], "components": document["components"]}
    )
    answers = [
        Prediction.from_probabilities(with_not_digit(digits_row(2, 0.7), 0.9), model_version="v3"),
        Prediction.from_probabilities(digits_row(2, 0.7), model_version="v2"),
        Prediction.blank_drawing(model_version="v3"),
    ]
    for answer in answers:
        validator.validate(answer.as_json())
    examples = content["application/json"]["examples"]
    assert {"digit", "not_digit", "blank"} <= set(examples)
    for example in examples.values():
        validator.validate(example["value"])
        row = example["value"]
        if row["not_digit"]:
            assert row["digit"] is None and row["confidence"] > max(row["probabilities"])
