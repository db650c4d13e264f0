from datetime import timedelta
from unittest import mock

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from guessgame.game import constants, scoring, services
from guessgame.game.models import Drawing, Game, Round
from inference.canvas import render_strokes
from inference.preprocess import preprocess_strokes
from tests.concurrency import at_once
from tests.factories import (
    drawing_of,
    finish_game,
    first_round,
    not_digit_probabilities,
    play_round,
    probabilities_for,
    submit,
)

pytestmark = pytest.mark.django_db


# --- starting -----------------------------------------------------------------


def test_a_new_game_has_ten_rounds_with_each_digit_once(player):
    game = services.game_start(player=player)
    rounds = list(game.rounds.order_by("number"))
    assert [r.number for r in rounds] == list(range(1, 11))
    assert sorted(r.target for r in rounds) == list(range(10))
    assert all(r.started_at is None for r in rounds)


def test_the_clock_starts_when_the_round_is_shown_and_is_never_reset(game):
    round = first_round(game)
    started = round.started_at
    assert started is not None
    services.round_start(round=Round.objects.get(pk=round.pk), now=started + timedelta(seconds=9))
    assert Round.objects.get(pk=round.pk).started_at == started


# --- submitting -----------------------------------------------------------------


def test_a_submitted_drawing_is_stored_with_its_label_and_queued_on_commit(
    game, player, queued, django_capture_on_commit_callbacks
):
    round = first_round(game)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        drawing = submit(round, player)
    queued.assert_not_called()  # not before the row is committed
    for callback in callbacks:
        callback()
    queued.assert_called_once_with(drawing.pk)
    drawing.refresh_from_db()
    assert drawing.label == round.target
    assert drawing.player == player
    assert drawing.prediction_status == Drawing.Prediction.PENDING
    assert len(bytes(drawing.pixels)) == 28 * 28
    assert drawing.pixels_array().max() == pytest.approx(1.0)
    assert bytes(drawing.image_png).startswith(b"\x89PNG")
    assert drawing.strokes and len(drawing.strokes[0]) == 3
    assert not drawing.late
    assert Round.objects.get(pk=round.pk).submitted_at is not None


def test_an_empty_canvas_at_the_bell_ends_the_round_with_no_points_and_stores_nothing(
    game, player, queued
):
    round = first_round(game)
    at_the_bell = round.started_at + constants.ROUND_DURATION

    assert services.round_submit(round=round, player=player, strokes=[], now=at_the_bell) is None

    round.refresh_from_db()
    assert round.scored and round.points == 0
    assert not Drawing.objects.exists()
    assert services.game_current_round(game=game, now=at_the_bell).number == 2
    queued.assert_not_called()


def test_the_stored_drawing_is_the_servers_rendering_of_the_strokes(game, player, queued):
    round = first_round(game)
    drawing = submit(round, player)
    _, strokes = drawing_of(round.target)
    # What the server keeps is the checked strokes (coordinates to 0.01 px), drawn by it:
    # for a 0 that rounding moves a pixel, so the raw strokes' picture may differ.
    stored = services.clean_strokes(strokes)
    assert drawing.strokes == stored
    assert bytes(drawing.image_png) == render_strokes(stored)


@pytest.mark.parametrize(
    "strokes",
    [
        "nope",
        [[1, 2, 3]],
        [[[1, 2], [1], [0, 1]]],
        [[[1.0], [float("nan")], [0]]],
        [[[-5000], [1], [0]]],
        [[[1e9], [1], [0]]],
        [[[10**400], [1], [0]]],
        [[["1"], [1], [0]]],
        [[[True], [1], [0]]],
        [[[1], [1], [0]]] * (services.MAX_STROKES + 1),
        [[[1] * 3000, [1] * 3000, [0] * 3000]] * 2,
    ],
    ids=[
        "not-a-list",
        "flat",
        "ragged",
        "nan",
        "negative",
        "huge",
        "integer-beyond-any-float",
        "string",
        "bool",
        "too-many-strokes",
        "too-many-points",
    ],
)
def test_malformed_strokes_are_refused_and_nothing_is_stored(game, player, queued, strokes):
    round = first_round(game)
    with pytest.raises(services.InvalidStrokes):
        services.round_submit(round=round, player=player, strokes=strokes)
    assert not Drawing.objects.exists()


