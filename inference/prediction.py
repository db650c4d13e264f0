"""What a prediction is, everywhere: the API's JSON, the game's live guess, the command.

The one owner of the rule that turns a model's outputs into an answer. A model has 10
outputs (the digits 0-9, default-v2 and older) or 11: the digits, then "not a digit" in
column ``NOT_DIGIT_CLASS``. Everything else (the worker, the game's services, the API)
hands the model's row to :meth:`Prediction.from_probabilities` and reads its fields.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from inference.contract import DIGITS, NOT_DIGIT_CLASS, OUTPUT_WIDTHS

PROBABILITY_DIGITS = 6
"""Decimals kept in probabilities: enough to rank and sum to 1, short on the wire."""


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one drawing.

    ``probabilities`` holds 10 numbers in [0, 1], one per digit. From a model with the
    11th output they are its calibrated probabilities as they are, so they sum to
    1 - p(not a digit); they are never renormalised.

    ``not_digit`` is True when "not a digit" is the most probable of the 11 outputs;
    ``digit`` is then None and ``confidence`` is p(not a digit). Otherwise ``digit`` is
    the most probable digit and ``confidence`` its probability. A blank drawing is never
    guessed: digit None, confidence 0.0, ten zeros, not_digit False.
    """

    digit: int | None
    confidence: float
    probabilities: list[float]
    blank: bool
    model_version: str
    not_digit: bool = False

    @classmethod
    def from_probabilities(cls, values: Sequence[float], *, model_version: str) -> Prediction:
        """The answer for one row of the model's output (10 or 11 finite numbers).

        Ties go to the lower column, as ``numpy.argmax`` does: a digit as probable as
        "not a digit" is named.
        """
        rounded = [round(float(p), PROBABILITY_DIGITS) for p in values]
        if len(rounded) not in OUTPUT_WIDTHS:
            raise ValueError(
                f"Expected {DIGITS} or {NOT_DIGIT_CLASS + 1} probabilities, got {len(rounded)}."
            )
        if not all(math.isfinite(p) for p in rounded):
            raise ValueError("Every probability must be a finite number.")
        best = max(range(len(rounded)), key=rounded.__getitem__)
        not_digit = best == NOT_DIGIT_CLASS
        return cls(
            digit=None if not_digit else best,
            confidence=rounded[best],
            probabilities=rounded[:DIGITS],
            blank=False,
            model_version=model_version,
            not_digit=not_digit,
        )

    @classmethod
    def blank_drawing(cls, *, model_version: str) -> Prediction:
        return cls(
            digit=None,
            confidence=0.0,
            probabilities=[0.0] * DIGITS,
            blank=True,
            model_version=model_version,
        )

    def as_json(self) -> dict:
        return {
            "digit": self.digit,
            "confidence": self.confidence,
            "probabilities": list(self.probabilities),
            "blank": self.blank,
            "not_digit": self.not_digit,
            "model_version": self.model_version,
        }
