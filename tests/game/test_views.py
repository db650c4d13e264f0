import io
import json
import random
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from guessgame.game import constants, scoring, services
from guessgame.game.models import Drawing, Game, Guest, Round, is_guest
from inference.canvas import render_strokes
from inference.client import WorkerUnavailable
from inference.prediction import Prediction
from inference.preprocess import DrawingError, preprocess_strokes
from tests.factories import (
    drawing_of,
    finish_game,
    not_digit_probabilities,
    play_round,
    probabilities_for,
    submit,
)


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (225, 225), (0, 0, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


pytestmark = pytest.mark.django_db


def png_upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("drawing.png", data, content_type="image/png")


def start_playing(client, player) -> Game:
    response = client.post(reverse("game_new"))
    game = Game.objects.get(player=player)
    assert response.status_code == 302 and response.url == reverse("play", args=[game.pk])
    return game


def start_round(client, round) -> dict:
    response = client.post(reverse("round_begin", args=[round.pk]), HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def round_started(client, player, *, drawn_for: float = 0) -> Round:
    """The first round of a new game, started by the player; ``drawn_for`` seconds ago, as
    if the drawing sent next took that long."""
    round = start_playing(client, player).rounds.get(number=1)
    start_round(client, round)
    if drawn_for:
        drawn_seconds_ago(round, drawn_for)
    return round


def drawn_seconds_ago(round, seconds: float) -> None:
    """Move the round's start back: its drawing took this long (the pace check reads it)."""
    round.refresh_from_db()
    round.started_at -= timedelta(seconds=seconds)
    round.save(update_fields=["started_at"])


def post_strokes(client, url_name, round, strokes=None, digit=None):
    """POST the drawing's strokes as the game page does: JSON, no picture."""
    if strokes is None:
        _, strokes = drawing_of(round.target if digit is None else digit)
    return client.post(
        reverse(url_name, args=[round.pk]),
        data=json.dumps({"strokes": strokes}),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )


def model_says(digit: int, confidence: float):
    """A stand-in for inference.client.predict_strokes: the server's own preprocessing,
    and the model's answer given here."""

    def predict(strokes, **kwargs):
        answer = Prediction.from_probabilities(
            probabilities_for(digit, confidence), model_version="test"
        )
        return preprocess_strokes(strokes), answer

    return predict


# --- public pages -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["home", "free_draw", "leaderboard", "scoring", "login", "signup"])
def test_public_pages_render_for_anyone(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert b'class="skip-link"' in response.content


def test_free_draw_has_the_canvas_constants_and_no_inline_script(client):
    html = client.get(reverse("free_draw")).content.decode()
    assert 'data-canvas-px="225"' in html and 'data-pen-px="14"' in html
    assert 'min="0.5"' in html and 'max="0.95"' in html and 'value="0.6"' in html
    assert "<script>" not in html and "style=" not in html
    assert 'type="module"' in html


def test_the_scoring_page_documents_the_threshold(client):
    html = client.get(reverse("scoring")).content.decode()
    assert "60% or more" in html and "20 seconds" in html
    example = scoring.score_round(target=7, predicted=7, confidence=0.9, seconds=6, streak=2)
    recomputed = (
        scoring.BASE_POINTS
        + round(scoring.SPEED_POINTS * (1 - 6 / constants.ROUND_SECONDS))
        + 2 * scoring.STREAK_POINTS
    )
    assert example.total == recomputed
    assert f"<strong>{recomputed}</strong> points" in html
    assert (
        f"0–{scoring.SPEED_POINTS}" in html
        and f"<strong>{scoring.MAX_ROUND_POINTS}</strong>" in html
    )


def test_an_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404


# --- live guess -----------------------------------------------------------------


def test_the_live_guess_works_without_an_account(client):
    guess = Prediction.from_probabilities([0.01] * 7 + [0.91] + [0.01] * 2, model_version="v1")
    with mock.patch("inference.client.predict_png", return_value=guess) as predict:
        response = client.post(reverse("live_guess"), {"image": png_upload(b"png-bytes")})
    assert response.status_code == 200
    assert response.json()["digit"] == 7
    assert response.json()["confidence"] == pytest.approx(0.91)
    predict.assert_called_once_with(b"png-bytes")
    assert not Drawing.objects.exists()


def test_a_live_guess_of_a_digit_says_it_is_one(client):
    row = [0.01] * 7 + [0.81] + [0.01] * 2 + [0.1]
    guess = Prediction.from_probabilities(row, model_version="v3")
    with mock.patch("inference.client.predict_png", return_value=guess):
        answer = client.post(reverse("live_guess"), {"image": png_upload(b"png")}).json()
    assert answer["digit"] == 7 and answer["not_digit"] is False
    assert "message" not in answer


def test_a_live_guess_of_a_scribble_says_in_words_that_it_is_not_a_digit(client):
    guess = Prediction.from_probabilities(not_digit_probabilities(0.93), model_version="v3")
    with mock.patch("inference.client.predict_png", return_value=guess):
        response = client.post(reverse("live_guess"), {"image": png_upload(b"png-bytes")})
    answer = response.json()
    assert response.status_code == 200
    assert answer["not_digit"] is True and answer["digit"] is None and answer["blank"] is False
    assert answer["message"] == "That doesn't look like a digit"
    assert answer["confidence"] == pytest.approx(0.93)
    assert len(answer["probabilities"]) == 10


def test_a_blank_canvas_gets_no_guess(client):
    with mock.patch(
        "inference.client.predict_png",
        return_value=Prediction.blank_drawing(model_version="v1"),
    ):
        response = client.post(reverse("live_guess"), {"image": png_upload(blank_png())})
    assert response.json() == {"blank": True, "message": "Draw something first."}


def test_a_bad_image_gets_the_preprocessing_message(client):
    with mock.patch(
        "inference.client.predict_png", side_effect=DrawingError("Only PNG.", status=415)
    ):
        response = client.post(reverse("live_guess"), {"image": png_upload(b"GIF89a")})
    assert response.status_code == 415 and response.json()["error"] == "Only PNG."


def test_the_page_says_the_model_is_busy_when_no_worker_answers(client):
    with mock.patch("inference.client.predict_png", side_effect=WorkerUnavailable()):
        response = client.post(reverse("live_guess"), {"image": png_upload(b"x")})
    assert response.status_code == 503 and "busy" in response.json()["error"]


def test_a_live_guess_without_an_image_is_a_400(client):
    assert client.post(reverse("live_guess")).status_code == 400


def test_the_live_guess_needs_a_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("live_guess"), {"image": png_upload(b"x")})
    assert response.status_code == 403


# --- accounts -----------------------------------------------------------------


# --- a scored game: one page, JSON for each step ---------------------------------


def test_play_now_without_an_account_starts_a_game_as_a_guest(client):
    response = client.post(reverse("game_new"))

    game = Game.objects.get()
    assert response.status_code == 302 and response.url == reverse("play", args=[game.pk])
    assert is_guest(game.player)
    assert client.get(reverse("home")).context["user"] == game.player
    assert "Guest" in client.get(reverse("play", args=[game.pk])).content.decode()


@override_settings(GUEST_RATE="2/h")
def test_guests_are_rate_limited_per_client(client):
    for _ in range(2):
        Client().post(reverse("game_new"))  # each a new browser, one address
    response = client.post(reverse("game_new"))
    assert response.status_code == 429
    assert Guest.objects.count() == 2


def test_the_game_page_starts_no_round_and_names_no_target(logged_in, player):
    game = start_playing(logged_in, player)
    html = logged_in.get(reverse("play", args=[game.pk])).content.decode()

    assert not game.rounds.filter(started_at__isnull=False).exists()
    assert "data-target" not in html
    state = logged_in.get(reverse("game_state", args=[game.pk])).json()
    assert state["round"]["number"] == 1 and state["round"]["started"] is False
    assert "target" not in state["round"] and state["played"] == []


def test_starting_a_round_runs_its_clock_and_reveals_its_target_once(logged_in, player):
    game = start_playing(logged_in, player)
    first = game.rounds.get(number=1)

    started = start_round(logged_in, first)
    again = start_round(logged_in, first)

    first.refresh_from_db()
    assert started["target"] == first.target and started["started"] is True
    assert 0 < started["seconds_left"] <= constants.ROUND_SECONDS
    assert again["seconds_left"] <= started["seconds_left"]  # the same clock, not a new one
    second = game.rounds.get(number=2)
    response = logged_in.post(reverse("round_begin", args=[second.pk]))
    assert response.status_code == 409 and "earlier one" in response.json()["error"]
    assert Game.objects.get(pk=game.pk).rounds.get(number=2).started_at is None


def test_a_guess_that_names_the_target_ends_the_round_and_scores_it_at_once(
    logged_in, player, queued
):
    round = round_started(logged_in, player, drawn_for=4)

    with mock.patch("inference.client.predict_strokes", side_effect=model_says(round.target, 0.9)):
        answer = post_strokes(logged_in, "round_guess", round).json()

    round.refresh_from_db()
    drawing = Drawing.objects.get(round=round)
    assert answer["recognised"] is True and answer["digit"] == round.target
    assert round.scored and answer["points"] == round.points > 0
    assert answer["game_score"] == round.points
    assert sum(answer["breakdown"].values()) == answer["points"]
    assert drawing.prediction_status == Drawing.Prediction.DONE
    assert drawing.predicted_digit == round.target and drawing.strokes
    assert bytes(drawing.image_png) == render_strokes(drawing.strokes)
    queued.assert_not_called()  # already predicted: the worker has nothing to do
    again = post_strokes(logged_in, "round_guess", round)
    assert again.status_code == 409 and Drawing.objects.count() == 1


def test_a_recognised_guess_brings_the_next_card_as_state_json_would(logged_in, player, queued):
    round = round_started(logged_in, player, drawn_for=4)

    with mock.patch("inference.client.predict_strokes", side_effect=model_says(round.target, 0.9)):
        answer = post_strokes(logged_in, "round_guess", round).json()

    state = logged_in.get(reverse("game_state", args=[round.game_id])).json()
    assert answer["next"] == state  # the page needs no state.json between rounds
    assert state["round"]["number"] == 2 and "target" not in state["round"]
    assert state["game"]["score"] == answer["game_score"] == answer["points"]
    assert [r["number"] for r in state["played"]] == [1] and state["played"][0]["recognised"]


def test_the_last_round_recognised_brings_the_finished_game(logged_in, player, queued):
    game = start_playing(logged_in, player)
    now = timezone.now()
    for number in range(1, constants.ROUNDS_PER_GAME):
        earlier = game.rounds.get(number=number)
        services.round_start(round=earlier, now=now - timedelta(seconds=10))
        services.round_submit(round=earlier, player=player, strokes=drawing_of(earlier.target)[1])
    last = game.rounds.get(number=constants.ROUNDS_PER_GAME)
    start_round(logged_in, last)
    drawn_seconds_ago(last, 4)

    with mock.patch("inference.client.predict_strokes", side_effect=model_says(last.target, 0.9)):
        answer = post_strokes(logged_in, "round_guess", last).json()

    assert answer["recognised"] is True and answer["next"]["round"] is None
    assert answer["next"]["game"]["summary_url"] == reverse("game_summary", args=[game.pk])


def test_a_guess_that_does_not_name_the_target_stores_nothing(logged_in, player, queued):
    round = round_started(logged_in, player, drawn_for=4)
    other = (round.target + 1) % 10

    with mock.patch("inference.client.predict_strokes", side_effect=model_says(other, 0.95)):
        answer = post_strokes(logged_in, "round_guess", round).json()
    with mock.patch("inference.client.predict_strokes", side_effect=model_says(round.target, 0.5)):
        unsure = post_strokes(logged_in, "round_guess", round).json()

    assert answer["recognised"] is False and answer["digit"] == other
    assert unsure["recognised"] is False and unsure["digit"] == round.target
    assert not Drawing.objects.exists() and not Round.objects.get(pk=round.pk).scored


def test_a_live_guess_after_the_bell_never_wins_the_round(logged_in, player, queued):
    round = round_started(logged_in, player, drawn_for=constants.ROUND_SECONDS + 2)

    with mock.patch("inference.client.predict_strokes", side_effect=model_says(round.target, 0.99)):
        answer = post_strokes(logged_in, "round_guess", round).json()

    assert answer["recognised"] is False and not Drawing.objects.exists()


def test_a_busy_model_is_a_503_the_page_can_retry(logged_in, player, queued):
    round = round_started(logged_in, player, drawn_for=4)
    with mock.patch("inference.client.predict_strokes", side_effect=WorkerUnavailable()):
        response = post_strokes(logged_in, "round_guess", round)
    assert response.status_code == 503 and "busy" in response.json()["error"]


def test_the_bell_sends_the_last_drawing_for_the_worker_to_judge(logged_in, player, queued):
    round = round_started(logged_in, player, drawn_for=4)

    response = post_strokes(logged_in, "round_submit", round)

    assert response.status_code == 201
    assert response.json()["result_url"] == reverse("round_result_json", args=[round.pk])
    drawing = Drawing.objects.get(round=round)
    assert drawing.label == round.target and drawing.prediction_status == "pending"
    assert logged_in.get(response.json()["result_url"]).json()["status"] == "pending"


def test_an_empty_canvas_at_the_bell_moves_the_game_on(logged_in, player, queued):
    round = round_started(logged_in, player)

    response = post_strokes(logged_in, "round_submit", round, strokes=[])

    assert response.status_code == 200 and response.json()["drawing"] is None
    assert logged_in.get(response.json()["result_url"]).json()["status"] == "empty"
    state = logged_in.get(reverse("game_state", args=[round.game_id])).json()
    assert state["round"]["number"] == 2 and state["played"][0]["points"] == 0


def test_a_second_submission_answers_409(logged_in, player, queued):
    round = round_started(logged_in, player, drawn_for=4)
    post_strokes(logged_in, "round_submit", round)
    response = post_strokes(logged_in, "round_submit", round)
    assert response.status_code == 409
    assert Drawing.objects.count() == 1


@pytest.mark.parametrize("url_name", ["round_guess", "round_submit"])
@pytest.mark.parametrize(
    "body, message",
    [
        ("{not json", "not valid JSON"),
        ('{"strokes": [[[1e999], [2], [0]]]}', "too large a number"),
        (json.dumps([[[1], [2], [0]]]), '{"strokes"'),
        (json.dumps({"strokes": [[[1], [2]]]}), "Stroke 1"),
        ("[" * 100_000 + "]" * 100_000, "nested over"),
    ],
)
def test_bad_strokes_are_a_400_with_a_message(logged_in, player, queued, url_name, body, message):
    round = round_started(logged_in, player)
    response = logged_in.post(
        reverse(url_name, args=[round.pk]), data=body, content_type="application/json"
    )
    assert response.status_code == 400 and message in response.json()["error"]
    assert not Drawing.objects.exists()


@pytest.mark.parametrize("url_name", ["round_guess", "round_submit"])
def test_a_picture_is_never_taken_for_a_round(logged_in, player, queued, url_name):
    round = round_started(logged_in, player, drawn_for=4)
    png, strokes = drawing_of(round.target)
    form = logged_in.post(
        reverse(url_name, args=[round.pk]),
        {"image": png_upload(png), "strokes": json.dumps(strokes)},
    )
    raw = logged_in.post(reverse(url_name, args=[round.pk]), data=png, content_type="image/png")
    for response in (form, raw):
        assert response.status_code == 415 and "draws your strokes" in response.json()["error"]
    assert not Drawing.objects.exists()


def test_strokes_drawn_faster_than_a_hand_are_refused(logged_in, player, queued):
    round = round_started(logged_in, player, drawn_for=4)
    _, strokes = drawing_of(round.target)
    instant = [[xs, ys, [0] * len(ts)] for xs, ys, ts in strokes]

    response = post_strokes(logged_in, "round_submit", round, strokes=instant)

    assert response.status_code == 400 and "faster than a hand" in response.json()["error"]
    assert not Drawing.objects.exists()


def test_an_oversized_body_is_a_413_before_it_is_read(logged_in, player, queued):
    round = round_started(logged_in, player)
    body = b'{"strokes": [' + b"0," * (600 * 1024) + b"0]}"
    response = logged_in.post(
        reverse("round_submit", args=[round.pk]), data=body, content_type="application/json"
    )
    assert response.status_code == 413 and "too large" in response.json()["error"]

    def huge():
        return png_upload(b"\x89PNG" + b"0" * (3 * 1024 * 1024))

    assert logged_in.post(reverse("live_guess"), {"image": huge()}).status_code == 413


def test_a_submission_without_a_csrf_token_is_refused(player, queued):
    client = Client(enforce_csrf_checks=True)
    client.force_login(player)
    game = services.game_start(player=player)
    round = services.round_start(round=game.rounds.get(number=1))
    drawn_seconds_ago(round, 4)
    assert post_strokes(client, "round_submit", round).status_code == 403
    assert client.post(reverse("round_begin", args=[round.pk])).status_code == 403
    assert not Drawing.objects.exists()


def test_other_players_rounds_are_not_found(client, player, other_player, queued):
    game = services.game_start(player=player)
    round = services.round_start(round=game.rounds.get(number=1))
    client.force_login(other_player)
    assert post_strokes(client, "round_submit", round).status_code == 404
    assert post_strokes(client, "round_guess", round).status_code == 404
    assert client.post(reverse("round_begin", args=[round.pk])).status_code == 404
    assert client.get(reverse("play", args=[game.pk])).status_code == 404
    assert client.get(reverse("game_state", args=[game.pk])).status_code == 404
    assert client.get(reverse("round_result", args=[round.pk])).status_code == 404
    assert client.get(reverse("game_summary", args=[game.pk])).status_code == 404


def test_the_result_json_reports_pending_then_the_verdict(logged_in, player, queued):
    round = round_started(logged_in, player, drawn_for=4)
    post_strokes(logged_in, "round_submit", round)
    url = reverse("round_result_json", args=[round.pk])
    assert logged_in.get(url).json()["status"] == "pending"
    drawing = Drawing.objects.get(round=round)
    record(drawing, probabilities_for(round.target, 0.97))
    outcome = logged_in.get(url).json()
    assert outcome["status"] == "done" and outcome["recognised"]
    assert outcome["digit"] == round.target and outcome["points"] > 0
    assert sum(outcome["breakdown"].values()) == outcome["points"]
    assert len(outcome["probabilities"]) == 10
    page = logged_in.get(reverse("round_result", args=[round.pk])).content.decode()
    assert 'aria-live="polite"' in page and f"Recognised: {round.target}!" in page


def record(drawing, probabilities) -> None:
    services.record_prediction(drawing=drawing, probabilities=probabilities, model_version=None)


def test_a_round_the_model_calls_not_a_digit_says_so_in_words_and_scores_nothing(
    logged_in, player, queued
):
    game = services.game_start(player=player)
    round = services.round_start(round=game.rounds.get(number=1))
    record(submit(round, player), not_digit_probabilities(0.88, runner_up=round.target))

    outcome = logged_in.get(reverse("round_result_json", args=[round.pk])).json()
    assert outcome["status"] == "done" and outcome["not_digit"] is True
    assert outcome["digit"] is None and outcome["recognised"] is False
    assert outcome["points"] == 0 and outcome["breakdown"] is None
    assert outcome["message"] == "That doesn't look like a digit"
    assert len(outcome["probabilities"]) == 10
    page = logged_in.get(reverse("round_result", args=[round.pk])).content.decode()
    assert "That doesn&#x27;t look like a digit" in page
    assert "88% sure it is not a digit: no points this time." in page
    assert "It saw" not in page

    summary = logged_in.get(reverse("game_summary", args=[game.pk])).content.decode()
    assert "not a digit" in summary


def test_a_live_guess_in_a_round_of_a_scribble_says_it_is_not_a_digit(logged_in, player, queued):
    round = round_started(logged_in, player, drawn_for=4)
    answer = Prediction.from_probabilities(not_digit_probabilities(0.9), model_version="v3")
    with mock.patch("inference.client.predict_strokes", return_value=(None, answer)):
        guess = post_strokes(logged_in, "round_guess", round).json()
    assert guess["not_digit"] is True and guess["recognised"] is False
    assert guess["message"] == "That doesn't look like a digit"


def test_the_result_page_says_an_8_not_a_8(logged_in, player, queued):
    game = services.game_start(player=player, rng=random.Random(4))  # targets 8, then 2
    first = services.round_start(round=game.rounds.get(number=1))
    assert first.target == 8
    record(submit(first, player, digit=3), probabilities_for(3, 0.9))
    page = logged_in.get(reverse("round_result", args=[first.pk])).content.decode()
    assert "Your drawing of an 8" in page and "It saw a 3" in page

    second = services.round_start(round=game.rounds.get(number=2))
    record(submit(second, player, digit=8), probabilities_for(8, 0.9))
    page = logged_in.get(reverse("round_result", args=[second.pk])).content.decode()
    assert "Your drawing of a 2" in page and "It saw an 8" in page


def test_the_result_says_plainly_that_the_model_is_busy_after_a_few_seconds(
    logged_in, player, queued
):
    game = services.game_start(player=player)
    round = services.round_start(round=game.rounds.get(number=1))
    submit(round, player)
    url = reverse("round_result_json", args=[round.pk])
    assert logged_in.get(url).json()["model_busy"] is False

    busy_since = timezone.now() - timedelta(seconds=constants.MODEL_BUSY_SECONDS + 1)
    Drawing.objects.filter(round=round).update(created_at=busy_since)
    outcome = logged_in.get(url).json()
    page = logged_in.get(reverse("round_result", args=[round.pk])).content.decode()

    assert outcome["status"] == "pending" and outcome["model_busy"] is True
    assert "The model is busy" in page
    assert "saved and will be scored as soon as the model is back" in page
    record(Drawing.objects.get(round=round), probabilities_for(round.target, 0.9))
    outcome = logged_in.get(url).json()
    assert outcome["status"] == "done" and outcome["model_busy"] is False


def test_a_result_shows_the_streak_it_earned_once_the_round_before_is_scored(
    logged_in, player, queued
):
    game = services.game_start(player=player)
    drawings = []
    for number in (1, 2):
        round = services.round_start(round=game.rounds.get(number=number))
        drawings.append(submit(round, player))
    second_url = reverse("round_result_json", args=[drawings[1].round_id])

    record(drawings[1], probabilities_for(drawings[1].label, 0.9))
    early = logged_in.get(second_url).json()
    record(drawings[0], probabilities_for(drawings[0].label, 0.9))
    final = logged_in.get(second_url).json()

    assert early["earlier_pending"] is True and early["breakdown"]["streak"] == 0
    assert final["earlier_pending"] is False
    assert final["breakdown"]["streak"] == scoring.STREAK_POINTS
    assert sum(final["breakdown"].values()) == final["points"]
    first_points = logged_in.get(reverse("round_result_json", args=[drawings[0].round_id])).json()
    assert final["game_score"] == first_points["points"] + final["points"]


def test_a_round_can_be_flagged_for_review(logged_in, player, queued):
    game = services.game_start(player=player)
    round = services.round_start(round=game.rounds.get(number=1))
    submit(round, player)
    response = logged_in.post(
        reverse("round_flag", args=[round.pk]), {"flag": Drawing.Flag.DREW_SOMETHING_ELSE}
    )
    assert response.status_code == 302
    assert Drawing.objects.get(round=round).flag == Drawing.Flag.DREW_SOMETHING_ELSE
    bad = logged_in.post(reverse("round_flag", args=[round.pk]), {"flag": "nonsense"})
    assert bad.status_code == 400 and "Choose what is wrong" in bad.content.decode()


def test_a_finished_game_goes_to_its_summary_with_total_and_rank(logged_in, player):
    game = finish_game(player, correct_rounds=4)
    response = logged_in.get(reverse("play", args=[game.pk]))
    assert response.status_code == 302 and response.url == reverse("game_summary", args=[game.pk])
    html = logged_in.get(response.url).content.decode()
    assert "Game over" in html and f">{game.score}</strong>" in html and "#1" in html
    assert html.count('class="drawing-img"') == 10


def test_drawings_are_served_to_their_player_and_staff_only(client, player, make_player, queued):
    game = services.game_start(player=player)
    play_round(game, player)
    drawing = Drawing.objects.get()
    url = reverse("drawing_png", args=[drawing.pk])
    assert client.get(url).status_code == 302  # log in first
    client.force_login(player)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content == bytes(drawing.image_png)
    client.force_login(make_player("eve"))
    assert client.get(url).status_code == 404
    client.force_login(make_player("staff", is_staff=True))
    assert client.get(url).status_code == 200


def test_the_leaderboard_highlights_the_viewer_and_escapes_names(client, player, make_player):
    sneaky = make_player("<script>x</script>")
    finish_game(sneaky, correct_rounds=2)
    finish_game(player, correct_rounds=5)
    client.force_login(player)
    html = client.get(reverse("leaderboard")).content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert 'class="is-me"' in html and "Your rank: <strong>#1</strong>" in html


def test_a_bad_period_falls_back_to_all_time(client):
    assert client.get(reverse("leaderboard"), {"period": "nope"}).context["period"] == "all"


def test_the_profile_shows_stats(client, player):
    finish_game(player, correct_rounds=10)
    html = client.get(reverse("profile", args=["ada"])).content.decode()
    assert "Games played" in html and "100%" in html
    assert client.get(reverse("profile", args=["nobody"])).status_code == 404


def test_the_gallery_shows_what_the_model_saw_and_its_top_guesses(logged_in, player):
    game = finish_game(player, correct_rounds=10, confidence=0.9)
    drawing = Drawing.objects.filter(round__game=game).first()

    html = logged_in.get(reverse("game_summary", args=[game.pk])).content.decode()
    seen = logged_in.get(reverse("drawing_seen_png", args=[drawing.pk]))

    assert html.count('class="seen-img"') == 10
    assert html.count('class="top-guesses"') == 10 and "90%" in html
    assert seen.status_code == 200 and seen["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(seen.content))
    assert image.size == (28, 28)
    assert image.tobytes() == bytes(drawing.pixels)


def test_a_round_whose_clock_ran_out_moves_the_game_on(logged_in, player):
    game = start_playing(logged_in, player)
    first = game.rounds.get(number=1)
    start_round(logged_in, first)
    first.refresh_from_db()
    first.started_at -= constants.ROUND_DURATION + constants.SUBMIT_GRACE + timedelta(seconds=1)
    first.save()
    state = logged_in.get(reverse("game_state", args=[game.pk])).json()
    assert state["round"]["number"] == 2 and state["round"]["started"] is False
    outcome = logged_in.get(reverse("round_result_json", args=[first.pk])).json()
    assert outcome["status"] == "timeout" and outcome["points"] == 0 and outcome["scored"]
