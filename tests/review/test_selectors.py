"""The review queue and the dashboard's numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from guessgame.game.models import Drawing
from guessgame.review import selectors, services
from inference.models import ModelVersion
from tests.review.conftest import DrawingFactory

pytestmark = pytest.mark.django_db


def test_the_queue_holds_unreviewed_misclassified_or_flagged_drawings_least_confident_first(
    staff,
):
    sure = DrawingFactory(wrong=True, confidence=0.8)
    unsure = DrawingFactory(wrong=True, confidence=0.3)
    flagged_right = DrawingFactory(confidence=0.99, flag=Drawing.Flag.LABEL_WRONG)
    DrawingFactory(confidence=0.2)  # guessed right, not flagged
    reviewed = DrawingFactory(wrong=True, confidence=0.1)
    services.review_approve(drawings=[reviewed], reviewer=staff)
    DrawingFactory(wrong=True, blank=True, confidence=0.05)  # blank: never guessed

    assert list(selectors.review_queue()) == [unsure, sure, flagged_right]
    assert list(selectors.review_queue(limit=1)) == [unsure]


def test_progress_counts_reviewed_candidates(staff):
    drawings = DrawingFactory.create_batch(3, wrong=True)
    DrawingFactory()  # not a candidate
    services.review_reject(drawings=drawings[:1], reviewer=staff)

    progress = selectors.review_progress()

    assert (progress.reviewed, progress.total, progress.remaining) == (1, 3, 2)


def test_accuracy_per_version_judges_against_the_reviewed_label(staff):
    v1 = ModelVersion.objects.create(name="v1", path="x", created_at=timezone.now() - timedelta(1))
    v2 = ModelVersion.objects.create(name="v2", path="y")
    DrawingFactory.create_batch(3, model_version=v1)
    DrawingFactory(model_version=v1, wrong=True)
    relabelled = DrawingFactory(model_version=v2, label=3, predicted_digit=8)
    services.review_relabel(drawings=[relabelled], label=8, reviewer=staff)
    rejected = DrawingFactory(model_version=v2, wrong=True)
    services.review_reject(drawings=[rejected], reviewer=staff)
    DrawingFactory(model_version=v2, prediction_status=Drawing.Prediction.PENDING)

    rows = selectors.accuracy_by_version()

    assert rows == [
        {"version": "v1", "total": 4, "right": 3, "accuracy": 0.75},
        {"version": "v2", "total": 1, "right": 1, "accuracy": 1.0},
    ]


def test_accuracy_per_digit_lists_every_digit():
    DrawingFactory(label=7)
    DrawingFactory(label=7, wrong=True)

    rows = selectors.accuracy_by_digit()

    assert [row["digit"] for row in rows] == list(range(10))
    assert rows[7] == {"digit": 7, "total": 2, "right": 1, "accuracy": 0.5}
    assert rows[0]["total"] == 0


def test_accuracy_per_day_follows_the_drawing_dates():
    today = timezone.now()
    DrawingFactory(created_at=today - timedelta(days=2), wrong=True)
    DrawingFactory(created_at=today)
    DrawingFactory(created_at=today)

    rows = selectors.accuracy_by_day()

    assert [row["day"] for row in rows] == [(today - timedelta(days=2)).date(), today.date()]
    assert [row["accuracy"] for row in rows] == [0.0, 1.0]


def test_the_confusion_matrix_counts_true_rows_and_guessed_columns():
    DrawingFactory(label=4, predicted_digit=9)
    DrawingFactory(label=4, predicted_digit=9)
    DrawingFactory(label=4)

    matrix = selectors.player_confusion_matrix()

    assert matrix[4][9] == 2
    assert matrix[4][4] == 1
    assert sum(map(sum, matrix)) == 3


def test_dashboard_numbers_can_be_narrowed_to_one_version():
    v1 = ModelVersion.objects.create(name="v1", path="x")
    DrawingFactory(label=1, model_version=v1)
    DrawingFactory(label=1, wrong=True)

    assert selectors.accuracy_by_digit(version_id=v1.pk)[1]["accuracy"] == 1.0
    assert sum(map(sum, selectors.player_confusion_matrix(version_id=v1.pk))) == 1


def test_misclassified_is_judged_against_the_reviewed_label(staff):
    model_was_right = DrawingFactory(label=3, drawn_digit=8, predicted_digit=8)
    services.review_relabel(drawings=[model_was_right], label=8, reviewer=staff)
    model_now_wrong = DrawingFactory(label=4)  # guessed 4, but the player drew a 9
    services.review_relabel(drawings=[model_now_wrong], label=9, reviewer=staff)
    approved_wrong = DrawingFactory(label=6, wrong=True)
    services.review_approve(drawings=[approved_wrong], reviewer=staff)

    misclassified = set(Drawing.objects.misclassified())
    right = set(Drawing.objects.guessed_right())

    assert misclassified == {model_now_wrong, approved_wrong}
    assert right == {model_was_right}
    for drawing in Drawing.objects.all():
        assert drawing.is_misclassified is (drawing in misclassified)


def test_the_queue_keeps_unreviewed_candidates_and_progress_counts_relabelled_ones(staff):
    wrong = DrawingFactory(label=3, predicted_digit=8, confidence=0.2)
    flagged = DrawingFactory(confidence=0.99, flag=Drawing.Flag.DREW_SOMETHING_ELSE)
    relabelled = DrawingFactory(label=5, predicted_digit=6, confidence=0.1)
    services.review_relabel(drawings=[relabelled], label=6, reviewer=staff)

    assert list(selectors.review_queue()) == [wrong, flagged]
    progress = selectors.review_progress()
    assert (progress.reviewed, progress.total) == (1, 3), "relabelled to the guess: reviewed"


def test_a_drawing_the_model_called_not_a_digit_waits_for_review(staff):
    scribble = DrawingFactory(label=3, not_a_digit=True, confidence=0.95)
    right = DrawingFactory(label=3)

    assert list(selectors.review_queue()) == [scribble]
    assert scribble.is_misclassified and not right.is_misclassified


def test_a_not_a_digit_answer_counts_as_wrong_until_staff_reject_the_drawing(staff):
    DrawingFactory(label=5)
    scribble = DrawingFactory(label=5, not_a_digit=True)

    assert selectors.accuracy_by_digit()[5] == {"digit": 5, "total": 2, "right": 1, "accuracy": 0.5}
    matrix = selectors.player_confusion_matrix()
    assert matrix[5][5] == 1 and sum(map(sum, matrix)) == 1  # no column for "not a digit"

    services.review_reject(drawings=[scribble], reviewer=staff)
    assert selectors.accuracy_by_digit()[5]["accuracy"] == 1.0
