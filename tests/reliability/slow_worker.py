"""The game's Celery app, with every drawing's prediction held for a while before it runs.

`celery -A tests.reliability.slow_worker worker` lets a test kill the worker while a
prediction is certainly in flight: the task has been delivered, started and logged, and
has not written anything yet.
"""

import logging
import os
import time

from celery.signals import task_prerun

from guessgame.celery import app

__all__ = ["app"]

HOLD_SECONDS = float(os.environ.get("GUESSGAME_TEST_HOLD_SECONDS", "60"))

log = logging.getLogger(__name__)


@task_prerun.connect
def hold_predictions(sender=None, task=None, args=None, **kwargs) -> None:
    if task is not None and task.name == "guessgame.game.tasks.predict_drawing":
        log.warning("event=prediction_started drawing=%s", args[0])
        time.sleep(HOLD_SECONDS)