def test_a_round_counts_once_even_when_submitted_twice(game, player, queued):
    round = first_round(game)
    submit(round, player)
    with pytest.raises(services.AlreadySubmitted):
        submit(Round.objects.get(pk=round.pk), player)
    assert Drawing.objects.count() == 1


def test_a_round_cannot_be_submitted_before_it_is_shown(game, player, queued):
    round = game.rounds.get(number=2)
    with pytest.raises(services.GameError, match="not started"):
        submit(round, player)


def test_someone_elses_round_is_refused(game, other_player, queued):
    round = first_round(game)
    with pytest.raises(services.NotYourRound):
        submit(round, other_player)


def test_a_late_drawing_is_kept_but_scores_nothing(game, player, queued):
    round = first_round(game)
    after_bell = round.deadline + constants.SUBMIT_GRACE + timedelta(seconds=1)
    drawing = submit(round, player, now=after_bell)
    assert drawing.late
    services.record_prediction(
        drawing=drawing, probabilities=probabilities_for(round.target, 0.99), model_version=None
    )
    round.refresh_from_db()
    assert round.scored and round.points == 0


def test_a_drawing_just_inside_the_grace_is_on_time(game, player, queued):
    round = first_round(game)
    drawing = submit(round, player, now=round.deadline + constants.SUBMIT_GRACE / 2)
    assert not drawing.late


def test_the_round_is_saved_when_the_broker_is_down(
    game, player, django_capture_on_commit_callbacks
):
    round = first_round(game)
    with mock.patch(
        "guessgame.game.tasks.predict_drawing.delay", side_effect=ConnectionError("down")
    ):
        with django_capture_on_commit_callbacks(execute=True):
            drawing = submit(round, player)
    assert Drawing.objects.get(pk=drawing.pk).prediction_status == Drawing.Prediction.PENDING


# --- scoring -----------------------------------------------------------------


def test_a_recognised_drawing_scores_and_updates_the_game_total(game, player, queued):
    round = play_round(game, player, correct=True, confidence=0.9, seconds=4)
    assert round.scored and round.points > 100
    game.refresh_from_db()
    assert game.score == round.points
    drawing = Drawing.objects.get(round=round)
    assert drawing.predicted_digit == round.target
    assert drawing.confidence == pytest.approx(0.9)
    assert drawing.prediction_status == Drawing.Prediction.DONE


def test_a_misread_drawing_scores_nothing(game, player, queued):
    round = play_round(game, player, correct=False)
    assert round.scored and round.points == 0


def test_recording_a_prediction_twice_changes_nothing(game, player, queued):
    round = play_round(game, player, correct=True)
    drawing = Drawing.objects.get(round=round)
    points = round.points
    again = services.record_prediction(
        drawing=drawing, probabilities=probabilities_for((round.target + 1) % 10, 0.99),
        model_version=None,
    )  # fmt: skip
    assert again is False
    round.refresh_from_db()
    drawing.refresh_from_db()
    assert round.points == points
    assert drawing.predicted_digit == round.target
    game.refresh_from_db()
    assert game.score == points


def test_a_streak_earns_a_bonus(game, player, queued):
    first = play_round(game, player, correct=True, confidence=0.9, seconds=5)
    second = play_round(game, player, correct=True, confidence=0.9, seconds=5)
    assert second.points - first.points == pytest.approx(25, abs=5)


def test_a_drawing_the_model_calls_not_a_digit_is_stored_as_one_and_scores_nothing(
    game, player, queued
):
    round = first_round(game)
    drawing = submit(round, player)
    row = not_digit_probabilities(0.7, runner_up=round.target)

    services.record_prediction(drawing=drawing, probabilities=row, model_version=None)

    drawing.refresh_from_db()
    round.refresh_from_db()
    game.refresh_from_db()
    assert drawing.not_digit is True
    assert drawing.predicted_digit is None
    assert drawing.confidence == pytest.approx(0.7)
    assert drawing.probabilities == pytest.approx(row[:10], abs=1e-6)  # the 10 digits
    assert round.scored and round.points == 0 and game.score == 0
    assert services.game_round_scores(game=game)[round.pk].recognised is False


