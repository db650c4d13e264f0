"""Staff review's records, never edited: the audit trail of decisions and what it links.

* ``ReviewDecision``: every staff decision on a drawing (who, when, old and new status
  and label); the drawing's own review fields hold the latest.
* ``UndoneDecision``: ``ReviewDecision`` rows are never edited, so an undo is a new,
  reversing decision plus this link between the two; the review queue's "U" finds the
  reviewer's last decision that is neither undone nor itself a reversal.
* ``Reprediction``: a staff request for a new guess by the active model, with the guess
  it threw away (status and label do not change, so it is not a ``ReviewDecision``).
* ``ReviewClaim``: a drawing handed to one reviewer in the queue, until it expires, so
  two reviewers never get the same drawing (the database's unique drawing enforces it).
* ``ModelActivation``: every change of the active model (activate, an override of the
  gate with its typed reason, roll back, or a retrain activating its version by the
  gate): who, when, from which version to which, and why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from guessgame.game.models import Drawing
from inference.models import ModelVersion


class ReviewDecision(models.Model):
    """The audit trail: every staff decision on a drawing, never edited."""

    drawing = models.ForeignKey(Drawing, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    decided_at = models.DateTimeField(default=timezone.now)
    old_status = models.CharField(max_length=12, choices=Drawing.Review.choices)
    new_status = models.CharField(max_length=12, choices=Drawing.Review.choices)
    old_label = models.PositiveSmallIntegerField()
    new_label = models.PositiveSmallIntegerField()

    class Meta:
        # The table keeps the name it had when this model lived in the game app.
        db_table = "game_reviewdecision"
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.old_status}->{self.new_status} on drawing {self.drawing_id}"


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


class ReviewClaim(models.Model):
    """A drawing in one reviewer's queue until ``expires_at``; ``skipped``: they passed it
    on ("unsure"), so another reviewer may take it and it is not handed back to them."""

    drawing = models.OneToOneField(Drawing, on_delete=models.CASCADE, related_name="claim")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    skipped = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Drawing {self.drawing_id} claimed by {self.reviewer_id} until {self.expires_at}"


class Reprediction(models.Model):
    """Staff asked the active model for a new guess: who, when, and the guess it replaced."""

    drawing = models.ForeignKey(Drawing, on_delete=models.CASCADE, related_name="repredictions")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    old_predicted_digit = models.PositiveSmallIntegerField(null=True, blank=True)
    old_confidence = models.FloatField(null=True, blank=True, help_text="0-1.")
    old_model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The model that made the replaced guess.",
    )
    model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        help_text="The active model when the new guess was asked for.",
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = "re-prediction"

    def __str__(self) -> str:
        return f"{self.requested_by} re-predicted drawing {self.drawing_id}"
