"""Celery tasks of model serving: small, idempotent, JSON in and out.

A drawing travels as base64 of its stored form (``inference.contract``: 784 uint8 grey
levels): about 1 KB of JSON, where a list of 784 floats would be 5-10 KB.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np
from celery import shared_task
from django.db import InterfaceError, OperationalError

from inference.active_model import predict_with_active
from inference.contract import FIELD_PX, PIXELS, pixels_from_bytes, pixels_to_bytes


def encode_pixels(pixels: np.ndarray) -> str:
    """A (28, 28) float drawing in [0, 1] as base64 of 784 uint8 bytes."""
    stored = pixels_to_bytes(np.asarray(pixels).reshape(FIELD_PX, FIELD_PX))
    return base64.b64encode(stored).decode("ascii")


def decode_pixels(batch: list[str]) -> np.ndarray:
    """Drawings (N, 28, 28) float32 in [0, 1] from :func:`encode_pixels` strings."""
    if not isinstance(batch, list) or not batch:
        raise ValueError("A batch is a non-empty list of base64 drawings.")
    buffer = bytearray()
    for index, item in enumerate(batch):
        try:
            raw = base64.b64decode(item, validate=True)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise ValueError(f"Drawing {index} is not valid base64.") from exc
        if len(raw) != PIXELS:
            raise ValueError(f"Drawing {index} has {len(raw)} bytes, expected {PIXELS}.")
        buffer += raw
    return pixels_from_bytes(buffer).reshape(-1, FIELD_PX, FIELD_PX)


@shared_task(
    name="inference.predict_pixels",
    # A batch of 64 takes a few milliseconds; anything near these limits is stuck.
    soft_time_limit=10,
    time_limit=15,
    # Only a database hiccup (locked SQLite file, dropped connection) is worth another
    # try; bad input would fail the same way again.
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=2,
    default_retry_delay=0.05,
)
def predict_pixels(batch: list[str]) -> dict:
    """Predict a batch of drawings in one model call.

    Returns ``{"model_version": str, "probabilities": [[K floats], ...]}`` in the
    order of ``batch``, K being the model's output width: 10 digits, or 11 with "not a
    digit" last (read by :class:`~inference.prediction.Prediction`). Pure function of
    its input and the active model: safe to rerun.
    """
    probabilities, version = predict_with_active(decode_pixels(batch))
    return {"model_version": version, "probabilities": probabilities.tolist()}