def test_a_not_a_digit_answer_breaks_the_streak(game, player, queued):
    played = [submit_while_the_model_is_busy(game, player) for _ in range(3)]
    (first, first_drawing), (second, second_drawing), (third, third_drawing) = played
    predict(first_drawing)
    services.record_prediction(
        drawing=second_drawing,
        probabilities=not_digit_probabilities(0.99, runner_up=second.target),
        model_version=None,
    )
    predict(third_drawing)

    scores = services.game_round_scores(game=game)
    assert [scores[r.pk].total > 0 for r, _ in played] == [True, False, True]
    assert scores[third.pk].streak == 0


def test_eleven_outputs_naming_the_target_score_like_ten(game, player, queued):
    round = first_round(game)
    drawing = submit(round, player)
    row = [0.9 * p for p in probabilities_for(round.target, 0.95)] + [0.1]

    services.record_prediction(drawing=drawing, probabilities=row, model_version=None)

    drawing.refresh_from_db()
    round.refresh_from_db()
    assert drawing.not_digit is False and drawing.predicted_digit == round.target
    assert drawing.confidence == pytest.approx(0.9 * 0.95, abs=1e-6)
    assert round.points > 0


@pytest.mark.parametrize("row", [[0.1] * 9, [0.05] * 12, [float("nan")] * 11])
def test_a_prediction_that_is_not_10_or_11_finite_numbers_is_refused(game, player, queued, row):
    drawing = submit(first_round(game), player)
    with pytest.raises(ValueError, match="10 or 11 finite numbers"):
        services.record_prediction(drawing=drawing, probabilities=row, model_version=None)
    drawing.refresh_from_db()
    assert drawing.prediction_status == Drawing.Prediction.PENDING


def submit_while_the_model_is_busy(game, player, *, seconds: float = 5):
    """Start and submit the current round; its prediction has not arrived."""
    round = services.game_current_round(game=game)
    services.round_start(round=round, now=timezone.now() - timedelta(seconds=seconds))
    round.refresh_from_db()
    return round, submit(round, player)


def predict(drawing, confidence: float = 0.9) -> None:
    services.record_prediction(
        drawing=drawing,
        probabilities=probabilities_for(drawing.label, confidence),
        model_version=None,
    )


def test_a_round_predicted_before_the_round_before_it_gets_its_streak_when_that_arrives(
    game, player, queued
):
    first, first_drawing = submit_while_the_model_is_busy(game, player)
    second, second_drawing = submit_while_the_model_is_busy(game, player)

    predict(second_drawing)
    second.refresh_from_db()
    assert second.scored and services.game_round_scores(game=game)[second.pk].streak == 0
    predict(first_drawing)

    first.refresh_from_db()
    second.refresh_from_db()
    game.refresh_from_db()
    scores = services.game_round_scores(game=game)
    assert scores[first.pk].streak == 0 and scores[second.pk].streak == scoring.STREAK_POINTS
    assert first.points == scores[first.pk].total > 0
    assert second.points == scores[second.pk].total
    assert game.score == first.points + second.points


def test_streaks_run_over_the_rounds_in_order_whatever_order_predictions_arrive(
    game, player, queued
):
    played = [submit_while_the_model_is_busy(game, player) for _ in range(3)]
    for _, drawing in reversed(played):
        predict(drawing)

    scores = services.game_round_scores(game=game)
    streaks = [scores[round.pk].streak for round, _ in played]
    assert streaks == [0, scoring.STREAK_POINTS, 2 * scoring.STREAK_POINTS]
    game.refresh_from_db()
    stored = [Round.objects.get(pk=round.pk).points for round, _ in played]
    assert stored == [scores[round.pk].total for round, _ in played]
    assert game.score == sum(stored)


