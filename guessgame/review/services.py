"""Staff decisions on players' drawings, each one kept in the audit trail.

Every function takes the drawings (a queryset, Drawing objects or ids) and the staff
``reviewer``, changes the drawings under row locks in one transaction, and writes one
``ReviewDecision`` per drawing, so who decided what and when is never lost. A batch
(one admin action, one key press) shares one ``decided_at``; undo takes back the
reviewer's last batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from guessgame.errors import Refusal
from guessgame.game.models import Drawing
from guessgame.review.models import (
    Reprediction,
    ReviewClaim,
    ReviewDecision,
    UndoneDecision,
)
from inference.models import ModelVersion

log = logging.getLogger(__name__)

Review = Drawing.Review
Drawings = Iterable[Drawing | int]


class ReviewError(Refusal):
    """A decision that cannot be made; ``str(error)`` is a sentence for the reviewer."""


def _ids(drawings: Drawings) -> list[int]:
    if hasattr(drawings, "values_list"):
        return sorted(drawings.values_list("pk", flat=True))
    return sorted({d if isinstance(d, int) else d.pk for d in drawings})


def _check_staff(reviewer) -> None:
    if reviewer is None or not reviewer.is_authenticated or not reviewer.is_staff:
        raise PermissionDenied("Only staff can review drawings.")


def _check_digit(label) -> int:
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= 9:
        raise ReviewError(f"A label must be a digit from 0 to 9, not {label!r}.")
    return label


@dataclass
class Decided:
    """What a review action did: the decisions written, and the relabelled drawings it
    left alone (a bulk action never overwrites a reviewer's relabel silently)."""

    decisions: list[ReviewDecision] = field(default_factory=list)
    skipped_relabelled: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.decisions)

    def skipped_sentence(self) -> str:
        """ "" when none was skipped, else a sentence naming them for the reviewer."""
        if not self.skipped_relabelled:
            return ""
        ids = ", ".join(str(pk) for pk in self.skipped_relabelled[:10])
        more = "..." if len(self.skipped_relabelled) > 10 else ""
        return (
            f"Skipped {len(self.skipped_relabelled)} relabelled drawing(s) (id {ids}{more}): "
            "a reviewer chose their label; decide on them one at a time."
        )


