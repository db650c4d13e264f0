"""Live guesses through a REAL Celery worker: POST /guess (free draw, a PNG) and a round's
guess (strokes the server draws), which ends the round when it names the target."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from guessgame.game import services
from guessgame.game.models import Drawing
from inference.canvas import render_strokes
from tests.e2e.strokes import NOT_DIGITS, digit_strokes, line_strokes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def guess(client, strokes) -> dict:
    upload = SimpleUploadedFile("drawing.png", render_strokes(strokes), content_type="image/png")
    response = client.post(reverse("live_guess"), {"image": upload})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def guessing(client, worker_process, settings):
    settings.API_RATE = "off"
    return client


@pytest.mark.parametrize("shape", sorted(NOT_DIGITS))
def test_a_scribble_is_told_in_words_that_it_is_not_a_digit(guessing, not_digit_model, shape):
    answer = guess(guessing, line_strokes(NOT_DIGITS[shape]))
    assert answer["not_digit"] is True, answer
    assert answer["digit"] is None and answer["blank"] is False
    assert answer["message"] == "That doesn't look like a digit"
    assert len(answer["probabilities"]) == 10
    assert answer["model_version"] == not_digit_model.name


def test_a_clear_seven_is_still_a_seven(guessing, not_digit_model):
    answer = guess(guessing, digit_strokes(7))
    assert answer["digit"] == 7 and answer["not_digit"] is False
    assert "message" not in answer


def test_a_blank_canvas_stays_blank(guessing, active_model):
    assert guess(guessing, []) == {"blank": True, "message": "Draw something first."}


# --- a round's live guess: strokes in, drawn by the server, through a REAL worker ---


def guess_in_round(client, round, strokes) -> dict:
    response = client.post(
        reverse("round_guess", args=[round.pk]),
        data=json.dumps({"strokes": strokes}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def playing(guessing, player):
    """The player's first round, started ten seconds ago (the drawings take that long)."""
    guessing.force_login(player)
    game = services.game_start(player=player)
    round = services.round_start(
        round=game.rounds.get(number=1), now=timezone.now() - timedelta(seconds=10)
    )
    return guessing, round


def test_a_clear_digit_drawn_in_a_round_is_recognised_and_ends_it(playing, not_digit_model):
    client, round = playing
    answer = guess_in_round(client, round, digit_strokes(round.target))

    assert answer["recognised"] is True and answer["digit"] == round.target
    round.refresh_from_db()
    drawing = Drawing.objects.get(round=round)
    assert round.scored and round.points == answer["points"] > 0
    assert drawing.model_version == not_digit_model
    assert drawing.predicted_digit == round.target and drawing.confidence >= 0.6


@pytest.mark.parametrize("shape", sorted(NOT_DIGITS))
def test_a_scribble_in_a_round_never_wins_it(playing, not_digit_model, shape):
    client, round = playing
    answer = guess_in_round(client, round, line_strokes(NOT_DIGITS[shape]))

    assert answer["recognised"] is False and answer["not_digit"] is True
    assert not Drawing.objects.exists()
