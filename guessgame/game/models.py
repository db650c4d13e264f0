"""Games, rounds, drawings and the staff's review decisions.

Rules about one record are methods here; flows across records are in ``services.py``.
"""

from __future__ import annotations

import io

import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import Case, F, IntegerField, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from PIL import Image

from guessgame.game import constants
from guessgame.game.words import a_digit
from inference.contract import FIELD_PX, is_pixel_bytes, levels_from_bytes, pixels_from_bytes


class Guest(models.Model):
    """A player who has not signed up: plays at once, stays off the leaderboard.

    The account is a real user (games, drawings and scoring work as for anyone) with no
    usable password; signing up gives it a name and a password and deletes this row.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="guest"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"Guest {self.user_id}"


GUEST_PREFIX = "guest-"
"""Guests' accounts are named guest-<random>; nobody signs up with such a name."""


def is_guest(user) -> bool:
    """True for a guest's account (signed in, not signed up)."""
    if not getattr(user, "is_authenticated", False):
        return False
    try:
        return user.guest is not None
    except Guest.DoesNotExist:
        return False


class Game(models.Model):
    """Ten rounds, each digit once, in random order."""

    player = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="games"
    )
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    score = models.IntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-score", "finished_at"], name="game_leaderboard_idx")]

    def __str__(self) -> str:
        return f"Game {self.pk} of {self.player} ({self.score} points)"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class Round(models.Model):
    """One target digit and its server-side clock."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(help_text="1 to 10, in play order.")
    target = models.PositiveSmallIntegerField(help_text="The digit the player must draw.")
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the clock started.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    points = models.IntegerField(default=0)
    scored = models.BooleanField(default=False, help_text="Points are final (prediction done).")

    class Meta:
        ordering = ["game", "number"]
        constraints = [
            models.UniqueConstraint(fields=["game", "number"], name="round_number_once_per_game"),
            models.UniqueConstraint(fields=["game", "target"], name="round_digit_once_per_game"),
            models.CheckConstraint(condition=Q(target__lte=9), name="round_target_is_a_digit"),
            models.CheckConstraint(
                condition=Q(number__gte=1) & Q(number__lte=constants.ROUNDS_PER_GAME),
                name="round_number_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Round {self.number} of game {self.game_id}: draw {self.target}"

    @property
    def deadline(self):
        if self.started_at is None:
            return None
        return self.started_at + constants.ROUND_DURATION

    def seconds_left(self, now=None) -> float:
        if self.started_at is None:
            return constants.ROUND_SECONDS
        now = now or timezone.now()
        return max(0.0, (self.deadline - now).total_seconds())

    @property
    def is_revealed(self) -> bool:
        """Its target may reach the browser: the round started, or the game is over."""
        return self.started_at is not None or self.game.is_finished

    @property
    def is_played(self) -> bool:
        """Over for the player: a drawing was sent, or the round ended without one."""
        return self.scored or self.submitted_at is not None

    def is_late(self, at) -> bool:
        """Late means after the deadline plus a small grace for network latency."""
        return self.started_at is not None and at > self.deadline + constants.SUBMIT_GRACE


def truth():
    """The drawing's true digit in SQL: the reviewer's label when relabelled, else the round's.

    The database twin of ``Drawing.effective_label``.
    """
    return Coalesce("reviewed_label", "label")


def correct() -> Q:
    """The model named the drawing's true digit, in SQL: the one rule of "right" (the
    profile, the dashboard, the review queue and the export all use it). "Not a digit"
    is never right: a drawing stands for its label until staff reject it as junk."""
    return Q(predicted_digit=truth())


TRUST_CONFIDENCE = 0.9
"""An unreviewed drawing is trusted for training when the model named the round's target
with at least this probability (0-1): player and model agree."""


def _reviewed() -> Q:
    return Q(review_status__in=[Drawing.Review.APPROVED, Drawing.Review.RELABELLED])


def _agreed(min_confidence: float) -> Q:
    return Q(
        review_status=Drawing.Review.UNREVIEWED,
        prediction_status=Drawing.Prediction.DONE,
        not_digit=False,
        predicted_digit=F("label"),
        confidence__gte=min_confidence,
    )


class DrawingQuerySet(models.QuerySet):
    """The one place that says what a drawing's true label is and which drawings are
    trusted: the admin, the review queue, the dashboard, profiles, export and retrain
    all ask these methods."""

    def with_truth(self):
        """Annotate ``truth``: the reviewer's label when relabelled, else the round's."""
        return self.annotate(truth=truth())

    def labelled(self, digit: int):
        """Drawings whose true digit is ``digit`` (a relabel moves a drawing)."""
        return self.with_truth().filter(truth=digit)

    def reviewed(self):
        """Approved or relabelled by staff: their label is a person's word."""
        return self.filter(_reviewed())

    def agreed(self, *, min_confidence: float = TRUST_CONFIDENCE):
        """Unreviewed drawings where player and model agree: the model named the round's
        target (not "not a digit") with at least ``min_confidence``."""
        return self.filter(_agreed(min_confidence))

    def trusted(self, *, min_confidence: float = TRUST_CONFIDENCE):
        """What retraining learns from by default: reviewed, or agreed; the rest waits
        for review."""
        return self.filter(_reviewed() | _agreed(min_confidence))

    def guessed(self):
        """Predicted drawings the model could be right or wrong about (not blank)."""
        return self.filter(prediction_status=Drawing.Prediction.DONE, blank=False)

    def misclassified(self):
        """The guess differs from the true digit, the reviewed one when relabelled: a
        drawing relabelled to the model's guess is no longer misclassified."""
        return self.guessed().exclude(correct())

    def guessed_right(self):
        return self.guessed().filter(correct())

    def with_correct(self):
        """Annotate ``truth`` and ``correct`` (1 when the model named the truth, else 0),
        for counting right guesses per digit, version or day."""
        return self.with_truth().annotate(
            correct=Case(When(correct(), then=1), default=0, output_field=IntegerField())
        )

    def pending_prediction(self):
        return self.filter(prediction_status=Drawing.Prediction.PENDING)

    def exportable(self):
        return self.exclude(review_status=Drawing.Review.REJECTED).exclude(blank=True)


