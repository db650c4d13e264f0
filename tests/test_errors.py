"""JSON clients get JSON errors, whoever answers: a view, Django's CSRF check, a 404 or a
405 from a decorator (guessgame/errors.py). Browsers keep the HTML pages."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from guessgame import errors
from guessgame.game import services

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def someone_elses_round(client):
    owner = get_user_model().objects.create_user("alice", password="correct-horse-battery")
    round = services.game_start(player=owner).rounds.first()
    client.force_login(get_user_model().objects.create_user("mallory", password="pw-mallory-1"))
    return round


def error_of(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


def test_posting_to_the_api_description_is_a_json_405_not_a_csrf_page():
    response = Client(enforce_csrf_checks=True).post("/api/v1/openapi.json")

    assert "Use GET" in error_of(response, 405)
    assert response["Allow"] == "GET, HEAD"


def test_someone_elses_round_is_a_json_404_for_a_json_client(client, someone_elses_round):
    submit = client.post(f"/rounds/{someone_elses_round.pk}/submit", **JSON)
    result = client.get(f"/rounds/{someone_elses_round.pk}/result.json")

    assert "Not found" in error_of(submit, 404)
    assert "Not found" in error_of(result, 404)


def test_someone_elses_round_is_still_the_html_page_for_a_browser(client, someone_elses_round):
    response = client.get(f"/rounds/{someone_elses_round.pk}/result")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Nothing drawn here" in response.content


def test_a_missing_csrf_token_is_a_json_403_that_says_what_to_send():
    browser = Client(enforce_csrf_checks=True)

    from_script = browser.post("/guess", **JSON)
    from_form = browser.post("/accounts/login", {"username": "x", "password": "y"})

    assert "X-CSRFToken" in error_of(from_script, 403)
    assert from_form.status_code == 403 and from_form["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_a_json_405_naming_the_right_one(client):
    response = client.get("/guess", **JSON)

    assert error_of(response, 405) == "This method is not allowed here: use POST."
    assert response["Allow"] == "POST"
    assert int(response.get("Content-Length", len(response.content))) == len(response.content)


def test_json_answers_from_views_are_left_as_they_are(client):
    response = client.post("/guess", **JSON)  # no file: the view's own 400

    assert error_of(response, 400) == "Send the drawing as a PNG file named 'image'."


@pytest.mark.parametrize(
    ("setting", "limit"),
    [("120/m", "120/m"), (" 10/h ", "10/h"), ("off", None), ("OFF", None), ("none", None),
     ("0", None), ("", None), (None, None)],
)  # fmt: skip
def test_a_rate_setting_is_read_one_way_everywhere(setting, limit):
    assert errors.rate_or_none(setting) == limit


def test_a_json_error_says_what_went_wrong_with_its_status_and_headers(rf):
    request = rf.post("/api/v1/predict")
    refusal = errors.Refusal("Slow down.", status=429, retry_after=5, headers={"Allow": "POST"})

    response = errors.refused(request, refusal)

    assert response.status_code == 429 and response["Retry-After"] == "5"
    assert response["Allow"] == "POST"
    assert json.loads(response.content) == {"error": "Slow down."}


def game_over() -> errors.Refusal:
    return errors.Refusal(
        "This game is over.", status=409, retry_after=3, fields={"next_url": "/play/new"}
    )


def test_a_refusal_raised_below_a_view_is_answered_as_json_in_one_place(client):
    with mock.patch.object(services, "game_start", side_effect=game_over()):
        response = client.post("/play/new", HTTP_ACCEPT="application/json")

    assert response.status_code == 409 and response["Retry-After"] == "3"
    assert response.json() == {"error": "This game is over.", "next_url": "/play/new"}


def test_a_refusal_is_a_page_with_its_sentence_for_a_browser(client):
    with mock.patch.object(services, "game_start", side_effect=game_over()):
        response = client.post("/play/new", HTTP_ACCEPT="text/html")

    page = response.content.decode()
    assert response.status_code == 409 and response["Content-Type"].startswith("text/html")
    assert "This game is over." in page and "That is already done" in page


def test_a_view_that_answers_json_refuses_in_json_whatever_the_client_accepts(logged_in):
    response = logged_in.post("/rounds/999999/guess", HTTP_ACCEPT="text/html")

    assert error_of(response, 404)


def test_a_refusal_of_the_servers_own_doing_is_logged_with_its_cause(client, caplog):
    from inference.client import PredictionFailed

    try:
        raise PredictionFailed() from RuntimeError("No model version is active")
    except PredictionFailed as failed:
        refusal = failed
    with mock.patch.object(services, "game_start", side_effect=refusal):
        response = client.post("/play/new", HTTP_ACCEPT="application/json")

    assert error_of(response, 503) == str(refusal)
    assert "No model version is active" in caplog.text and "event=refused" in caplog.text


def test_every_refusal_of_the_app_is_one_hierarchy():
    from guessgame.inputs import BadInput
    from guessgame.review.services import ReviewError
    from inference.client import PredictionFailed, WorkerUnavailable
    from inference.lifecycle import SwitchRefused
    from inference.preprocess import DrawingError

    for refusal in (services.GameError, BadInput, ReviewError, SwitchRefused):
        assert issubclass(refusal, errors.Refusal)
    for busy in (WorkerUnavailable, PredictionFailed):
        assert issubclass(busy, errors.Refusal) and busy.status == 503 and busy.retry_after
    assert issubclass(DrawingError, errors.REFUSALS)


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_a_database_out_of_connections_is_a_503_to_retry_not_a_500(client, accept):
    from django.db import OperationalError

    from guessgame.game.models import Game

    refused = OperationalError("FATAL:  sorry, too many clients already")
    with mock.patch.object(services, "game_start", side_effect=refused):
        response = client.post("/play/new", HTTP_ACCEPT=accept)

    assert response.status_code == 503
    assert response["Retry-After"] == str(errors.DATABASE_RETRY_SECONDS)
    if accept == "application/json":
        assert error_of(response, 503) == errors.ERROR_MESSAGES[503]
    else:
        assert "The game is busy" in response.content.decode()
    assert not Game.objects.exists()
