"""The one Celery app. All configuration lives in settings as ``CELERY_*``."""

import os

from celery import Celery
from celery.signals import (
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_ready,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guessgame.settings")

app = Celery("guessgame")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers publish a heartbeat that /healthz reads (connects Celery's worker signals).
import guessgame.heartbeat  # noqa: E402,F401


@setup_logging.connect
def use_django_logging(**kwargs) -> None:
    """Worker and beat log like the web (settings.LOGGING), not with Celery's handlers.

    A receiver on this signal stops Celery from replacing the root logger's handlers.
    """
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@before_task_publish.connect
def carry_request_id(headers: dict | None = None, **kwargs) -> None:
    """A task queued while serving a request carries that request's id to the worker."""
    from guessgame.logs import request_id

    if headers is not None and (rid := request_id.get()):
        headers.setdefault("request_id", rid)


@task_prerun.connect
def log_with_task_id(task_id: str = "", task=None, **kwargs) -> None:
    from guessgame.logs import request_id as request_var
    from guessgame.logs import task_id as task_var

    task_var.set(task_id or "")
    carried = getattr(task.request, "request_id", None) if task is not None else None
    request_var.set(carried or "")


@task_prerun.connect
@task_postrun.connect
def database_as_a_request_does(sender=None, **kwargs) -> None:
    """Around each task, what Django does around each request: drop a connection that
    is broken or older than CONN_MAX_AGE, and health-check the next one before use, so a
    worker keeps its connection between tasks (settings.CELERY_DB_REUSE_MAX) and still
    survives a database restart. Not for an eager task: it runs inside its caller."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@task_postrun.connect
def forget_task_id(**kwargs) -> None:
    from guessgame.logs import request_id, task_id

    task_id.set("")
    request_id.set("")


@worker_ready.connect
def serve_metrics(**kwargs) -> None:
    """A worker with GUESSGAME_METRICS_PORT serves its figures (guessgame/metrics.py)."""
    from guessgame.metrics import serve_worker_metrics

    serve_worker_metrics()


@worker_ready.connect
def freeze_worker_objects(**kwargs) -> None:
    """The worker is up: its objects stay out of the garbage collector's full passes."""
    from guessgame.gc_freeze import freeze_startup_objects

    freeze_startup_objects()