class Drawing(models.Model):
    """A player's drawing with its true label: the data the model learns from."""

    class Prediction(models.TextChoices):
        PENDING = "pending", "Waiting for the model"
        DONE = "done", "Predicted"
        FAILED = "failed", "Could not be predicted"

    class Review(models.TextChoices):
        UNREVIEWED = "unreviewed", "Unreviewed"
        APPROVED = "approved", "Approved"
        RELABELLED = "relabelled", "Relabelled"
        REJECTED = "rejected", "Rejected"

    class Flag(models.TextChoices):
        NONE = "", "Not flagged"
        DREW_SOMETHING_ELSE = "drew_something_else", "I drew something else"
        LABEL_WRONG = "label_wrong", "The model is right, the label is wrong"

    # One drawing per round, enforced by the database (two tabs or a double click count once).
    round = models.OneToOneField(
        Round, on_delete=models.CASCADE, related_name="drawing", null=True, blank=True
    )
    player = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drawings",
    )
    label = models.PositiveSmallIntegerField(help_text="The true label: the round's target.")
    image_png = models.BinaryField(help_text="The PNG the browser sent.")
    strokes = models.JSONField(
        default=list, blank=True, help_text="[[x...],[y...],[t ms...]] per stroke."
    )
    pixels = models.BinaryField(
        null=True, blank=True, help_text="The 28x28 uint8 image the model saw (784 bytes)."
    )
    blank = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    late = models.BooleanField(default=False, help_text="Submitted after the round clock ran out.")

    prediction_status = models.CharField(
        max_length=10, choices=Prediction.choices, default=Prediction.PENDING, db_index=True
    )
    predicted_digit = models.PositiveSmallIntegerField(null=True, blank=True)
    not_digit = models.BooleanField(
        "not a digit",
        default=False,
        help_text='The model\'s answer was "not a digit" (no predicted digit; never scores).',
    )
    confidence = models.FloatField(
        null=True, blank=True, help_text="p(predicted digit), or p(not a digit) for a non-digit."
    )
    probabilities = models.JSONField(null=True, blank=True)
    model_version = models.ForeignKey(
        "inference.ModelVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drawings",
    )
    predicted_at = models.DateTimeField(null=True, blank=True)

    flag = models.CharField(max_length=30, choices=Flag.choices, default=Flag.NONE, blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True)

    review_status = models.CharField(
        max_length=12, choices=Review.choices, default=Review.UNREVIEWED, db_index=True
    )
    reviewed_label = models.PositiveSmallIntegerField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = DrawingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(label__lte=9), name="drawing_label_is_a_digit"),
            models.CheckConstraint(
                condition=Q(reviewed_label__isnull=True) | Q(reviewed_label__lte=9),
                name="drawing_reviewed_label_is_a_digit",
            ),
        ]

    def __str__(self) -> str:
        return f"Drawing {self.pk} of {a_digit(self.label)}"

    @property
    def effective_label(self) -> int:
        """The label used for training: the reviewer's, when one relabelled it."""
        return self.reviewed_label if self.reviewed_label is not None else self.label

    @property
    def is_guessed(self) -> bool:
        """Predicted and not blank: the model could be right or wrong about it."""
        return self.prediction_status == self.Prediction.DONE and not self.blank

    @property
    def is_correct(self) -> bool:
        """The twin of :func:`correct` for one drawing: the model named its true digit."""
        return self.is_guessed and self.predicted_digit == self.effective_label

    @property
    def is_misclassified(self) -> bool:
        """The guess differs from the true digit (``effective_label``)."""
        return self.is_guessed and not self.is_correct

    def top_guesses(self, count: int = 3) -> list[tuple[int | None, float]]:
        """The model's most probable answers, best first: (digit, p), digit None for
        "not a digit" (what the ten digits leave of 1, from an 11-output model)."""
        if not self.probabilities:
            return []
        answers: list[tuple[int | None, float]] = list(enumerate(self.probabilities))
        rest = 1.0 - sum(self.probabilities)
        if rest > 0.005:
            answers.append((None, rest))
        return sorted(answers, key=lambda answer: -answer[1])[:count]

    def pixels_array(self) -> np.ndarray | None:
        """The model's 28x28 input as float32 in [0, 1], or None before preprocessing."""
        if not is_pixel_bytes(self.pixels):
            return None
        return pixels_from_bytes(self.pixels)

    def pixels_png(self, *, scale: int = 1) -> bytes | None:
        """What the model saw as a PNG: white ink on black, like MNIST, ``scale`` times
        larger (nearest neighbour, so each input pixel stays sharp); None before
        preprocessing."""
        if not is_pixel_bytes(self.pixels):
            return None
        image = Image.fromarray(levels_from_bytes(self.pixels), "L")
        if scale > 1:
            image = image.resize((FIELD_PX * scale,) * 2, Image.Resampling.NEAREST)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()
