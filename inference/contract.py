"""The model contract: what every model of this project reads and answers, and how a
drawing's model input is stored. The one owner of these facts; everything else imports
them (serving, the worker's codec, the game's storage, review, export, training).

* Input: a (28, 28) float32 picture in [0, 1], ink = 1 (MNIST's format), fed to LiteRT
  as (N, 28, 28, 1).
* Output: 10 probabilities (the digits 0-9: default-v2 and older) or 11 (then "not a
  digit" in column :data:`NOT_DIGIT_CLASS`).
* Stored and sent: the picture as 784 uint8 grey levels (:func:`pixels_to_bytes`), a
  drawing's ``pixels`` column and the worker's messages; decoded by
  :func:`pixels_from_bytes` exactly as the worker feeds the model.

Free of Django and TensorFlow, so training, benchmarks and the web all use it.
"""

from __future__ import annotations

import numpy as np

FIELD_PX = 28
"""Side of the model's input, in pixels."""

PIXELS = FIELD_PX * FIELD_PX
"""Values in one input: 784, the length of a stored drawing's ``pixels``."""

DIGITS = 10
"""Digits 0-9: the first ten outputs of every model, and the probabilities we return."""

NOT_DIGIT_CLASS = 10
"""Column of "not a digit" in an 11-output model's probabilities (the training label of
a drawing that is not a digit)."""

OUTPUT_WIDTHS = (DIGITS, NOT_DIGIT_CLASS + 1)
"""The model output widths we serve: digits only, or digits and "not a digit"."""


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """The model's input as 256 grey levels: how a drawing is stored and sent to a worker."""
    return np.rint(np.clip(np.asarray(pixels, dtype=np.float32), 0.0, 1.0) * 255).astype(np.uint8)


def from_uint8(levels: np.ndarray) -> np.ndarray:
    """Back to float32 in [0, 1], exactly as the worker feeds the model."""
    return np.asarray(levels, dtype=np.uint8).astype(np.float32) * np.float32(1 / 255)


def pixels_to_bytes(pixels: np.ndarray) -> bytes:
    """One or more (28, 28) float inputs in [0, 1] as 784 uint8 bytes each."""
    return to_uint8(pixels).tobytes()


def is_pixel_bytes(buffer: bytes | memoryview | None) -> bool:
    """True for a stored input of exactly one drawing (784 bytes)."""
    return buffer is not None and len(bytes(buffer)) == PIXELS


def levels_from_bytes(buffer: bytes | memoryview) -> np.ndarray:
    """Stored bytes as uint8 grey levels: (28, 28) for one drawing, (N, 28, 28) for more."""
    levels = np.frombuffer(bytes(buffer), dtype=np.uint8)
    if levels.size % PIXELS:
        raise ValueError(f"{levels.size} bytes is not a whole number of {PIXELS}-byte drawings.")
    shape = (FIELD_PX, FIELD_PX) if levels.size == PIXELS else (-1, FIELD_PX, FIELD_PX)
    return levels.reshape(shape)


def pixels_from_bytes(buffer: bytes | memoryview) -> np.ndarray:
    """Stored bytes as the model's float32 input, shaped as :func:`levels_from_bytes`."""
    return from_uint8(levels_from_bytes(buffer))
