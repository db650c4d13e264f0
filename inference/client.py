"""What the web process calls to get a prediction: PNG in, :class:`Prediction` out.

Preprocessing runs here, in the web process (it is pure NumPy/Pillow and it rejects bad
input before anything is queued); blank drawings are answered at once; the 28x28
picture then goes to a Celery worker, batched with the drawings that arrive together
(:mod:`inference.batching`) or, with batching off, as one task of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from guessgame import heartbeat, metrics
from guessgame.errors import Refusal
from inference.batching import Batcher
from inference.canvas import Stroke
from inference.prediction import Prediction
from inference.preprocess import DrawingError, Preprocessed, preprocess_png, preprocess_strokes
from inference.tasks import encode_pixels, predict_pixels

__all__ = [
    "DrawingError",
    "PredictionFailed",
    "WorkerUnavailable",
    "predict_png",
    "predict_strokes",
]

GRACE_SECONDS = 0.5
"""Extra wait for a request beyond the dispatcher's own timeout, which answers first."""

RETRY_SECONDS = 5
"""Retry-After of a 503 when no worker answered: about one prediction timeout."""


class WorkerUnavailable(Refusal):
    """No worker answered in time (none running, all busy, or the broker is down);
    ``why`` says which, in the one sentence every such answer has."""

    status = 503
    retry_after = RETRY_SECONDS

    def __init__(self, why: str = "") -> None:
        reason = f": {why}" if why else ""
        super().__init__(f"The model is busy right now{reason}; please try again in a moment.")


class PredictionFailed(Refusal):
    """A worker took the drawing but could not predict it (e.g. no active model); what
    went wrong is the exception's cause, logged, never shown."""

    status = 503
    retry_after = RETRY_SECONDS

    def __init__(self) -> None:
        super().__init__("The model could not guess this drawing just now; please try again.")


def _no_answer(timeout: float) -> WorkerUnavailable:
    return WorkerUnavailable(f"no prediction worker answered within {timeout:g} s")


def _unreachable() -> WorkerUnavailable:
    return WorkerUnavailable("no prediction worker can be reached (the queue is down)")


def batching_enabled() -> bool:
    """Dynamic batching is on unless settings.BATCHING is off (GUESSGAME_BATCHING=off).

    One task per drawing stays selectable so benchmarks can compare both paths.
    """
    return settings.BATCHING


def predict_queue() -> str | None:
    """The Celery queue predictions go to; None means the default queue."""
    return settings.PREDICT_QUEUE or None


ALIVE_FOR_SECONDS = 1.0
"""How long one process trusts a seen heartbeat before reading the heartbeats again."""

_seen_alive_at = -ALIVE_FOR_SECONDS


def a_worker_is_alive() -> bool:
    """Whether a worker beat lately (``guessgame.heartbeat``). A yes is trusted for
    ALIVE_FOR_SECONDS, so this reads Redis about once a second per process; a no is read
    again at the next request, so a worker that just started is used at once. Redis out
    of reach is :class:`WorkerUnavailable` (the queue is there too)."""
    global _seen_alive_at
    if time.monotonic() - _seen_alive_at < ALIVE_FOR_SECONDS:
        return True
    client = heartbeat.client_for(settings.REDIS_URL, timeout=heartbeat.READ_TIMEOUT_SECONDS)
    try:
        alive = bool(heartbeat.live_workers(client))
    except RedisError as exc:
        raise _unreachable() from exc
    finally:
        client.close()
    if alive:
        _seen_alive_at = time.monotonic()
    return alive


def send_to_worker(batch: list[str], *, timeout: float) -> dict:
    """Run one ``predict_pixels`` task and wait for it, at most ``timeout`` seconds.

    With no worker alive it refuses at once: waiting the whole timeout for nobody would
    hold a web thread per drawing, and a few such requests would fill the web tier.

    The message expires with the wait, so a worker that comes back after an outage
    skips drawings nobody is waiting for any more. The result is not deleted after it
    is read: that would cost a Redis round trip on every request, and it expires by
    itself (``CELERY_RESULT_EXPIRES``).
    """
    if not a_worker_is_alive():
        raise WorkerUnavailable("no prediction worker is up")
    options = {"expires": timeout}
    if queue := predict_queue():
        options["queue"] = queue
    try:
        result = predict_pixels.apply_async(args=[batch], **options)
    except Exception as exc:
        # Whatever the sending side raises (kombu's OperationalError, redis-py's
        # ConnectionError, the result backend's "retry limit exceeded" RuntimeError when
        # it cannot subscribe), the queue is out of reach: a 503, never a 500.
        raise _unreachable() from exc
    try:
        return result.get(timeout=timeout)
    except CeleryTimeout as exc:
        raise _no_answer(timeout) from exc
    except (BrokerError, RedisConnectionError, RedisTimeoutError) as exc:
        raise _unreachable() from exc
    except Exception as exc:  # the task's own error, re-raised by Celery
        raise PredictionFailed() from exc