def test_an_unreadable_earlier_drawing_leaves_a_later_round_without_a_streak(game, player, queued):
    first, first_drawing = submit_while_the_model_is_busy(game, player)
    second, second_drawing = submit_while_the_model_is_busy(game, player)
    predict(second_drawing)
    services.record_prediction_failure(drawing=first_drawing)

    scores = services.game_round_scores(game=game)
    assert scores[second.pk].streak == 0
    game.refresh_from_db()
    assert game.score == Round.objects.get(pk=second.pk).points > 0


def test_a_new_guess_asked_for_by_staff_keeps_the_points_already_scored(game, player, queued):
    first = play_round(game, player, correct=True)
    second = play_round(game, player, correct=True)
    game.refresh_from_db()
    score = game.score
    drawing = Drawing.objects.get(round=first)
    Drawing.objects.filter(pk=drawing.pk).update(prediction_status=Drawing.Prediction.PENDING)

    predict(drawing, confidence=0.1)

    game.refresh_from_db()
    assert game.score == score
    assert [Round.objects.get(pk=r.pk).points for r in (first, second)] == [
        first.points,
        second.points,
    ]


def test_the_game_finishes_when_all_ten_rounds_are_scored(player):
    game = finish_game(player, correct_rounds=3)
    assert game.is_finished
    assert game.score == sum(r.points for r in game.rounds.all())
    assert game.rounds.filter(points__gt=0).count() == 3


def test_a_prediction_for_an_unreadable_drawing_ends_its_round_with_nothing(game, player, queued):
    round = first_round(game)
    drawing = submit(round, player)
    services.record_prediction_failure(drawing=drawing)
    round.refresh_from_db()
    assert round.scored and round.points == 0
    assert Drawing.objects.get(pk=drawing.pk).prediction_status == Drawing.Prediction.FAILED


# --- the clock running out -----------------------------------------------------


def test_a_round_whose_clock_ran_out_scores_zero_and_the_game_moves_on(game, player):
    round = first_round(game)
    later = round.deadline + constants.SUBMIT_GRACE + timedelta(seconds=1)
    assert services.game_current_round(game=game, now=later).number == 2
    round.refresh_from_db()
    assert round.scored and round.points == 0


def test_a_round_still_on_the_clock_is_not_timed_out(game):
    round = first_round(game)
    assert services.round_timeout(round=round, now=round.started_at + timedelta(seconds=5)) is False
    assert services.game_current_round(game=game).pk == round.pk


def test_a_game_of_timeouts_finishes_with_zero(game):
    now = timezone.now()
    for _ in range(constants.ROUNDS_PER_GAME):
        round = services.game_current_round(game=game, now=now)
        services.round_start(round=round, now=now)
        now += constants.ROUND_DURATION + constants.SUBMIT_GRACE + timedelta(seconds=1)
    assert services.game_current_round(game=game, now=now) is None
    game.refresh_from_db()
    assert game.is_finished and game.score == 0


# --- flags ---------------------------------------------------------------------


def test_a_player_can_flag_their_round_for_review(game, player, queued):
    drawing = submit(first_round(game), player)
    services.round_flag(drawing=drawing, player=player, flag=Drawing.Flag.LABEL_WRONG)
    drawing.refresh_from_db()
    assert drawing.flag == Drawing.Flag.LABEL_WRONG and drawing.flagged_at is not None


def test_flags_are_checked(game, player, other_player, queued):
    drawing = submit(first_round(game), player)
    with pytest.raises(services.GameError):
        services.round_flag(drawing=drawing, player=player, flag="whatever")
    with pytest.raises(services.NotYourRound):
        services.round_flag(drawing=drawing, player=other_player, flag=Drawing.Flag.LABEL_WRONG)


