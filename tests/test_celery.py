"""The worker keeps its database connection between tasks, as gunicorn's threads do
between requests, and still drops one that is too old (guessgame.celery)."""

from __future__ import annotations

import time

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from guessgame.celery import app
from inference.models import ModelVersion
from inference.tasks import predict_pixels

pytestmark = pytest.mark.django_db(transaction=True)  # no test transaction: the worker's view


@pytest.fixture
def worker_fixup():
    """Celery's Django fixup as a worker installs it, removed afterwards."""
    fixup = DjangoWorkerFixup(app)
    task_prerun.connect(fixup.on_task_prerun)
    task_postrun.connect(fixup.on_task_postrun)
    yield fixup
    task_prerun.disconnect(fixup.on_task_prerun)
    task_postrun.disconnect(fixup.on_task_postrun)


def run_task_signals() -> None:
    """What the worker does around one task: the signals, and a query in between."""
    task_prerun.send(sender=predict_pixels, task_id="t", task=predict_pixels)
    ModelVersion.objects.exists()
    task_postrun.send(sender=predict_pixels, task_id="t", task=predict_pixels)


def test_tasks_one_after_another_share_one_connection(worker_fixup, settings):
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    run_task_signals()
    first = connection.connection
    assert first is not None

    for _ in range(5):
        run_task_signals()

    assert connection.connection is first


def test_a_connection_older_than_conn_max_age_is_replaced_at_the_next_task(worker_fixup):
    run_task_signals()
    first = connection.connection
    connection.close_at = time.monotonic() - 1  # CONN_MAX_AGE ran out

    run_task_signals()

    assert connection.connection is not None and connection.connection is not first


def test_a_connection_the_database_dropped_between_tasks_is_replaced(worker_fixup):
    """A database restart between two tasks: the next task's health check reconnects."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    import psycopg

    run_task_signals()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
        dbname=settings["NAME"], password=settings["PASSWORD"] or None, autocommit=True,
    ) as admin:  # fmt: skip
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    run_task_signals()  # would raise "terminating connection" without the health check

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