_batcher: Batcher | None = None
_batcher_lock = threading.Lock()


def get_batcher() -> Batcher:
    """This process's batcher (its dispatcher starts on first use, after any fork)."""
    global _batcher
    if _batcher is None:
        with _batcher_lock:
            if _batcher is None:
                _batcher = Batcher(
                    send_to_worker,
                    window=settings.BATCH_WINDOW_MS / 1000,
                    max_size=settings.BATCH_MAX_SIZE,
                    dispatchers=batch_dispatchers(),
                    observe=metrics.observe_batch,
                )
    return _batcher


def batch_dispatchers() -> int:
    """Batches one process may have with the workers at once (settings.BATCH_DISPATCHERS)."""
    return max(1, settings.BATCH_DISPATCHERS)


def active_version_name() -> str:
    """Name of the active model version, or "" when none is active."""
    from inference.models import ModelVersion

    version = ModelVersion.objects.filter(is_active=True).values_list("name", flat=True).first()
    return version or ""


def predict_png(data: bytes, *, timeout: float | None = None) -> Prediction:
    """Predict the digit in a PNG drawing (counted in the metrics by version and outcome).

    Raises :class:`DrawingError` (with ``.status`` 400/413/415) for input that is not a
    readable drawing, :class:`WorkerUnavailable` when no worker answers within
    ``timeout`` seconds (default ``settings.PREDICT_TIMEOUT``), and
    :class:`PredictionFailed` when the worker could not predict.
    """
    _, prediction = _predict(lambda: preprocess_png(data), timeout=timeout)
    metrics.count_prediction(prediction, path="request")
    return prediction


def predict_strokes(
    strokes: Sequence[Stroke], *, timeout: float | None = None
) -> tuple[Preprocessed, Prediction]:
    """Draw the strokes with the browser's renderer and predict them; the game's path.

    Returns the model's 28x28 input too, so a recognised drawing is stored as the model
    saw it. Raises like :func:`predict_png`.
    """
    drawn, prediction = _predict(lambda: preprocess_strokes(strokes), timeout=timeout)
    metrics.count_prediction(prediction, path="request")
    return drawn, prediction


def _predict(
    prepare: Callable[[], Preprocessed], *, timeout: float | None
) -> tuple[Preprocessed, Prediction]:
    """Preprocess (inside the batcher's slot, so a batch waits for drawings being read),
    answer a blank drawing at once, else ask a worker."""
    timeout = settings.PREDICT_TIMEOUT if timeout is None else timeout
    if not batching_enabled():
        drawing = prepare()
        if drawing.blank:
            return drawing, Prediction.blank_drawing(model_version=active_version_name())
        answer = send_to_worker([encode_pixels(drawing.pixels)], timeout=timeout)
        return drawing, Prediction.from_probabilities(
            answer["probabilities"][0], model_version=answer["model_version"]
        )

    batcher = get_batcher()
    with batcher.incoming() as slot:
        drawing = prepare()
        if drawing.blank:
            return drawing, Prediction.blank_drawing(model_version=active_version_name())
        future = slot.submit(encode_pixels(drawing.pixels), timeout=timeout)
    try:
        probabilities, version = future.result(timeout=timeout + GRACE_SECONDS)
    except FutureTimeout as exc:
        raise _no_answer(timeout) from exc
    except (WorkerUnavailable, PredictionFailed):
        raise
    except Exception as exc:  # e.g. a batch answered with the wrong number of rows
        raise PredictionFailed() from exc
    return drawing, Prediction.from_probabilities(probabilities, model_version=version)
