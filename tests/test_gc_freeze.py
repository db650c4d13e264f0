"""The long-running processes freeze their start-up objects out of full collections."""

from __future__ import annotations

import gc
import weakref

import pytest

from guessgame.gc_freeze import freeze_startup_objects
from tests.conftest import ROOT


@pytest.fixture
def unfrozen():
    """The test process must not keep its objects frozen for the rest of the run."""
    gc.unfreeze()
    yield
    gc.unfreeze()


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_freezing_takes_what_is_alive_out_of_full_collections(unfrozen):
    frozen = freeze_startup_objects()

    assert frozen > 1000  # a Django process: tens of thousands
    assert len(gc.get_objects(generation=2)) < frozen // 10
    # What the process makes later is collected as before.
    cycle = Cycle()
    made_later = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert made_later() is None


def test_gunicorn_workers_freeze_once_the_app_is_loaded(unfrozen):
    config: dict = {}
    exec((ROOT / "guessgame" / "gunicorn.conf.py").read_text(), config)

    config["post_worker_init"](worker=None)

    assert gc.get_freeze_count() > 0


def test_the_celery_worker_freezes_when_it_is_ready(unfrozen):
    from celery.signals import worker_ready

    from guessgame.celery import freeze_worker_objects

    assert freeze_worker_objects in [ref() for _, ref in worker_ready.receivers]
    freeze_worker_objects()

    assert gc.get_freeze_count() > 0
