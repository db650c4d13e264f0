"""Scripts that post what they did not draw, or faster than a person can: no points.

Before the one-page game, a script that posted any PNG to /rounds/<id>/submit the
moment a round started scored 3,742 of 3,750 in six seconds: the server trusted the
picture and never looked at how long its strokes took. Now the server draws the strokes
itself and refuses strokes timed past its clock or faster than a hand: a script must
wait as long as its drawing says it took, like a person drawing. These tests use the
URLs a script would, through a real worker, so they fail on the old code.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guessgame.game import services
from guessgame.game.models import Drawing, Game
from tests.conftest import eventually
from tests.factories import drawing_of

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def game(client, worker_process, active_model, player) -> Game:
    """A game of the player's, whose client the script drives, signed in."""
    client.force_login(player)
    return services.game_start(player=player)


def wait_for_the_worker(game: Game) -> None:
    """Until every stored drawing of the game has its prediction (none stored: at once)."""
    pending = Drawing.objects.filter(round__game=game, prediction_status="pending")
    eventually(lambda: not pending.exists(), what="the worker predicting the drawings")


def rounds_started_just_now(game: Game):
    """Each round in order, started the moment before the script posts."""
    for round in game.rounds.order_by("number"):
        yield services.round_start(round=round)


def test_a_script_posting_pictures_of_the_targets_scores_nothing(client, game):

    answers = []
    for round in rounds_started_just_now(game):
        png, strokes = drawing_of(round.target)
        image = SimpleUploadedFile("drawing.png", png, content_type="image/png")
        picture = {"image": image, "strokes": json.dumps(strokes)}
        answers.append(client.post(f"/rounds/{round.pk}/submit", picture).status_code)
    wait_for_the_worker(game)

    game.refresh_from_db()
    assert game.score == 0, f"a script scored {game.score} with pictures ({answers})"
    assert not Drawing.objects.filter(round__game=game).exists()
    assert set(answers) == {415}


def at_a_hands_pace(strokes: list) -> list:
    """The strokes timed as a person draws: about 0.2 px/ms, one to two seconds a digit."""
    return [[xs, ys, [t * 4 for t in ts]] for xs, ys, ts in strokes]


def test_a_script_posting_drawings_before_it_could_have_drawn_them_scores_nothing(client, game):

    answers = []
    for round in rounds_started_just_now(game):
        _, strokes = drawing_of(round.target)
        body = json.dumps({"strokes": at_a_hands_pace(strokes)})
        for action in ("guess", "submit"):
            response = client.post(
                f"/rounds/{round.pk}/{action}", body, content_type="application/json"
            )
            answers.append((response.status_code, response.json().get("error", "")))
    wait_for_the_worker(game)

    game.refresh_from_db()
    assert game.score == 0 and not Drawing.objects.filter(round__game=game).exists()
    assert all(status == 400 and "have passed" in error for status, error in answers), answers


def test_a_script_that_waits_but_sends_instant_strokes_is_refused(client, game):
    round = services.round_start(
        round=game.rounds.get(number=1), now=timezone.now() - timedelta(seconds=5)
    )
    _, strokes = drawing_of(round.target)
    instant = [[xs, ys, [1000] * len(ts)] for xs, ys, ts in strokes]

    response = client.post(
        f"/rounds/{round.pk}/guess",
        json.dumps({"strokes": instant}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "faster than a hand can move" in response.json()["error"]
    assert not Drawing.objects.exists()
