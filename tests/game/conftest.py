"""Fixtures for the game's tests: players, games, drawings of real digits."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from guessgame.game import services
from guessgame.game.models import Game, Round
from inference.canvas import render_strokes
from tests.e2e.strokes import digit_strokes

PASSWORD = "a-long-enough-password-42"


@pytest.fixture
def make_player(db):
    def make(username: str = "ada", **extra):
        return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)

    return make


@pytest.fixture
def player(make_player):
    return make_player("ada")


@pytest.fixture
def other_player(make_player):
    return make_player("bob")


@pytest.fixture
def queued():
    """The prediction queue, mocked: unit tests check what was queued, not Celery."""
    with mock.patch("guessgame.game.tasks.predict_drawing.delay") as delay:
        yield delay


def drawing_of(digit: int) -> tuple[bytes, list]:
    strokes = digit_strokes(digit)
    return render_strokes(strokes), strokes


@pytest.fixture
def game(player) -> Game:
    return services.game_start(player=player)


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
