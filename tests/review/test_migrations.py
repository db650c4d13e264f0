"""Migration review.0006 / game.0005: ReviewDecision moves to the review app, its rows stay."""

from __future__ import annotations

import pytest

from tests.migrate import latest, migrate

BEFORE = [("game", "0004_guest"), ("review", "0005_reviewclaim")]


@pytest.mark.django_db(transaction=True)
def test_decisions_and_their_undo_links_made_before_the_move_are_read_after_it():
    apps = migrate(BEFORE)
    try:
        User = apps.get_model("auth", "User")
        Game = apps.get_model("game", "Game")
        Round = apps.get_model("game", "Round")
        Drawing = apps.get_model("game", "Drawing")
        Decision = apps.get_model("game", "ReviewDecision")
        Undone = apps.get_model("review", "UndoneDecision")
        staff = User.objects.create(username="staff-before-the-move", is_staff=True)
        round = Round.objects.create(game=Game.objects.create(player=staff), number=1, target=3)
        drawing = Drawing.objects.create(round=round, player=staff, label=3)
        decided = Decision.objects.create(
            drawing=drawing, reviewer=staff, old_status="unreviewed", new_status="approved",
            old_label=3, new_label=3,
        )  # fmt: skip
        reversal = Decision.objects.create(
            drawing=drawing, reviewer=staff, old_status="approved", new_status="unreviewed",
            old_label=3, new_label=3,
        )  # fmt: skip
        Undone.objects.create(decision=decided, reversal=reversal)
    finally:
        migrate(latest())

    from guessgame.review.models import ReviewDecision, UndoneDecision

    moved = ReviewDecision.objects.get(pk=decided.pk)
    assert (moved.drawing_id, moved.new_status) == (drawing.pk, "approved")
    assert UndoneDecision.objects.get(decision=moved).reversal_id == reversal.pk
    assert list(moved.drawing.decisions.order_by("pk")) == [
        moved,
        ReviewDecision.objects.get(pk=reversal.pk),
    ]
