"""Prometheus metrics: requests, predictions, dynamic batching, rounds.

**Several processes, one view.** gunicorn runs several web processes and the Celery
worker is another, each counting what it does. prometheus-client's multiprocess mode
keeps every process's values in files under ``settings.METRICS_DIR`` (``var/metrics``,
set as ``PROMETHEUS_MULTIPROC_DIR`` by the settings before anything imports the
library; ``make run`` and ``make serve`` empty it at start), and ``GET /metrics`` adds
up the files of every process of this machine, dead ones included, so counters never
go back when a process restarts. A worker on another machine has its own directory:
``GUESSGAME_METRICS_PORT`` makes it serve its own figures on that port (bound to
``GUESSGAME_METRICS_ADDR``, 127.0.0.1 unless told otherwise), for Prometheus to scrape
beside the web's.

**Not public in production.** ``/metrics`` answers anyone locally (development); in
production only a caller sending ``Authorization: Bearer $GUESSGAME_METRICS_TOKEN``,
and without a token it does not exist (404).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Sequence

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "guessgame_http_requests",
    "HTTP requests answered, by view (URL name), method and status code.",
    ["view", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "guessgame_http_request_duration_seconds",
    "Time to answer an HTTP request, by view (URL name).",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PREDICTIONS = Counter(
    "guessgame_predictions",
    "Drawings the model answered, by model version, outcome (digit, not_digit, blank) and "
    "path (request: the API and live guesses, answered while the client waits; round: "
    "drawings of games, predicted by the worker).",
    ["model_version", "outcome", "path"],
)
BATCH_SIZE = Histogram(
    "guessgame_batch_size",
    "Drawings per batch sent to the worker by the web's dynamic batching.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
BATCH_QUEUE_WAIT = Histogram(
    "guessgame_batch_queue_wait_seconds",
    "Time a drawing waited in the web process's queue before its batch left.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
ROUNDS_PLAYED = Counter("guessgame_rounds_played", "Rounds whose drawing was submitted.")
ROUNDS_RECOGNISED = Counter(
    "guessgame_rounds_recognised", "Rounds scored with points: the model named the digit."
)

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def prediction_outcome(*, blank: bool, not_digit: bool) -> str:
    """The ``outcome`` label: "blank", "not_digit" or "digit"."""
    if blank:
        return "blank"
    return "not_digit" if not_digit else "digit"


def count_prediction(prediction, *, path: str) -> None:
    """Count one :class:`inference.prediction.Prediction` (``path`` "request" or "round")."""
    PREDICTIONS.labels(
        prediction.model_version or "none",
        prediction_outcome(blank=prediction.blank, not_digit=prediction.not_digit),
        path,
    ).inc()


def observe_batch(size: int, waits: Sequence[float]) -> None:
    """A batch left the web process: its size, and how long each drawing waited (s)."""
    BATCH_SIZE.observe(size)
    for seconds in waits:
        BATCH_QUEUE_WAIT.observe(max(0.0, seconds))


def _view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return match.view_name
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


class RequestMetricsMiddleware:
    """Counts and times every answer (by URL name, so the labels stay few)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = _view_label(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(view).observe(time.perf_counter() - started)
        return response


def registry() -> CollectorRegistry:
    """Every process's figures of this machine, read from the multiprocess directory."""
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def _bearer(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: Prometheus's text format; see the module docstring for who may."""
    token = settings.METRICS_TOKEN
    if token:
        if not hmac.compare_digest(_bearer(request).encode(), token.encode()):
            response = JsonResponse(
                {"error": "Send Authorization: Bearer <GUESSGAME_METRICS_TOKEN>."}, status=401
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif settings.PRODUCTION:
        raise Http404("No metrics here.")
    if request.method not in {"GET", "HEAD"}:
        return JsonResponse({"error": "Use GET to read the metrics."}, status=405)
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


def serve_worker_metrics() -> None:
    """Serve this machine's figures on GUESSGAME_METRICS_PORT, for a worker elsewhere."""
    from prometheus_client import start_http_server

    port = settings.WORKER_METRICS_PORT
    if not port:
        return
    start_http_server(port, addr=settings.WORKER_METRICS_ADDR, registry=registry())
    log.info("event=metrics_served addr=%s port=%s", settings.WORKER_METRICS_ADDR, port)
