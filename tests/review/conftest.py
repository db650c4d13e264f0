"""Factories for the staff review tests: players, staff and drawings that look drawn.

Drawings are made the way the game makes them: strokes rendered by
``inference.canvas.render_strokes`` into the browser's PNG, preprocessed by
``inference.preprocess.preprocess_png`` into the 784 bytes the model sees.
"""

from __future__ import annotations

import factory
import numpy as np
import pytest
from django.contrib.auth import get_user_model

from guessgame.game.models import Drawing
from inference.canvas import render_strokes
from inference.models import ModelVersion
from inference.preprocess import preprocess_png

# Seven-segment digits: segment -> ((x0, y0), (x1, y1)) on the 225 px canvas.
SEGMENTS = {
    "a": ((75, 45), (150, 45)),
    "b": ((150, 45), (150, 112)),
    "c": ((150, 112), (150, 180)),
    "d": ((150, 180), (75, 180)),
    "e": ((75, 180), (75, 112)),
    "f": ((75, 112), (75, 45)),
    "g": ((75, 112), (150, 112)),
}
DIGIT_SEGMENTS = {
    0: "abcdef",
    1: "bc",
    2: "abged",
    3: "abgcd",
    4: "fgbc",
    5: "afgcd",
    6: "afgedc",
    7: "abc",
    8: "abcdefg",
    9: "abcdfg",
}
POINTS_PER_SEGMENT = 6
MS_PER_POINT = 15


def digit_strokes(digit: int, *, shift: float = 0.0) -> list[list[list[float]]]:
    """Strokes for ``digit`` in the Quick, Draw! layout, one stroke per segment."""
    strokes, t = [], 0
    for name in DIGIT_SEGMENTS[digit]:
        (x0, y0), (x1, y1) = SEGMENTS[name]
        steps = np.linspace(0, 1, POINTS_PER_SEGMENT)
        xs = [round(float(x0 + (x1 - x0) * s + shift), 1) for s in steps]
        ys = [round(float(y0 + (y1 - y0) * s), 1) for s in steps]
        ts = [t + i * MS_PER_POINT for i in range(POINTS_PER_SEGMENT)]
        t = ts[-1] + 100
        strokes.append([xs, ys, ts])
    return strokes


def model_pixels(png: bytes) -> bytes:
    result = preprocess_png(png)
    return np.round(result.pixels * 255).astype(np.uint8).tobytes()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"player{n}")
    password = factory.django.Password("a long enough password")


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class DrawingFactory(factory.django.DjangoModelFactory):
    """A predicted drawing; by default the model guessed it right at 0.9."""

    class Meta:
        model = Drawing

    player = factory.SubFactory(UserFactory)
    label = factory.Sequence(lambda n: n % 10)
    drawn_digit = factory.LazyAttribute(lambda o: o.label)
    strokes = factory.LazyAttribute(lambda o: digit_strokes(o.drawn_digit))
    image_png = factory.LazyAttribute(lambda o: render_strokes(o.strokes))
    pixels = factory.LazyAttribute(lambda o: model_pixels(o.image_png))
    prediction_status = Drawing.Prediction.DONE
    predicted_digit = factory.LazyAttribute(lambda o: o.label)
    confidence = 0.9

    class Params:
        wrong = factory.Trait(
            predicted_digit=factory.LazyAttribute(lambda o: (o.label + 1) % 10), confidence=0.4
        )
        # The model's answer was "not a digit" (an 11-output model).
        not_a_digit = factory.Trait(predicted_digit=None, not_digit=True, confidence=0.8)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.pop("drawn_digit", None)
        return super()._create(model_class, *args, **kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        kwargs.pop("drawn_digit", None)
        return super()._build(model_class, *args, **kwargs)


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def player(db):
    return UserFactory()


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def player_client(client, player):
    client.force_login(player)
    return client


def make_version(
    tmp_path, name: str, *, active: bool = False, verdict: str | None = "accept"
) -> ModelVersion:
    """A model version on disk (a placeholder model file) with the gate's ``verdict``
    (None: never judged by the gate, like a model trained outside retrain)."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "model.tflite").write_bytes(b"not really a model")
    metrics = (
        {} if verdict is None else {"gate": {"verdict": verdict, "reason": f"{verdict}: test"}}
    )
    version = ModelVersion.objects.create(name=name, path=str(folder), metrics=metrics)
    if active:
        version.activate()
    return version
