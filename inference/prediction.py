"""What a prediction is, everywhere: the API's JSON, the game's live guess, the command."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CLASSES = 10
PROBABILITY_DIGITS = 6
"""Decimals kept in probabilities: enough to rank and sum to 1, short on the wire."""


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one drawing.

    ``probabilities`` holds 10 numbers in [0, 1], one per digit. A blank drawing is never
    guessed: digit None, confidence 0.0 and ten zeros.
    """

    digit: int | None
    confidence: float
    probabilities: list[float]
    blank: bool
    model_version: str

    @classmethod
    def from_probabilities(cls, probabilities: Sequence[float], *, model_version: str):
        """The digit with the highest probability, and that probability as confidence."""
        values = [round(float(p), PROBABILITY_DIGITS) for p in probabilities]
        if len(values) != CLASSES:
            raise ValueError(f"Expected {CLASSES} probabilities, got {len(values)}.")
        digit = max(range(CLASSES), key=values.__getitem__)
        return cls(
            digit=digit,
            confidence=values[digit],
            probabilities=values,
            blank=False,
            model_version=model_version,
        )

    @classmethod
    def blank_drawing(cls, *, model_version: str) -> Prediction:
        return cls(
            digit=None,
            confidence=0.0,
            probabilities=[0.0] * CLASSES,
            blank=True,
            model_version=model_version,
        )

    def as_json(self) -> dict:
        return {
            "digit": self.digit,
            "confidence": self.confidence,
            "probabilities": list(self.probabilities),
            "blank": self.blank,
            "model_version": self.model_version,
        }
