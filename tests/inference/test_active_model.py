"""The active version's model: named with each answer, switched at the next prediction."""

from __future__ import annotations

import shutil

import pytest

from inference import runtime
from inference.active_model import NoActiveModel, predict_with_active
from inference.models import ModelVersion
from inference.registry import register_model_dir
from inference.runtime import LiteRTModel
from tests.inference.drawings import drawings


def test_predict_with_active_names_the_version_that_answered(active_model):
    probabilities, version = predict_with_active(drawings(2))
    assert version == active_model.name
    assert probabilities.shape == (2, LiteRTModel(active_model.tflite_path).outputs)


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
