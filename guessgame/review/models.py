"""What the game's audit trail cannot say on its own: which decisions were undone.

``ReviewDecision`` rows are never edited, so an undo is a new, reversing decision plus
this link between the two; the review queue's "U" finds the reviewer's last decision
that is neither undone nor itself a reversal.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from guessgame.game.models import ReviewDecision


class UndoneDecision(models.Model):
    """A decision taken back by its reviewer, and the decision that reversed it."""

    decision = models.OneToOneField(
        ReviewDecision, on_delete=models.CASCADE, related_name="undone_by"
    )
    reversal = models.OneToOneField(
        ReviewDecision,
        on_delete=models.CASCADE,
        related_name="reverses",
        null=True,
        blank=True,
        help_text="Empty when another reviewer had changed the drawing since: nothing restored.",
    )
    undone_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-undone_at"]

    def __str__(self) -> str:
        return f"Decision {self.decision_id} undone by decision {self.reversal_id}"