# --- concurrency -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_of_a_round_count_once(player, queued):
    """Two tabs submit at the same moment, each on its own database connection."""
    game = services.game_start(player=player)
    round = first_round(game)
    _, strokes = drawing_of(round.target)
    outcomes = []

    def attempt():
        try:
            services.round_submit(
                round=Round.objects.select_related("game").get(pk=round.pk),
                player=player,
                strokes=strokes,
                now=round.started_at + timedelta(seconds=3),
            )
            outcomes.append("stored")
        except services.AlreadySubmitted:
            outcomes.append("already")

    assert at_once(attempt) == []
    assert sorted(outcomes) == ["already", "stored"]
    assert Drawing.objects.filter(round=round).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_rounds_scored_at_once_keep_the_right_total(player, queued):
    game = services.game_start(player=player)
    drawings = []
    for _ in range(2):
        round = first_round(game)
        drawings.append(submit(Round.objects.select_related("game").get(pk=round.pk), player))

    def record(drawing):
        services.record_prediction(
            drawing=drawing, probabilities=probabilities_for(drawing.label, 0.95),
            model_version=None,
        )  # fmt: skip

    assert at_once(record, [(d,) for d in drawings]) == []
    game = Game.objects.get(pk=game.pk)
    assert game.score == sum(r.points for r in game.rounds.all()) > 0
    assert connection.vendor in {"sqlite", "postgresql"}
    assert np.all([d.round.scored for d in Drawing.objects.select_related("round")])


# --- strokes a person drew in this round ------------------------------------------


def strokes_from(points: list[tuple[float, float, float]]) -> list:
    """One stroke from (x, y, t ms) points."""
    return [[[p[0] for p in points], [p[1] for p in points], [p[2] for p in points]]]


def test_strokes_drawn_at_a_hands_pace_within_the_clock_pass():
    services.check_pace(
        strokes_from([(10, 10, 0), (110, 10, 500), (110, 110, 1000)]), elapsed_ms=1500
    )


def test_strokes_timed_past_the_servers_clock_are_refused():
    strokes = strokes_from([(10, 10, 0), (110, 10, 2000)])
    with pytest.raises(services.NotDrawnByHand, match="only 1.0 s have passed"):
        services.check_pace(strokes, elapsed_ms=1000)


def test_a_stroke_faster_than_a_hand_is_refused():
    fast = constants.MAX_PEN_SPEED * 10 + constants.PEN_SPEED_SLACK_PX + 1  # px in 10 ms
    with pytest.raises(services.NotDrawnByHand, match="faster than a hand"):
        services.check_pace(strokes_from([(0, 0, 0), (fast, 0, 10)]), elapsed_ms=5000)


def test_strokes_whose_times_go_backwards_are_refused():
    strokes = strokes_from([(0, 0, 300), (50, 0, 600)]) + strokes_from([(0, 50, 100)])
    with pytest.raises(services.NotDrawnByHand, match="backwards"):
        services.check_pace(strokes, elapsed_ms=5000)


def test_a_dot_takes_no_time():
    services.check_pace(strokes_from([(50, 50, 0)]), elapsed_ms=0)


# --- rounds start in order, when the player asks -------------------------------------


def test_only_the_current_round_can_start(game, player):
    second = game.rounds.get(number=2)
    with pytest.raises(services.RoundOver):
        services.round_begin(round=second, player=player)
    first = services.round_begin(round=game.rounds.get(number=1), player=player)
    assert first.started_at is not None
    assert Round.objects.get(pk=second.pk).started_at is None


def test_a_round_is_recognised_once(game, player, queued):
    round = first_round(game)
    prepared = preprocess_strokes(drawing_of(round.target)[1])
    answer = probabilities_for(round.target, 0.9)
    prediction = services.Prediction.from_probabilities(answer, model_version="test")
    now = round.started_at + timedelta(seconds=3)
    kwargs = {"round": round, "player": player, "prepared": prepared, "prediction": prediction}
    services._record_recognition(strokes=drawing_of(round.target)[1], now=now, **kwargs)
    with pytest.raises(services.AlreadySubmitted):
        services._record_recognition(strokes=drawing_of(round.target)[1], now=now, **kwargs)
    round.refresh_from_db()
    expected = scoring.score_round(
        target=round.target, predicted=round.target, confidence=0.9, seconds=3, streak=0
    )
    assert round.scored and round.points == expected.total
    assert Drawing.objects.count() == 1


# --- abandoned games ------------------------------------------------------------------


