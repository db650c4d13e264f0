"""Nothing lost: kill the worker, stop Redis; every stored drawing is predicted exactly once."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from guessgame.game import services
from guessgame.game.models import Drawing, Game
from inference.canvas import render_strokes
from tests.conftest import eventually
from tests.e2e.strokes import digit_strokes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def started_games(count: int) -> list[Game]:
    """Games whose ten rounds have all started, so each can be submitted at once."""
    games = []
    for n in range(count):
        player = get_user_model().objects.create_user(f"player{n}", password="pw-unused-123")
        game = services.game_start(player=player)
        # Started a few seconds ago: the drawings took that long (the pace check reads it).
        for round in game.rounds.all():
            services.round_start(round=round, now=timezone.now() - timedelta(seconds=5))
        games.append(game)
    return games


def submit_all(stack, games: list[Game]) -> list[int]:
    """POST every round's drawing through the web process, as play.js does."""
    drawing_ids = []
    for game in games:
        session = stack.session_for(game.player)
        for round in game.rounds.order_by("number"):
            strokes = digit_strokes(round.target)
            response = session.post(
                f"{stack.base_url}/rounds/{round.pk}/submit",
                json={"strokes": strokes},
                timeout=30,
            )
            assert response.status_code == 201, response.text
            drawing_ids.append(response.json()["drawing"])
    return drawing_ids


def wait_until_all_predicted(ids: list[int]) -> None:
    waiting = Drawing.objects.filter(pk__in=ids).exclude(prediction_status="done")
    eventually(
        lambda: not waiting.exists(), what=f"a prediction for all {len(ids)} drawings", seconds=90
    )


def assert_each_predicted_once_and_scored(
    stack, games: list[Game], ids: list[int], *, killed_at=None
) -> None:
    """Each drawing written once (its worker logs each write after the commit), and every
    round scored. A worker SIGKILLed between a commit and its log line takes the line with
    it: such a drawing has no line, and its prediction is dated before the kill."""
    writes = Counter(stack.worker.recorded())
    unlogged = [drawing_id for drawing_id in ids if writes[drawing_id] == 0]
    assert {drawing_id: writes[drawing_id] for drawing_id in ids if drawing_id not in unlogged} == (
        dict.fromkeys(set(ids) - set(unlogged), 1)
    )
    if unlogged:
        assert killed_at is not None, f"drawings {unlogged} were never written"
        late = Drawing.objects.filter(pk__in=unlogged, predicted_at__gt=killed_at)
        assert not late.exists(), "a drawing without a logged write was predicted after the kill"
    for game in games:
        game.refresh_from_db()
        rounds = list(game.rounds.all())
        assert all(round.scored for round in rounds)
        assert game.score == sum(round.points for round in rounds)
        assert game.finished_at is not None


def test_a_worker_killed_during_predictions_loses_no_drawing(private_stack):
    games = started_games(3)
    worker = private_stack.worker
    # Kill the worker (SIGKILL, the whole process group) while the drawings stream in.
    ids = submit_all(private_stack, games[:1])
    worker.kill()
    killed_at = timezone.now()
    ids += submit_all(private_stack, games[1:])
    assert Drawing.objects.filter(pk__in=ids, prediction_status="pending").exists()

    worker.start()
    wait_until_all_predicted(ids)

    assert_each_predicted_once_and_scored(private_stack, games, ids, killed_at=killed_at)


def test_a_worker_killed_mid_task_gives_its_drawing_back(private_stack):
    games = started_games(1)
    worker = private_stack.worker
    worker.stop()
    worker.app = "tests.reliability.slow_worker"  # holds each prediction before it runs
    worker.start()
    ids = submit_all(private_stack, games)

    # A prediction has been delivered and started, and has written nothing yet: kill now.
    deadline = time.monotonic() + 30
    while not worker.started():
        assert time.monotonic() < deadline, "the worker never started a prediction"
        time.sleep(0.05)
    in_flight = worker.started()[0]
    worker.kill()
    assert Drawing.objects.get(pk=in_flight).prediction_status == "pending"
    assert worker.recorded() == []

    worker.app = "guessgame"
    worker.start()
    wait_until_all_predicted(ids)

    assert_each_predicted_once_and_scored(private_stack, games, ids)
    assert Counter(worker.recorded())[in_flight] == 1


def test_rounds_submitted_while_redis_is_down_are_saved_and_predicted_when_it_returns(
    private_stack,
):
    games = started_games(1)
    private_stack.stop_redis()

    ids = submit_all(private_stack, games)  # every round still answers 201: it is saved
    assert Drawing.objects.filter(pk__in=ids, prediction_status="pending").count() == 10

    private_stack.start_redis()  # a fresh, empty Redis: the queued messages are gone too
    wait_until_all_predicted(ids)

    assert_each_predicted_once_and_scored(private_stack, games, ids)


def test_with_redis_down_guesses_and_the_api_answer_a_clear_503_and_pages_still_load(
    private_stack,
):
    """The rate limiter's cache and the prediction queue are both Redis: neither may
    turn an outage into a 500."""
    games = started_games(1)
    session = private_stack.session_for(games[0].player)
    png = render_strokes(digit_strokes(7))
    private_stack.stop_redis()

    api = session.post(
        f"{private_stack.base_url}/api/v1/predict",
        data=png, headers={"Content-Type": "image/png"}, timeout=30,
    )  # fmt: skip
    guess = session.post(
        f"{private_stack.base_url}/guess",
        files={"image": ("drawing.png", png, "image/png")}, timeout=30,
    )  # fmt: skip
    page = session.get(f"{private_stack.base_url}/play/{games[0].pk}", timeout=30)
    live = session.get(f"{private_stack.base_url}/healthz", timeout=30)
    ready = session.get(f"{private_stack.base_url}/readyz", timeout=30)

    assert api.status_code == 503 and "worker" in api.json()["error"]
    assert guess.status_code == 503 and "busy" in guess.json()["error"]
    assert page.status_code == 200
    # The web tier still serves, so load balancers keep it; operators see the broker down.
    assert live.status_code == 200 and "broker" in live.json()["degraded"]
    assert ready.status_code == 503 and "broker" in ready.json()["down"]

    private_stack.start_redis()
    deadline = time.monotonic() + 30
    while True:  # the web and the worker find the new Redis by themselves
        api = session.post(
            f"{private_stack.base_url}/api/v1/predict",
            data=png, headers={"Content-Type": "image/png"}, timeout=30,
        )  # fmt: skip
        if api.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert api.status_code == 200 and api.json()["digit"] == 7
