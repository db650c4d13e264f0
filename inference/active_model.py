"""The active model version's model: the worker's one question to the database.

:func:`predict_with_active` asks which :class:`~inference.models.ModelVersion` is active
for every batch, so activating a version takes effect at the next prediction in every
worker process without a restart; the interpreter itself is loaded once per process
(:func:`inference.runtime.load_model`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.runtime import load_model


class NoActiveModel(RuntimeError):
    """No model version is active, so there is nothing to predict with."""


def active_version() -> tuple[str, Path]:
    """Name and model file of the active version: one indexed query, cheap per batch."""
    from inference.models import ModelVersion

    version = ModelVersion.active()
    if version is None:
        raise NoActiveModel("No model version is active; activate one in the admin.")
    return version.name, version.tflite_path


def predict_with_active(pixels: np.ndarray) -> tuple[np.ndarray, str]:
    """Probabilities (N, 10 or 11) from the active model, and that model's version name.

    Asks the database every call, so a newly activated version serves the next batch
    in every worker process without a restart.
    """
    name, path = active_version()
    return load_model(name, path).predict(pixels), name
