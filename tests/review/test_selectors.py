"""The review queue and the dashboard's numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from guessgame.game.models import Drawing
from guessgame.review import selectors, services
from inference.models import ModelVersion
from tests.factories import DrawingFactory, StaffFactory

pytestmark = pytest.mark.django_db


def queue(mode: str) -> list[Drawing]:
    return list(selectors.queue_candidates(mode))


def test_confident_disagreements_come_first_most_confident_first(staff):
    # The 12 wrong-digit drawings at 1.00 sat at the end of the old queue.
    surest = DrawingFactory(label=3, predicted_digit=8, confidence=1.0)
    sure = DrawingFactory(label=4, predicted_digit=9, confidence=0.85)
    DrawingFactory(label=5, predicted_digit=6, confidence=0.4)  # unsure: least_confident
    DrawingFactory(label=7, confidence=0.99)  # agrees
    reviewed = DrawingFactory(label=1, predicted_digit=7, confidence=0.99)
    services.review_approve(drawings=[reviewed], reviewer=staff)

    assert queue("disagreements") == [surest, sure]


def test_each_mode_holds_the_drawings_it_says(staff):
    junk = DrawingFactory(label=2, not_a_digit=True, confidence=0.95)
    unsure = DrawingFactory(label=5, predicted_digit=6, confidence=0.3)
    agreed = DrawingFactory(label=7, confidence=0.97)
    hesitant = DrawingFactory(label=1, confidence=0.6)
    flagged = DrawingFactory(label=0, confidence=0.99, flag=Drawing.Flag.LABEL_WRONG)
    DrawingFactory(label=9, blank=True, confidence=0.0)  # blank: never in a queue

    assert queue("not_digit") == [junk]
    assert queue("least_confident")[:3] == [unsure, hesitant, junk]
    assert queue("flagged") == [flagged]
    assert set(queue("audit")) == {agreed, flagged}, "agreed at >= 0.9, unreviewed"
    assert selectors.mode_counts()["least_confident"] == 5
    with pytest.raises(ValueError, match="queue mode"):
        selectors.queue_candidates("everything")


def test_reviewer_counts_leave_out_undone_decisions(staff):
    other = StaffFactory(username="bob")
    services.review_approve(drawings=DrawingFactory.create_batch(2), reviewer=staff)
    services.review_reject(drawings=[DrawingFactory()], reviewer=staff)
    services.review_relabel(drawings=[DrawingFactory(label=3)], label=8, reviewer=other)
    services.review_undo(reviewer=staff)  # takes back the reject

    rows = selectors.reviewer_counts()

    assert rows == [
        {"name": staff.username, "decisions": 2, "approved": 2, "relabelled": 0, "rejected": 0},
        {"name": "bob", "decisions": 1, "approved": 0, "relabelled": 1, "rejected": 0},
    ]


def test_top_guesses_include_not_a_digit_when_the_model_had_eleven_outputs():
    drawing = Drawing(probabilities=[0.05, 0.6, 0, 0, 0, 0, 0, 0.1, 0, 0])

    assert drawing.top_guesses() == [(1, 0.6), (None, pytest.approx(0.25)), (7, 0.1)]
    assert Drawing(probabilities=None).top_guesses() == []


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


def test_progress_counts_relabelled_candidates_as_reviewed(staff):
    DrawingFactory(label=3, predicted_digit=8, confidence=0.2)
    DrawingFactory(confidence=0.99, flag=Drawing.Flag.DREW_SOMETHING_ELSE)
    relabelled = DrawingFactory(label=5, predicted_digit=6, confidence=0.1)
    services.review_relabel(drawings=[relabelled], label=6, reviewer=staff)

    progress = selectors.review_progress()
    assert (progress.reviewed, progress.total) == (1, 3), "relabelled to the guess: reviewed"


def test_a_drawing_the_model_called_not_a_digit_waits_for_review(staff):
    scribble = DrawingFactory(label=3, not_a_digit=True, confidence=0.95)
    right = DrawingFactory(label=3)

    assert queue("not_digit") == [scribble]
    assert scribble.is_misclassified and not right.is_misclassified
