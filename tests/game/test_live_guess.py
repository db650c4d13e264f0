"""POST /guess, the live guess of the game and free draw, through a REAL Celery worker."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

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