def test_a_game_left_alone_finishes_by_itself_with_the_rounds_it_had(game, player, queued):
    played = play_round(game, player, seconds=5)
    later = timezone.now() + constants.ABANDONED_AFTER + timedelta(seconds=1)

    assert services.finish_abandoned_games(now=timezone.now()) == (0, None)  # not yet
    assert services.finish_abandoned_games(now=later) == (1, None)

    game.refresh_from_db()
    assert game.is_finished and game.score == played.points > 0
    assert game.rounds.filter(scored=True).count() == 10
    assert services.game_current_round(game=game) is None


def test_the_sweep_finds_the_abandoned_games_and_only_them(player, other_player, queued):
    long_ago = timezone.now() - constants.ABANDONED_AFTER * 3
    active = services.game_start(player=player)  # started long ago, a round just now
    Game.objects.filter(pk=active.pk).update(started_at=long_ago)
    services.round_start(round=active.rounds.get(number=1), now=timezone.now())
    left = services.game_start(player=other_player)  # a round long ago, then nothing
    Game.objects.filter(pk=left.pk).update(started_at=long_ago)
    services.round_start(round=left.rounds.get(number=1), now=long_ago)
    never = services.game_start(player=other_player)  # never started a round
    Game.objects.filter(pk=never.pk).update(started_at=long_ago)
    services.game_start(player=player)  # a game started just now: not abandoned

    found = services.abandoned_games(now=timezone.now())

    assert [game.pk for game in found] == sorted([left.pk, never.pk])


def test_the_sweep_closes_a_batch_of_games_and_says_where_to_go_on(player, queued):
    long_ago = timezone.now() - constants.ABANDONED_AFTER * 2
    games = [services.game_start(player=player) for _ in range(3)]
    Game.objects.filter(pk__in=[g.pk for g in games]).update(started_at=long_ago)

    assert services.finish_abandoned_games(limit=2) == (2, games[1].pk)
    assert services.finish_abandoned_games(limit=2, after=games[1].pk) == (1, None)
    assert not Game.objects.filter(finished_at__isnull=True).exists()
    assert not Round.objects.filter(scored=False).exists()


def test_the_sweep_leaves_a_drawing_waiting_for_the_model_to_finish_its_game(game, player, queued):
    round = first_round(game)
    submit(round, player)  # sent; the model has not answered yet
    Game.objects.filter(pk=game.pk).update(started_at=timezone.now() - timedelta(hours=1))
    later = timezone.now() + constants.ABANDONED_AFTER + timedelta(seconds=1)

    assert services.finish_abandoned_games(now=later) == (1, None)

    game.refresh_from_db()
    assert game.finished_at is None and game.score == 0
    assert game.rounds.filter(scored=False).count() == 1  # the round the model will score
    assert services.finish_abandoned_games(now=later, after=game.pk) == (0, None)


def test_a_player_back_in_a_game_abandoned_while_the_model_had_a_drawing_gets_no_round(
    game, player, queued
):
    submit(first_round(game), player)  # sent; the model has not answered yet
    later = timezone.now() + constants.ABANDONED_AFTER + timedelta(seconds=1)

    assert services.game_current_round(game=game, now=later) is None
    assert game.rounds.filter(scored=False).count() == 1  # only the model's round


def test_a_round_still_running_keeps_a_game_open(game, player):
    round = first_round(game)
    Game.objects.filter(pk=game.pk).update(started_at=round.started_at - timedelta(hours=1))
    just_before_the_bell = round.started_at + constants.ROUND_DURATION
    assert not services.game_finish_if_abandoned(game=game, now=just_before_the_bell)


# --- guests ---------------------------------------------------------------------------


def test_a_guest_has_no_password_and_stays_off_the_leaderboard(player):
    from guessgame.game import selectors

    guest = services.guest_create()
    finish_game(guest, correct_rounds=10)
    finish_game(player, correct_rounds=1)

    assert not guest.has_usable_password() and guest.username.startswith("guest-")
    assert [g.player for g in selectors.best_games()] == [player]
    assert selectors.player_rank(player=guest) is None
    services.guest_claimed(user=guest)
    assert [g.player for g in selectors.best_games()] == [guest, player]
