"""The one Celery app. All configuration lives in settings as ``CELERY_*``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guessgame.settings")

app = Celery("guessgame")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers publish a heartbeat that /healthz reads (connects Celery's worker signals).
import guessgame.heartbeat  # noqa: E402,F401
