"""Players, games and drawings for tests: plain functions any test module imports
(fixtures wrap them in conftest.py files; test modules never import each other)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.utils import timezone

from guessgame.game import services
from guessgame.game.models import Drawing, Game, Round
from inference.canvas import render_strokes
from inference.models import ModelActivation, ModelVersion
from inference.preprocess import preprocess_png
from tests.e2e.strokes import digit_strokes

PASSWORD = "a-long-enough-password-42"


def make_user(username: str = "ada", **extra):
    """A signed-up player (or staff, with ``is_staff=True``) whose password is PASSWORD."""
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)


def drawing_of(digit: int) -> tuple[bytes, list]:
    strokes = digit_strokes(digit)
    return render_strokes(strokes), strokes


def first_round(game: Game) -> Round:
    current = services.game_current_round(game=game)
    return services.round_start(round=current)


DRAWN_IN = timedelta(seconds=3)
"""How long a test's drawing took at least, unless a test says when it was sent: longer
than ``digit_strokes`` take to draw, so the server's pace check passes."""


def submit(round: Round, player, *, digit: int | None = None, now=None):
    """Send a drawing of the target (or ``digit``); a round started less than DRAWN_IN
    ago is moved back, as if the player had been drawing for that long."""
    _, strokes = drawing_of(round.target if digit is None else digit)
    if now is None and round.started_at is not None:
        drawing_since = timezone.now() - DRAWN_IN
        if round.started_at > drawing_since:
            Round.objects.filter(pk=round.pk).update(started_at=drawing_since)
            round.started_at = drawing_since
    return services.round_submit(round=round, player=player, strokes=strokes, now=now)


def probabilities_for(digit: int, confidence: float) -> list[float]:
    rest = (1 - confidence) / 9
    return [confidence if d == digit else rest for d in range(10)]


def not_digit_probabilities(confidence: float, *, runner_up: int = 0) -> list[float]:
    """An 11-output row whose answer is "not a digit" at ``confidence``; the rest of the
    probability goes mostly to ``runner_up`` (e.g. the round's target)."""
    rest = 1 - confidence
    digits = [rest * (0.91 if d == runner_up else 0.01) for d in range(10)]
    return [*digits, confidence]


def play_round(game: Game, player, *, correct: bool = True, confidence: float = 0.9, seconds=5):
    """Play the current round through: start, submit, and record the model's answer."""
    round = services.game_current_round(game=game)
    start = timezone.now() - timedelta(seconds=seconds)
    services.round_start(round=round, now=start)
    round.refresh_from_db()
    drawing = submit(round, player)
    guess = round.target if correct else (round.target + 1) % 10
    services.record_prediction(
        drawing=drawing, probabilities=probabilities_for(guess, confidence), model_version=None
    )
    round.refresh_from_db()
    return round


def finish_game(player, *, correct_rounds: int = 10, confidence: float = 0.9, finished_at=None):
    """A whole game: the first ``correct_rounds`` are recognised."""
    game = services.game_start(player=player)
    with mock.patch("guessgame.game.tasks.predict_drawing.delay"):
        for number in range(10):
            play_round(game, player, correct=number < correct_rounds, confidence=confidence)
    game.refresh_from_db()
    if finished_at is not None:
        Game.objects.filter(pk=game.pk).update(finished_at=finished_at)
        game.refresh_from_db()
    return game


# ---------------------------------------------------------------------------
# Staff review: players, staff, predicted drawings, model versions on disk
# ---------------------------------------------------------------------------
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


def boxy_digit_strokes(digit: int, *, shift: float = 0.0) -> list[list[list[float]]]:
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
    strokes = factory.LazyAttribute(lambda o: boxy_digit_strokes(o.drawn_digit))
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


def switch_to(version: ModelVersion) -> tuple:
    """How ``version`` became active, from its audit row: (kind, from_version, changed_by,
    note)."""
    change = ModelActivation.objects.get(to_version=version)
    return change.kind, change.from_version, change.changed_by, change.note
