"""The LiteRT runtime: batch predictions, one load per process, hot switch of versions."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from inference import runtime
from inference.models import ModelVersion
from inference.registry import register_model_dir
from inference.runtime import LiteRTModel, NoActiveModel, load_model, predict_with_active
from tests.conftest import ROOT, subprocess_env


def drawings(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pixels = np.zeros((count, 28, 28), dtype=np.float32)
    for index in range(count):
        top, left = rng.integers(4, 12, size=2)
        pixels[index, top : top + 14, left : left + 3] = 1.0  # a bar, roughly a "1"
        pixels[index] = np.clip(pixels[index] + rng.random((28, 28)) * 0.05, 0, 1)
    return pixels


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


def test_predict_with_active_names_the_version_that_answered(active_model):
    probabilities, version = predict_with_active(drawings(2))
    assert version == active_model.name
    assert probabilities.shape == (2, LiteRTModel(active_model.tflite_path).outputs)


def test_a_model_that_answers_not_a_digit_gives_eleven_probabilities(not_digit_model):
    model = LiteRTModel(not_digit_model.tflite_path)
    probabilities = model.predict(drawings(3))
    assert model.outputs == 11 and probabilities.shape == (3, 11)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert model.predict(np.zeros((0, 28, 28), dtype=np.float32)).shape == (0, 11)


def test_activating_another_version_switches_at_the_next_prediction(active_model, tmp_path):
    copy = shutil.copytree(active_model.directory, tmp_path / "second-v2")
    second = register_model_dir(copy, name="second-v2")
    second.activate()

    _, version = predict_with_active(drawings(1))

    assert version == "second-v2"
    # The old interpreter is dropped: memory does not grow with each activation.
    assert runtime.loaded_versions() == ["second-v2"]


@pytest.mark.django_db
def test_with_no_active_version_it_says_so():
    ModelVersion.objects.update(is_active=False)
    with pytest.raises(NoActiveModel, match="No model version is active"):
        predict_with_active(drawings(1))


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
