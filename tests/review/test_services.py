"""Staff decisions: each one changes the drawing and leaves an audit row; undo takes it back."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from guessgame.game.models import Drawing
from guessgame.review import services
from guessgame.review.models import Reprediction, ReviewClaim, ReviewDecision
from inference.models import ModelVersion
from tests.concurrency import at_once
from tests.factories import DrawingFactory, StaffFactory, make_version

pytestmark = pytest.mark.django_db
Review = Drawing.Review


def test_approving_records_who_and_when_and_keeps_the_label(staff):
    drawing = DrawingFactory(label=3, wrong=True)

    [decision] = services.review_approve(drawings=[drawing], reviewer=staff).decisions

    drawing.refresh_from_db()
    assert drawing.review_status == Review.APPROVED
    assert drawing.reviewed_by == staff
    assert drawing.reviewed_at is not None
    assert drawing.effective_label == 3
    assert (decision.reviewer, decision.old_status, decision.new_status) == (
        staff,
        Review.UNREVIEWED,
        Review.APPROVED,
    )
    assert (decision.old_label, decision.new_label) == (3, 3)
    assert decision.decided_at == drawing.reviewed_at


def test_relabelling_changes_the_label_used_for_training(staff):
    drawing = DrawingFactory(label=3, drawn_digit=8)

    [decision] = services.review_relabel(drawings=[drawing], label=8, reviewer=staff).decisions

    drawing.refresh_from_db()
    assert drawing.review_status == Review.RELABELLED
    assert drawing.reviewed_label == 8
    assert drawing.effective_label == 8
    assert drawing.label == 3, "the round's target itself is never rewritten"
    assert (decision.old_label, decision.new_label) == (3, 8)


def test_relabelling_to_the_rounds_own_digit_is_an_approval(staff):
    drawing = DrawingFactory(label=5)

    services.review_relabel(drawings=[drawing], label=5, reviewer=staff)

    drawing.refresh_from_db()
    assert drawing.review_status == Review.APPROVED
    assert drawing.reviewed_label is None


@pytest.mark.parametrize("label", [10, -1, "3", None, 2.5, True])
def test_relabelling_to_something_not_a_digit_is_refused_and_changes_nothing(staff, label):
    drawing = DrawingFactory(label=3)

    with pytest.raises(services.ReviewError, match="digit from 0 to 9"):
        services.review_relabel(drawings=[drawing], label=label, reviewer=staff)

    drawing.refresh_from_db()
    assert drawing.review_status == Review.UNREVIEWED
    assert not ReviewDecision.objects.exists()


def test_rejecting_many_drawings_writes_one_audit_row_each(staff):
    drawings = DrawingFactory.create_batch(4)

    decisions = services.review_reject(drawings=Drawing.objects.all(), reviewer=staff).decisions

    assert len(decisions) == 4
    assert ReviewDecision.objects.filter(new_status=Review.REJECTED).count() == 4
    assert set(Drawing.objects.values_list("review_status", flat=True)) == {Review.REJECTED}
    assert len({d.decided_at for d in decisions}) == 1, "one batch, one moment"
    assert {d.drawing_id for d in decisions} == {d.pk for d in drawings}


def test_players_cannot_review(player):
    drawing = DrawingFactory()

    with pytest.raises(PermissionDenied):
        services.review_approve(drawings=[drawing], reviewer=player)
    with pytest.raises(PermissionDenied):
        services.review_undo(reviewer=player)

    assert not ReviewDecision.objects.exists()


def test_a_decision_on_no_drawing_is_refused(staff):
    with pytest.raises(services.ReviewError, match="at least one"):
        services.review_approve(drawings=[], reviewer=staff)


def test_undo_restores_the_drawing_and_keeps_both_decisions_in_the_trail(staff):
    drawing = DrawingFactory(label=3)
    services.review_relabel(drawings=[drawing], label=8, reviewer=staff)

    [reversal] = services.review_undo(reviewer=staff)

    drawing.refresh_from_db()
    assert drawing.review_status == Review.UNREVIEWED
    assert drawing.reviewed_label is None
    assert drawing.reviewed_by is None
    assert (reversal.old_status, reversal.new_status) == (Review.RELABELLED, Review.UNREVIEWED)
    assert (reversal.old_label, reversal.new_label) == (8, 3)
    assert ReviewDecision.objects.filter(drawing=drawing).count() == 2


def test_undo_goes_back_one_decision_at_a_time(staff):
    drawing = DrawingFactory(label=3)
    services.review_approve(drawings=[drawing], reviewer=staff)
    services.review_relabel(drawings=[drawing], label=9, reviewer=staff)

    services.review_undo(reviewer=staff)
    drawing.refresh_from_db()
    assert drawing.review_status == Review.APPROVED
    assert drawing.reviewed_by == staff, "the approval's reviewer is back"

    services.review_undo(reviewer=staff)
    drawing.refresh_from_db()
    assert drawing.review_status == Review.UNREVIEWED

    assert services.review_undo(reviewer=staff) == []


def test_undo_takes_back_a_whole_batch(staff):
    DrawingFactory.create_batch(3)
    services.review_reject(drawings=Drawing.objects.all(), reviewer=staff)

    assert len(services.review_undo(reviewer=staff)) == 3
    assert set(Drawing.objects.values_list("review_status", flat=True)) == {Review.UNREVIEWED}


def test_undo_leaves_a_drawing_another_reviewer_decided_since(staff):
    other = StaffFactory()
    drawing = DrawingFactory(label=3)
    services.review_approve(drawings=[drawing], reviewer=staff)
    services.review_reject(drawings=[drawing], reviewer=other)

    assert services.review_undo(reviewer=staff) == []

    drawing.refresh_from_db()
    assert drawing.review_status == Review.REJECTED
    assert drawing.reviewed_by == other


def test_undo_only_touches_the_reviewers_own_decisions(staff):
    other = StaffFactory()
    mine, theirs = DrawingFactory(), DrawingFactory()
    services.review_approve(drawings=[mine], reviewer=staff)
    services.review_reject(drawings=[theirs], reviewer=other)

    services.review_undo(reviewer=staff)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.review_status == Review.UNREVIEWED
    assert theirs.review_status == Review.REJECTED


def test_repredict_resets_the_guess_and_queues_it_after_commit(
    tmp_path, staff, django_capture_on_commit_callbacks
):
    version = make_version(tmp_path, "v1", active=True)
    drawing = DrawingFactory(wrong=True, model_version=version)
    blank = DrawingFactory(blank=True)

    with mock.patch("guessgame.game.services.queue_prediction") as queue:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert services.repredict(drawings=Drawing.objects.all(), by=staff) == 1
        queue.assert_not_called()
        for callback in callbacks:
            callback()
    queue.assert_called_once_with(drawing.pk)

    drawing.refresh_from_db()
    assert drawing.prediction_status == Drawing.Prediction.PENDING
    assert drawing.predicted_digit is None
    assert drawing.confidence is None
    assert drawing.model_version is None
    blank.refresh_from_db()
    assert blank.prediction_status == Drawing.Prediction.DONE


def test_repredict_clears_a_not_a_digit_answer_too(tmp_path, staff):
    make_version(tmp_path, "v1", active=True)
    scribble = DrawingFactory(not_a_digit=True)

    with mock.patch("guessgame.game.services.queue_prediction"):
        assert services.repredict(drawings=[scribble], by=staff) == 1

    scribble.refresh_from_db()
    assert scribble.prediction_status == Drawing.Prediction.PENDING
    assert scribble.not_digit is False and scribble.confidence is None


def test_repredict_records_who_when_and_the_guess_it_replaced(tmp_path, staff):
    old = make_version(tmp_path, "v1")
    active = make_version(tmp_path, "v2", active=True)
    drawing = DrawingFactory(label=4, predicted_digit=9, confidence=0.4, model_version=old)

    with mock.patch("guessgame.game.services.queue_prediction"):
        services.repredict(drawings=[drawing], by=staff)

    record = Reprediction.objects.get()
    assert (record.drawing, record.requested_by) == (drawing, staff)
    assert record.requested_at is not None
    assert (record.old_predicted_digit, record.old_confidence) == (9, 0.4)
    assert (record.old_model_version, record.model_version) == (old, active)
    assert not ReviewDecision.objects.exists(), "status and label did not change"


def test_players_cannot_repredict(tmp_path, player):
    make_version(tmp_path, "v1", active=True)
    drawing = DrawingFactory()

    with pytest.raises(PermissionDenied):
        services.repredict(drawings=[drawing], by=player)
    assert not Reprediction.objects.exists()


def test_repredict_without_an_active_model_is_refused(staff):
    ModelVersion.objects.update(is_active=False)  # the shipped one may be active
    drawing = DrawingFactory()

    with pytest.raises(services.ReviewError, match="no active model"):
        services.repredict(drawings=[drawing], by=staff)

    drawing.refresh_from_db()
    assert drawing.prediction_status == Drawing.Prediction.DONE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_quick_undos_take_back_two_decisions_not_one_twice():

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite runs one writer at a time)")
    staff = StaffFactory()
    first, second = DrawingFactory(), DrawingFactory()
    services.review_approve(drawings=[first], reviewer=staff)
    services.review_reject(drawings=[second], reviewer=staff)
    results = []

    def press_u():
        results.append(services.review_undo(reviewer=staff))

    assert at_once(press_u) == []
    assert sorted(r.drawing_id for batch in results for r in batch) == [first.pk, second.pk]
    assert set(Drawing.objects.values_list("review_status", flat=True)) == {Review.UNREVIEWED}


def test_two_reviewers_never_get_the_same_drawing(staff):
    other = StaffFactory(username="bob")
    drawings = [DrawingFactory(label=3, predicted_digit=8, confidence=0.9) for _ in range(5)]

    mine = services.claim_for_review(reviewer=staff, mode="disagreements", limit=3)
    theirs = services.claim_for_review(reviewer=other, mode="disagreements", limit=3)

    assert len(mine) == 3 and len(theirs) == 2
    assert not {d.pk for d in mine} & {d.pk for d in theirs}
    assert {d.pk for d in mine} | {d.pk for d in theirs} == {d.pk for d in drawings}
    again = services.claim_for_review(reviewer=staff, mode="disagreements", limit=3)
    assert [d.pk for d in again] == [d.pk for d in mine], "a reload shows the same drawings"


def test_a_claim_expires_and_a_decision_releases_it(staff):
    other = StaffFactory(username="bob")
    first, second = (DrawingFactory(label=3, predicted_digit=8, confidence=0.9) for _ in "12")
    services.claim_for_review(reviewer=staff, mode="disagreements", limit=2)
    assert services.claim_for_review(reviewer=other, mode="disagreements", limit=2) == []

    ReviewClaim.objects.filter(drawing=first).update(expires_at=timezone.now())
    services.review_approve(drawings=[second], reviewer=staff)

    assert services.claim_for_review(reviewer=other, mode="disagreements", limit=2) == [first]
    assert not ReviewClaim.objects.filter(drawing=second).exists()


def test_a_skipped_drawing_goes_to_another_reviewer_not_back(staff):
    other = StaffFactory(username="bob")
    [drawing] = [DrawingFactory(label=3, predicted_digit=8, confidence=0.9)]
    services.claim_for_review(reviewer=staff, mode="disagreements", limit=5)

    services.review_skip(drawing=drawing, reviewer=staff)

    assert services.claim_for_review(reviewer=staff, mode="disagreements", limit=5) == []
    assert services.claim_for_review(reviewer=other, mode="disagreements", limit=5) == [drawing]
    assert drawing.review_status == Review.UNREVIEWED, "skipping decides nothing"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_opening_the_queue_at_once_get_different_drawings():

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite runs one writer at a time)")
    reviewers = [StaffFactory(username="ann"), StaffFactory(username="bob")]
    for _ in range(6):
        DrawingFactory(label=3, predicted_digit=8, confidence=0.9)
    handed = {}

    def open_queue(reviewer):
        drawings = services.claim_for_review(reviewer=reviewer, mode="disagreements", limit=6)
        handed[reviewer.username] = {d.pk for d in drawings}

    assert at_once(open_queue, [(r,) for r in reviewers]) == []
    assert not handed["ann"] & handed["bob"]
    assert len(handed["ann"] | handed["bob"]) == 6
    assert ReviewClaim.objects.count() == 6
