import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guessgame.game import constants, scoring
from guessgame.game.scoring import score_round

THRESHOLD = constants.SCORE_THRESHOLD


def score(**kwargs):
    args = {"target": 7, "predicted": 7, "confidence": 0.9, "seconds": 5.0, "streak": 0}
    args.update(kwargs)
    return score_round(**args)


def test_an_instant_recognition_scores_the_base_and_all_the_speed_points():
    result = score(confidence=1.0, seconds=0.0, streak=0)
    assert result.recognised
    assert result.total == scoring.BASE_POINTS + scoring.SPEED_POINTS


def test_a_wrong_guess_scores_nothing_however_sure():
    assert score(predicted=1, confidence=0.99).total == 0
    assert not score(predicted=1).recognised


def test_a_guess_below_the_threshold_scores_nothing():
    assert score(confidence=THRESHOLD - 0.01).total == 0


def test_a_guess_exactly_at_the_threshold_scores_the_base():
    result = score(confidence=THRESHOLD, seconds=constants.ROUND_SECONDS)
    assert result.total == scoring.BASE_POINTS


def test_a_late_drawing_scores_nothing():
    assert score(late=True, confidence=1.0).total == 0


def test_no_prediction_scores_nothing():
    assert score(predicted=None, confidence=None).total == 0


def test_nan_confidence_scores_nothing():
    assert score(confidence=math.nan).total == 0


def test_confidence_beyond_the_threshold_earns_nothing_more():
    """Every clear drawing used to score the full confidence points: only speed counts."""
    assert score(confidence=0.99).total == score(confidence=THRESHOLD).total


def test_a_faster_drawing_scores_more():
    assert score(seconds=2).total > score(seconds=15).total


def test_the_speed_bonus_ends_at_the_bell_and_never_goes_negative():
    assert score(seconds=constants.ROUND_SECONDS).speed == 0
    assert score(seconds=999).speed == 0
    assert score(seconds=-3).speed == scoring.SPEED_POINTS


def test_a_streak_adds_points_up_to_its_cap():
    assert score(streak=1).streak == scoring.STREAK_POINTS
    assert score(streak=2).total - score(streak=0).total == 2 * scoring.STREAK_POINTS
    assert score(streak=50).streak == scoring.STREAK_POINTS * scoring.STREAK_CAP


def play(target: int = 7, predicted: int = 7, confidence: float = 0.9) -> scoring.RoundPlay:
    return scoring.RoundPlay(target=target, predicted=predicted, confidence=confidence, seconds=5)


def test_a_game_counts_each_streak_over_the_rounds_before_in_order():
    plays = [play(), play(), None, play(), play(predicted=1), play(), play()]
    streaks = [result.streak // scoring.STREAK_POINTS for result in scoring.score_game(plays)]
    assert streaks == [0, 1, 0, 0, 0, 0, 1]


def test_a_game_streak_stops_growing_at_its_cap():
    results = scoring.score_game([play()] * 7)
    assert [r.streak for r in results][-3:] == [scoring.STREAK_POINTS * scoring.STREAK_CAP] * 3


def test_a_late_or_unsure_round_breaks_the_streak():
    late = scoring.RoundPlay(target=7, predicted=7, confidence=0.99, seconds=25, late=True)
    results = scoring.score_game([play(), late, play(), play(confidence=0.3), play()])
    assert [r.streak for r in results] == [0, 0, 0, 0, 0]


def test_a_game_scored_from_a_later_round_carries_the_streak_before_it():
    results = scoring.score_game([play(), None, play()], streak=2)
    assert [r.streak // scoring.STREAK_POINTS for r in results] == [2, 0, 0]


def test_a_round_of_a_game_scores_what_score_round_gives_it():
    assert scoring.score_game([play(), play()])[1] == score(streak=1)


def test_the_documented_example_adds_up():
    result = score_round(target=7, predicted=7, confidence=0.9, seconds=6, streak=2)
    assert result.total == result.base + result.speed + result.streak
    assert result.total == 100 + 140 + 50


@pytest.mark.parametrize("seconds", [0, 1.5, 5, 10, 19.9, 20])
def test_speed_points_fall_evenly_with_the_time_to_recognition(seconds):
    expected = round(scoring.SPEED_POINTS * (1 - seconds / constants.ROUND_SECONDS))
    assert score(seconds=seconds).speed == expected


@given(
    target=st.integers(0, 9),
    predicted=st.integers(0, 9),
    confidence=st.floats(0, 1),
    seconds=st.floats(0, 40),
    streak=st.integers(0, 12),
)
def test_points_stay_between_zero_and_the_maximum(target, predicted, confidence, seconds, streak):
    total = score_round(
        target=target, predicted=predicted, confidence=confidence, seconds=seconds, streak=streak
    ).total
    assert 0 <= total <= scoring.MAX_ROUND_POINTS
    if predicted != target or confidence < THRESHOLD:
        assert total == 0


@pytest.mark.parametrize("confidence", [0.6, 0.7, 0.8, 0.9, 1.0])
def test_every_correct_guess_at_or_above_threshold_scores(confidence):
    assert score(confidence=confidence).total >= scoring.BASE_POINTS
