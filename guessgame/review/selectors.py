"""Reads for the review queue and the dashboard.

"Players' drawings" here means what the model can be judged on: predicted, not blank,
not rejected by staff; the truth is the effective label (the reviewer's, when relabelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from guessgame.game.models import Drawing, truth
from guessgame.review.models import ReviewDecision
from inference.contract import DIGITS

CONFIDENT = 0.8
"""A guess at or above this probability (0-1) is the model being sure."""


@dataclass(frozen=True)
class QueueMode:
    key: str
    title: str
    description: str


QUEUE_MODES = (
    QueueMode(
        "disagreements",
        "Confident disagreements",
        f"the model is sure (p >= {CONFIDENT}) of another digit than the label: most "
        "likely a wrong label or a misdrawn digit",
    ),
    QueueMode(
        "not_digit", "Not a digit", 'the model answered "not a digit": junk, or a hard digit'
    ),
    QueueMode("least_confident", "Least confident", "the model's least sure guesses, lowest first"),
    QueueMode("flagged", "Flagged", "players said the model or the label was wrong"),
    QueueMode(
        "audit",
        "Random audit",
        "a random sample of drawings trained on unreviewed because player and model "
        "agreed: how often is that wrong?",
    ),
)
QUEUE_MODE_KEYS = tuple(mode.key for mode in QUEUE_MODES)


def queue_candidates(mode: str) -> QuerySet[Drawing]:
    """The unreviewed drawings of one queue mode, in the order they are handed out."""
    unreviewed = Drawing.objects.filter(review_status=Drawing.Review.UNREVIEWED)
    if mode == "disagreements":
        return (
            unreviewed.guessed()
            .filter(not_digit=False, confidence__gte=CONFIDENT)
            .exclude(predicted_digit=truth())
            .order_by("-confidence", "pk")
        )
    if mode == "not_digit":
        return unreviewed.guessed().filter(not_digit=True).order_by("-confidence", "pk")
    if mode == "least_confident":
        return unreviewed.guessed().order_by(Coalesce("confidence", 0.0).asc(), "pk")
    if mode == "flagged":
        return unreviewed.exclude(flag=Drawing.Flag.NONE).order_by("flagged_at", "pk")
    if mode == "audit":
        return unreviewed.agreed().order_by("?")
    raise ValueError(f"The queue mode must be one of {', '.join(QUEUE_MODE_KEYS)}.")


def mode_counts() -> dict[str, int]:
    """How many unreviewed drawings each mode holds (claimed ones included)."""
    return {mode: queue_candidates(mode).order_by().count() for mode in QUEUE_MODE_KEYS}


def review_candidates() -> QuerySet[Drawing]:
    """Drawings that needed a human look: misclassified, or flagged by their player.

    Misclassified is judged against the true digit (the reviewer's label when relabelled),
    so a drawing relabelled to the model's guess is no longer one, and one relabelled
    away from a right guess becomes one.
    """
    return Drawing.objects.misclassified() | Drawing.objects.exclude(flag=Drawing.Flag.NONE)


def reviewer_counts(*, since=None) -> list[dict]:
    """``[{name, decisions, approved, relabelled, rejected}]``, most decisions first;
    undos and the decisions they took back do not count."""
    decisions = ReviewDecision.objects.filter(
        undone_by__isnull=True, reverses__isnull=True, reviewer__isnull=False
    )
    if since is not None:
        decisions = decisions.filter(decided_at__gte=since)
    statuses = (Drawing.Review.APPROVED, Drawing.Review.RELABELLED, Drawing.Review.REJECTED)
    rows = (
        decisions.values(name=F("reviewer__username"))
        .annotate(
            decisions=Count("pk"),
            **{status: Count("pk", filter=Q(new_status=status)) for status in statuses},
        )
        .order_by("-decisions", "name")
    )
    return list(rows)


@dataclass(frozen=True)
class Progress:
    reviewed: int
    total: int

    @property
    def remaining(self) -> int:
        return self.total - self.reviewed


def review_progress() -> Progress:
    """How many of the drawings that needed a look have had one ("12 of 340 reviewed").

    A drawing whose guess missed the round's target needed a look even after it was
    relabelled to that guess (it is then no longer a candidate): it counts, as reviewed.
    """
    missed_target = Drawing.objects.guessed().exclude(predicted_digit=F("label"))
    counts = (review_candidates() | missed_target).aggregate(
        total=Count("pk"), reviewed=Count("pk", filter=~Q(review_status=Drawing.Review.UNREVIEWED))
    )
    return Progress(reviewed=counts["reviewed"], total=counts["total"])


def judged_drawings() -> QuerySet[Drawing]:
    """Predicted players' drawings with their truth (``truth``) and ``correct`` (0/1).

    A drawing the model called "not a digit" counts as wrong: it stands for a digit (its
    label) until staff reject it as junk.
    """
    return Drawing.objects.guessed().exclude(review_status=Drawing.Review.REJECTED).with_correct()


def _accuracy_rows(grouped) -> list[dict]:
    rows = []
    for row in grouped.annotate(total=Count("pk"), right=Sum("correct")):
        row["accuracy"] = row["right"] / row["total"] if row["total"] else 0.0
        rows.append(row)
    return rows


def accuracy_by_version() -> list[dict]:
    """``[{version, total, right, accuracy}]``, oldest version first."""
    grouped = (
        judged_drawings()
        .values(version=F("model_version__name"), created=F("model_version__created_at"))
        .order_by("created", "version")
    )
    return [{k: v for k, v in row.items() if k != "created"} for row in _accuracy_rows(grouped)]


def accuracy_by_digit(*, version_id: int | None = None) -> list[dict]:
    """``[{digit, total, right, accuracy}]`` for 0-9 (true digit), zeros where none."""
    drawings = judged_drawings()
    if version_id is not None:
        drawings = drawings.filter(model_version_id=version_id)
    found = {row["truth"]: row for row in _accuracy_rows(drawings.values("truth").order_by())}
    return [
        {
            "digit": digit,
            "total": found.get(digit, {}).get("total", 0),
            "right": found.get(digit, {}).get("right", 0),
            "accuracy": found.get(digit, {}).get("accuracy", 0.0),
        }
        for digit in range(DIGITS)
    ]


def accuracy_by_day(*, version_id: int | None = None) -> list[dict]:
    """``[{day: date, total, right, accuracy}]`` per UTC day the drawings were made."""
    drawings = judged_drawings()
    if version_id is not None:
        drawings = drawings.filter(model_version_id=version_id)
    grouped = drawings.annotate(day=TruncDate("created_at")).values("day").order_by("day")
    rows = _accuracy_rows(grouped)
    for row in rows:
        if not isinstance(row["day"], date):  # SQLite may hand back a string
            row["day"] = date.fromisoformat(str(row["day"]))
    return rows


def player_confusion_matrix(*, version_id: int | None = None) -> list[list[int]]:
    """10x10 counts of players' drawings: rows the true digit, columns the model's guess
    (drawings the model called "not a digit" have no column)."""
    drawings = judged_drawings()
    if version_id is not None:
        drawings = drawings.filter(model_version_id=version_id)
    matrix = [[0] * DIGITS for _ in range(DIGITS)]
    for row in drawings.values("truth", "predicted_digit").annotate(n=Count("pk")).order_by():
        guess = row["predicted_digit"]
        if guess is not None and 0 <= row["truth"] < DIGITS and 0 <= guess < DIGITS:
            matrix[row["truth"]][guess] = row["n"]
    return matrix
