"""The LiteRT runtime: batch predictions, one load per process, hot switch of versions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from inference import runtime
from inference.runtime import LiteRTModel, load_model
from tests.conftest import ROOT, subprocess_env
from tests.inference.drawings import drawings


@pytest.fixture
def model(active_model) -> LiteRTModel:
    return LiteRTModel(active_model.tflite_path)


def test_it_predicts_a_row_of_the_models_width_per_drawing_for_any_batch_size(model):
    assert model.outputs in (10, 11)
    for count in (1, 3, 3, 7, 1):
        probabilities = model.predict(drawings(count))
        assert probabilities.shape == (count, model.outputs)
        assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
        assert (probabilities >= 0).all()


def test_a_drawing_gets_the_same_answer_alone_and_inside_a_batch(model):
    batch = drawings(5, seed=3)
    together = model.predict(batch)
    for index in range(5):
        alone = model.predict(batch[index])
        assert np.allclose(alone[0], together[index], atol=1e-5)


def test_it_rejects_input_that_is_not_28_by_28(model):
    with pytest.raises(ValueError, match="28, 28"):
        model.predict(np.zeros((2, 32, 32), dtype=np.float32))


def test_an_empty_batch_costs_nothing(model):
    assert model.predict(np.zeros((0, 28, 28), dtype=np.float32)).shape == (0, model.outputs)


def test_a_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file"):
        LiteRTModel(tmp_path / "model.tflite")


def test_a_version_is_loaded_once_per_process(active_model):
    first = load_model(active_model.name, active_model.tflite_path)
    assert load_model(active_model.name, active_model.tflite_path) is first
    assert runtime.loaded_versions() == [active_model.name]


def test_a_model_that_answers_not_a_digit_gives_eleven_probabilities(not_digit_model):
    model = LiteRTModel(not_digit_model.tflite_path)
    probabilities = model.predict(drawings(3))
    assert model.outputs == 11 and probabilities.shape == (3, 11)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert model.predict(np.zeros((0, 28, 28), dtype=np.float32)).shape == (0, 11)


def test_the_web_and_worker_code_paths_never_import_tensorflow():
    """TensorFlow (3-4 s to import, ~540 MB) stays in training processes: a fresh process
    loads the web app, the Celery app and its tasks, preprocesses a drawing and predicts
    it with the shipped model, and TensorFlow is still not imported."""
    script = """
import sys, django
django.setup()
import guessgame.wsgi, guessgame.celery, guessgame.game.tasks, guessgame.game.views
import inference.tasks, inference.views, inference.client
from pathlib import Path
from inference.canvas import render_strokes
from inference.preprocess import preprocess_png
from inference.runtime import LiteRTModel
drawing = preprocess_png(render_strokes([[[112, 40], [112, 190]]]))
model = LiteRTModel(Path("inference/shipped/default-v2/model.tflite"))
probabilities = model.predict(drawing.pixels[None])
assert probabilities.shape == (1, 10), probabilities.shape
print(sorted(name for name in sys.modules if name.split(".")[0] in {"tensorflow", "keras"}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=subprocess_env(),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
