"""Serve the trained model with LiteRT: loaded once per process, switched without a restart.

Free of Django, so training, benchmarks and tests use it directly; which version is
active is asked by :mod:`inference.active_model`. No TensorFlow here: LiteRT's
interpreter is a few MB.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from inference.contract import FIELD_PX, OUTPUT_WIDTHS


class LiteRTModel:
    """One ``.tflite`` model, single-threaded, predicting batches of 28x28 drawings.

    The interpreter's input is resized to the batch size only when that size changes:
    resizing re-plans the tensors, while a repeated size reuses the allocation.
    ``outputs`` is the model's own output width: 10 digits, or 11 for a model that also
    answers "not a digit" (see :mod:`inference.prediction`).
    """

    def __init__(self, path: Path | str, *, num_threads: int = 1) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"No model file at {self.path}")
        # One thread when serving: a worker process serves one batch at a time, and the
        # web and the worker share two cores; more interpreter threads would only fight
        # over them. Offline evaluation of thousands of drawings may take more.
        self._interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        output = self._interpreter.get_output_details()[0]
        self._output = output["index"]
        self.outputs = int(output["shape"][-1])
        if self.outputs not in OUTPUT_WIDTHS:
            raise ValueError(
                f"{self.path} has {self.outputs} outputs; a digit model has "
                f"{' or '.join(map(str, OUTPUT_WIDTHS))}."
            )
        self._batch_size: int | None = None
        # The interpreter is not thread-safe; the web process's command and a threaded
        # worker pool may share one model.
        self._lock = threading.Lock()

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        """Probabilities (N, outputs) float32 for drawings (N, 28, 28) float32 in [0, 1]."""
        pixels = np.asarray(pixels, dtype=np.float32)
        if pixels.ndim == 2:
            pixels = pixels[np.newaxis]
        if pixels.ndim != 3 or pixels.shape[1:] != (FIELD_PX, FIELD_PX):
            raise ValueError(f"Expected drawings of shape (N, 28, 28), got {pixels.shape}.")
        count = pixels.shape[0]
        if count == 0:
            return np.zeros((0, self.outputs), dtype=np.float32)
        batch = np.ascontiguousarray(pixels.reshape(count, FIELD_PX, FIELD_PX, 1))
        with self._lock:
            if count != self._batch_size:
                self._interpreter.resize_tensor_input(
                    self._input, [count, FIELD_PX, FIELD_PX, 1], strict=True
                )
                self._interpreter.allocate_tensors()
                self._batch_size = count
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output).copy()


# ---------------------------------------------------------------------------
# Per-process cache: a version is loaded once per process, not once per task
# ---------------------------------------------------------------------------
_cache: dict[tuple[str, str], LiteRTModel] = {}
_cache_lock = threading.Lock()


def load_model(version_name: str, path: Path | str) -> LiteRTModel:
    """The loaded model for this version, loading it on first use in this process.

    Only the most recently used version stays loaded: after a switch the old
    interpreter is dropped, so a worker's memory does not grow with each activation.
    """
    key = (version_name, str(path))
    model = _cache.get(key)
    if model is not None:
        return model
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            model = LiteRTModel(path)
            _cache.clear()
            _cache[key] = model
        return model


def loaded_versions() -> list[str]:
    """Names of the versions loaded in this process (for tests and diagnostics)."""
    return [name for name, _ in _cache]
