"""Model inputs for the runtime's tests: seeded bars, roughly 1s, with a little noise."""

from __future__ import annotations

import numpy as np


def drawings(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pixels = np.zeros((count, 28, 28), dtype=np.float32)
    for index in range(count):
        top, left = rng.integers(4, 12, size=2)
        pixels[index, top : top + 14, left : left + 3] = 1.0  # a bar, roughly a "1"
        pixels[index] = np.clip(pixels[index] + rng.random((28, 28)) * 0.05, 0, 1)
    return pixels


def blank_answer(model_version: str) -> dict:
    """What every path answers for a blank drawing (the API's documented JSON): no
    digit, not "not a digit" either, zero confidence, and no worker asked."""
    return {
        "digit": None,
        "confidence": 0.0,
        "probabilities": [0.0] * 10,
        "blank": True,
        "not_digit": False,
        "model_version": model_version,
    }
