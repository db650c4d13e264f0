"""Celery tasks of the game: predict a submitted drawing, sweep up the forgotten ones,
and finish abandoned games.

Tasks take ids and fetch their row ("treat the task as an API"); they are idempotent,
so a re-queued or duplicated message changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from guessgame.game import services
from guessgame.game.models import Drawing
from inference.active_model import NoActiveModel

log = logging.getLogger(__name__)

PENDING_GRACE_SECONDS = 5
"""A drawing pending longer than this is re-queued by the sweep (its first message was
probably lost: broker down at submit time, or a worker killed mid-task)."""

SWEEP_BATCH = 500
"""At most this many drawings re-queued per sweep; the next sweep takes the rest."""


@shared_task(
    bind=True,
    ignore_result=True,  # the drawing's row is the result; nobody waits on the task
    # Only what may pass by itself: the database restarting, a dropped connection, or
    # no active model for a moment; anything else stays pending for the sweep.
    autoretry_for=(OperationalError, InterfaceError, NoActiveModel),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=5,
)
def predict_drawing(self, drawing_id: int) -> str:
    """Run the active model on a stored drawing and score its round."""
    from inference.active_model import predict_with_active

    drawing = Drawing.objects.filter(pk=drawing_id).first()
    if drawing is None:
        return "gone"
    if drawing.prediction_status != Drawing.Prediction.PENDING:
        return "already predicted"
    pixels = drawing.pixels_array()
    if pixels is None:
        log.error("event=prediction_failed drawing=%s reason=no_pixels", drawing_id)
        services.record_prediction_failure(drawing=drawing)
        return "failed"
    probabilities, version_name = predict_with_active(pixels[None])
    recorded = services.record_prediction(
        drawing=drawing, probabilities=list(probabilities[0]), model_version=version_name
    )
    return "predicted" if recorded else "already predicted"


@shared_task(ignore_result=True)
def requeue_pending_predictions(older_than_seconds: float = PENDING_GRACE_SECONDS) -> int:
    """Queue again every drawing still waiting for the model; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Drawing.objects.pending_prediction()
        .filter(created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for drawing_id in ids:
        predict_drawing.delay(drawing_id)
    if ids:
        log.info("event=pending_predictions_requeued count=%s", len(ids))
    return len(ids)


@shared_task(ignore_result=True)
def finish_abandoned_games(after: int = 0) -> int:
    """Finish the games nobody has played for a while, so none stays open forever: a
    hundred at a time, the rest in a task queued behind the predictions that came
    meanwhile."""
    closed, next_after = services.finish_abandoned_games(after=after)
    if next_after is not None:
        finish_abandoned_games.delay(after=next_after)
    return closed


@worker_ready.connect
def requeue_at_worker_start(sender=None, **kwargs) -> None:
    """A worker coming back picks up what was submitted while none was running."""
    try:
        requeue_pending_predictions.delay(older_than_seconds=0)
    except Exception:  # a broker hiccup must never stop a worker from starting
        log.warning("event=requeue_at_start_failed", exc_info=True)