def _decide(
    decision_for, drawings: Drawings, reviewer, overwrite_relabels: bool = False
) -> Decided:
    """Apply ``decision_for(drawing) -> (status, reviewed_label)`` to each drawing, audited.

    A relabelled drawing whose label or status would change is skipped (and named in the
    result) unless ``overwrite_relabels``: a bulk approve must not undo a relabel.
    """
    _check_staff(reviewer)
    ids = _ids(drawings)
    if not ids:
        raise ReviewError("Choose at least one drawing.")
    now = timezone.now()
    done = Decided()
    with transaction.atomic():
        # Lock the rows: two reviewers deciding at once must not lose a decision.
        locked = list(Drawing.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if len(locked) != len(ids):
            raise ReviewError("Some of these drawings no longer exist; reload the page.")
        for drawing in locked:
            old_status, old_label = drawing.review_status, drawing.effective_label
            new_status, new_reviewed_label = decision_for(drawing)
            changes_relabel = old_status == Review.RELABELLED and (
                new_status != old_status or new_reviewed_label != drawing.reviewed_label
            )
            if changes_relabel and not overwrite_relabels:
                done.skipped_relabelled.append(drawing.pk)
                continue
            drawing.review_status, drawing.reviewed_label = new_status, new_reviewed_label
            drawing.reviewed_by = reviewer
            drawing.reviewed_at = now
            drawing.save(
                update_fields=["review_status", "reviewed_label", "reviewed_by", "reviewed_at"]
            )
            done.decisions.append(
                ReviewDecision(
                    drawing=drawing,
                    reviewer=reviewer,
                    decided_at=now,
                    old_status=old_status,
                    new_status=drawing.review_status,
                    old_label=old_label,
                    new_label=drawing.effective_label,
                )
            )
        ReviewDecision.objects.bulk_create(done.decisions)
        # Decided: no longer anyone's to review.
        ReviewClaim.objects.filter(drawing_id__in=[d.drawing_id for d in done.decisions]).delete()
    log.info(
        "event=review_decision reviewer=%s status=%s drawings=%d skipped_relabelled=%d",
        reviewer.pk,
        done.decisions[0].new_status if done.decisions else None,
        len(done.decisions),
        len(done.skipped_relabelled),
    )
    return done


def review_approve(*, drawings: Drawings, reviewer, overwrite_relabels: bool = False) -> Decided:
    """The round's label is right: the drawing is good training data as it is."""
    return _decide(lambda d: (Review.APPROVED, None), drawings, reviewer, overwrite_relabels)


def review_relabel(
    *, drawings: Drawings, label: int, reviewer, overwrite_relabels: bool = False
) -> Decided:
    """The player drew another digit: train on ``label`` instead of the round's target.

    Relabelling to the round's own target is an approval.
    """
    label = _check_digit(label)

    def decision_for(drawing: Drawing):
        if label == drawing.label:
            return Review.APPROVED, None
        return Review.RELABELLED, label

    return _decide(decision_for, drawings, reviewer, overwrite_relabels)


def review_reject(*, drawings: Drawings, reviewer, overwrite_relabels: bool = False) -> Decided:
    """Not a digit, or abuse: never exported, never trained on."""
    return _decide(lambda d: (Review.REJECTED, None), drawings, reviewer, overwrite_relabels)


CLAIM_MINUTES = 15
"""A drawing handed to a reviewer stays theirs this long (minutes), then goes back."""


def claim_for_review(*, reviewer, mode: str, limit: int) -> list[Drawing]:
    """Hand ``reviewer`` up to ``limit`` drawings of a queue mode, claimed for them.

    Their own live claims come first (a reload shows the same drawings); then drawings
    nobody holds: unclaimed, expired, or skipped by another reviewer. The claim's unique
    drawing decides a race: of two reviewers claiming one drawing at once, one gets it
    and the other moves on, so two reviewers never get the same drawing.
    """
    from guessgame.review.selectors import queue_candidates

    _check_staff(reviewer)
    now = timezone.now()
    expires = now + timedelta(minutes=CLAIM_MINUTES)
    candidates = queue_candidates(mode)
    mine = list(
        candidates.filter(
            claim__reviewer=reviewer, claim__skipped=False, claim__expires_at__gt=now
        )[:limit]
    )
    ReviewClaim.objects.filter(pk__in=[d.claim.pk for d in mine]).update(expires_at=expires)
    free = candidates.filter(
        Q(claim__isnull=True)
        | Q(claim__expires_at__lte=now)
        | (Q(claim__skipped=True) & ~Q(claim__reviewer=reviewer))
    ).select_related("player", "model_version", "claim")
    handed = list(mine)
    for drawing in free[: max(0, limit - len(mine)) * 2 + 10].iterator():
        if len(handed) >= limit:
            break
        if _take(drawing, reviewer=reviewer, now=now, expires=expires):
            handed.append(drawing)
    return handed


def _take(drawing: Drawing, *, reviewer, now, expires) -> bool:
    """Claim one free drawing for ``reviewer``; False when another reviewer was first."""
    from django.db import IntegrityError

    claim = getattr(drawing, "claim", None)
    if claim is not None:
        # Take it over only if it is still as we saw it: expired or passed on.
        return bool(
            ReviewClaim.objects.filter(
                pk=claim.pk, reviewer_id=claim.reviewer_id, expires_at=claim.expires_at
            )
            .filter(Q(expires_at__lte=now) | Q(skipped=True))
            .update(reviewer=reviewer, claimed_at=now, expires_at=expires, skipped=False)
        )
    try:
        with transaction.atomic():
            ReviewClaim.objects.create(
                drawing=drawing, reviewer=reviewer, claimed_at=now, expires_at=expires
            )
    except IntegrityError:
        return False  # claimed by another reviewer a moment ago
    return True


def review_skip(*, drawing: Drawing | int, reviewer) -> None:
    """ "Unsure": pass the drawing on; another reviewer may take it, it is not handed
    back to this one (until their claim would have expired)."""
    _check_staff(reviewer)
    pk = drawing if isinstance(drawing, int) else drawing.pk
    updated = ReviewClaim.objects.filter(drawing_id=pk, reviewer=reviewer).update(skipped=True)
    if not updated:
        ReviewClaim.objects.create(
            drawing_id=pk,
            reviewer=reviewer,
            skipped=True,
            expires_at=timezone.now() + timedelta(minutes=CLAIM_MINUTES),
        )


def review_undo(*, reviewer) -> list[ReviewDecision]:
    """Take back this reviewer's last decision (the whole batch); return the reversals.

    A drawing another reviewer has decided on since is left as it is (their decision
    stands); the undone decision is still marked, so the next undo goes further back.
    Returns an empty list when there is nothing left to undo.
    """
    _check_staff(reviewer)
    with transaction.atomic():
        # The reviewer's own row is the lock: two quick "U" presses undo two decisions,
        # never the same one twice.
        list(get_user_model().objects.select_for_update().filter(pk=reviewer.pk))
        undoable = ReviewDecision.objects.filter(
            reviewer=reviewer, undone_by__isnull=True, reverses__isnull=True
        )
        last = undoable.order_by("-decided_at", "-pk").first()
        if last is None:
            return []
        batch = list(undoable.filter(decided_at=last.decided_at).order_by("pk"))
        drawings = Drawing.objects.select_for_update().in_bulk([d.drawing_id for d in batch])
        now = timezone.now()
        reversals = []
        for decision in batch:
            drawing = drawings[decision.drawing_id]
            changed_since = (
                drawing.review_status != decision.new_status
                or drawing.effective_label != decision.new_label
                or drawing.reviewed_by_id != reviewer.pk
            )
            if changed_since:
                UndoneDecision.objects.create(decision=decision, reversal=None, undone_at=now)
                continue
            previous = (
                drawing.decisions.filter(pk__lt=decision.pk, undone_by__isnull=True)
                .order_by("-pk")
                .first()
            )
            restored_by_previous = (
                decision.old_status != Review.UNREVIEWED
                and previous is not None
                and previous.new_status == decision.old_status
            )
            drawing.review_status = decision.old_status
            drawing.reviewed_label = (
                decision.old_label if decision.old_status == Review.RELABELLED else None
            )
            drawing.reviewed_by = previous.reviewer if restored_by_previous else None
            drawing.reviewed_at = previous.decided_at if restored_by_previous else None
            drawing.save(
                update_fields=["review_status", "reviewed_label", "reviewed_by", "reviewed_at"]
            )
            reversal = ReviewDecision.objects.create(
                drawing=drawing,
                reviewer=reviewer,
                decided_at=now,
                old_status=decision.new_status,
                new_status=decision.old_status,
                old_label=decision.new_label,
                new_label=decision.old_label,
            )
            UndoneDecision.objects.create(decision=decision, reversal=reversal, undone_at=now)
            reversals.append(reversal)
    log.info("event=review_undo reviewer=%s drawings=%d", reviewer.pk, len(reversals))
    return reversals


def repredict(*, drawings: Drawings, by) -> int:
    """Queue the drawings for a new guess by the active model; return how many.

    Each one is recorded as a ``Reprediction`` (who, when, the guess it replaces): the
    review status and label do not change, so it is not a ``ReviewDecision`` and "U"
    does not undo it. The prediction task is idempotent (it skips drawings already
    predicted), so the old prediction is cleared and the drawing set back to pending
    first; the task is queued only after the commit, so the worker reads the reset row.
    Blank drawings are never guessed and are left alone.
    """
    from guessgame.game.services import queue_prediction

    _check_staff(by)
    active = ModelVersion.active()
    if active is None:
        raise ReviewError("There is no active model to predict with; activate one first.")
    ids = _ids(drawings)
    now = timezone.now()
    with transaction.atomic():
        locked = list(
            Drawing.objects.select_for_update()
            .filter(pk__in=ids, blank=False)
            .order_by("pk")
            .only("pk", "predicted_digit", "confidence", "model_version")
        )
        queued = [drawing.pk for drawing in locked]
        Reprediction.objects.bulk_create(
            Reprediction(
                drawing=drawing,
                requested_by=by,
                requested_at=now,
                old_predicted_digit=drawing.predicted_digit,
                old_confidence=drawing.confidence,
                old_model_version_id=drawing.model_version_id,
                model_version=active,
            )
            for drawing in locked
        )
        Drawing.objects.filter(pk__in=queued).update(
            prediction_status=Drawing.Prediction.PENDING,
            predicted_digit=None,
            not_digit=False,
            confidence=None,
            probabilities=None,
            model_version=None,
            predicted_at=None,
        )
        # queue_prediction tolerates a broker outage: the sweep re-queues pending drawings.
        transaction.on_commit(lambda: [queue_prediction(pk) for pk in queued])
    log.info("event=repredict by=%s drawings=%d", by.pk, len(queued))
    return len(queued)
