"""Write the serving model ``model.tflite`` beside ``model.keras`` and prove they agree.

The web and worker processes never import TensorFlow: they run the LiteRT interpreter
(``ai_edge_litert``) on this file. The export is float32, without quantisation, and its
batch dimension is dynamic so the worker can predict N drawings at once with
``interpreter.resize_tensor_input``. We check it on the whole MNIST test set: the largest
absolute difference between Keras' and LiteRT's probabilities must be at most 1e-5.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import tensorflow as tf

from training.evaluate import tflite_predict

MAX_ABS_DIFF = 1e-5


class ExportMismatchError(RuntimeError):
    """The LiteRT model does not give the Keras model's probabilities."""


def export_tflite(model: tf.keras.Model, path: str | Path) -> Path:
    """Convert a Keras model to a float32 LiteRT flatbuffer with a dynamic batch size."""
    path = Path(path)
    # The Keras converter keeps the batch dimension dynamic (shape_signature -1).
    # Keras prints the SavedModel's signature (a dozen TensorSpec lines) while converting.
    with contextlib.redirect_stdout(io.StringIO()):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = []  # float32: quantisation would move probabilities
        path.write_bytes(converter.convert())
    return path


def verify_tflite(
    keras_probabilities: np.ndarray, tflite_path: str | Path, images: np.ndarray
) -> float:
    """The largest |Keras - LiteRT| probability over ``images``; raise if over 1e-5."""
    lite = tflite_predict(tflite_path)(images)
    diff = float(np.max(np.abs(lite - keras_probabilities))) if len(images) else 0.0
    if not np.array_equal(np.argmax(lite, 1), np.argmax(keras_probabilities, 1)) or (
        diff > MAX_ABS_DIFF
    ):
        raise ExportMismatchError(
            f"LiteRT and Keras disagree: max abs probability difference {diff:.2e} "
            f"(limit {MAX_ABS_DIFF:.0e})."
        )
    return diff
