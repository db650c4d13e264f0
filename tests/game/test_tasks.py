import time
from datetime import timedelta
from unittest import mock

import numpy as np
import pytest
from django.utils import timezone

from guessgame.game import services, tasks
from guessgame.game.models import Drawing, Game, Round
from tests.conftest import eventually
from tests.e2e.strokes import NOT_DIGITS, line_strokes
from tests.factories import first_round, probabilities_for, submit


def fake_model(digit: int, confidence: float = 0.93):
    probs = np.array([probabilities_for(digit, confidence)], dtype=np.float32)
    return mock.patch("inference.active_model.predict_with_active", return_value=(probs, "v-test"))


@pytest.mark.django_db
def test_the_task_predicts_the_stored_pixels_and_scores_the_round(game, player, queued):
    round = first_round(game)
    drawing = submit(round, player)
    with fake_model(round.target) as predict:
        assert tasks.predict_drawing(drawing.pk) == "predicted"
    pixels = predict.call_args.args[0]
    assert pixels.shape == (1, 28, 28) and pixels.dtype == np.float32
    np.testing.assert_allclose(pixels[0], drawing.pixels_array())
    round.refresh_from_db()
    assert round.scored and round.points > 0


@pytest.mark.django_db
def test_the_task_is_idempotent(game, player, queued):
    round = first_round(game)
    drawing = submit(round, player)
    with fake_model(round.target):
        tasks.predict_drawing(drawing.pk)
    points = Round.objects.get(pk=round.pk).points
    with fake_model((round.target + 3) % 10) as predict:
        assert tasks.predict_drawing(drawing.pk) == "already predicted"
    predict.assert_not_called()
    assert Round.objects.get(pk=round.pk).points == points


@pytest.mark.django_db
def test_the_task_returns_early_when_the_drawing_is_gone():
    with fake_model(1) as predict:
        assert tasks.predict_drawing(123456) == "gone"
    predict.assert_not_called()


@pytest.mark.django_db
def test_the_sweep_requeues_only_drawings_pending_for_a_while(game, player, queued):
    old = submit(first_round(game), player)
    Drawing.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    fresh = submit(first_round(game), player)
    done = submit(first_round(game), player)
    Drawing.objects.filter(pk=done.pk).update(
        prediction_status=Drawing.Prediction.DONE, created_at=timezone.now() - timedelta(hours=1)
    )
    queued.reset_mock()
    assert tasks.requeue_pending_predictions() == 1
    queued.assert_called_once_with(old.pk)
    queued.reset_mock()
    assert tasks.requeue_pending_predictions(older_than_seconds=0) == 2
    assert {c.args[0] for c in queued.call_args_list} == {old.pk, fresh.pk}


@pytest.mark.django_db
def test_the_game_sweep_leaves_the_rest_to_a_task_queued_behind_the_predictions(player):
    long_ago = timezone.now() - services.constants.ABANDONED_AFTER * 2
    games = [services.game_start(player=player) for _ in range(3)]
    Game.objects.filter(pk__in=[g.pk for g in games]).update(started_at=long_ago)

    with (
        mock.patch.object(services, "SWEEP_GAMES", 2),
        mock.patch("guessgame.game.tasks.finish_abandoned_games.delay") as again,
    ):
        assert tasks.finish_abandoned_games() == 2
        again.assert_called_once_with(after=games[1].pk)
        again.reset_mock()
        assert tasks.finish_abandoned_games(after=games[1].pk) == 1
        again.assert_not_called()
    assert not Game.objects.filter(finished_at__isnull=True).exists()


def test_a_worker_start_queues_the_sweep():
    with mock.patch.object(tasks.requeue_pending_predictions, "delay") as delay:
        tasks.requeue_at_worker_start()
    delay.assert_called_once_with(older_than_seconds=0)


def test_a_worker_start_survives_a_broker_error():
    with mock.patch.object(
        tasks.requeue_pending_predictions, "delay", side_effect=ConnectionError("down")
    ):
        tasks.requeue_at_worker_start()  # no exception


@pytest.fixture
def round(game) -> Round:
    """The game's first round, its clock running."""
    return Round.objects.select_related("game").get(pk=first_round(game).pk)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_predicts_a_submitted_round_and_points_appear(
    worker_process, active_model, player, round
):
    drawing = submit(round, player)
    eventually(lambda: Round.objects.get(pk=round.pk).scored, what="the worker scoring it")
    drawing.refresh_from_db()
    assert drawing.prediction_status == Drawing.Prediction.DONE
    assert drawing.model_version == active_model
    assert len(drawing.probabilities) == 10
    round.refresh_from_db()
    # The shipped model reads our hand-drawn digits; a recognised one scores.
    assert (round.points > 0) == (
        drawing.predicted_digit == round.target and drawing.confidence >= 0.6
    )
    assert Game.objects.get(pk=round.game_id).score == round.points


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("shape", sorted(NOT_DIGITS))
def test_a_real_worker_calls_a_scribble_in_a_round_not_a_digit_and_it_scores_nothing(
    worker_process, not_digit_model, player, round, shape
):
    strokes = line_strokes(NOT_DIGITS[shape])
    drawing = services.round_submit(
        round=round, player=player, strokes=strokes, now=round.started_at + timedelta(seconds=9)
    )
    eventually(lambda: Round.objects.get(pk=round.pk).scored, what="the worker scoring it")
    drawing.refresh_from_db()
    assert drawing.not_digit is True and drawing.predicted_digit is None
    assert drawing.model_version == not_digit_model
    assert len(drawing.probabilities) == 10
    assert drawing.confidence == pytest.approx(1 - sum(drawing.probabilities), abs=1e-4)
    assert Round.objects.get(pk=round.pk).points == 0
    assert Game.objects.get(pk=round.game_id).score == 0


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_drawing_saved_while_the_queue_was_down_is_predicted_by_the_sweep(
    worker_process, active_model, player, round
):
    with mock.patch(
        "guessgame.game.tasks.predict_drawing.delay", side_effect=ConnectionError("down")
    ):
        drawing = submit(round, player)
    time.sleep(1)
    assert Drawing.objects.get(pk=drawing.pk).prediction_status == Drawing.Prediction.PENDING
    assert tasks.requeue_pending_predictions(older_than_seconds=0) == 1
    eventually(lambda: Round.objects.get(pk=round.pk).scored, what="the worker scoring it")
