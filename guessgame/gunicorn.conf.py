"""gunicorn settings for `make serve`, each overridable from the environment.

Threads let one process hold requests that wait on the worker, and let the dynamic
batcher gather the drawings that arrive together into one Celery task. Few of them: on a
small machine every thread of a process competes for its GIL, and the one holding
SQLite's write lock gets slower with each (README, "Players at once"); with no worker up
a guess is refused at once (``inference.client.a_worker_is_alive``), so no thread waits
the prediction timeout for nobody.
"""

import os

from guessgame.logs import default_format, logging_config

port = os.environ.get("GUESSGAME_PORT") or os.environ.get("PORT", "8000")
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{port}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn's own lines (and its access log) in the format of every other process.
log_format = os.environ.get("LOG_FORMAT") or default_format(
    production=os.environ.get("DJANGO_ENV") == "production"
)
logconfig_dict = logging_config(json=log_format == "json", level=loglevel)


def post_worker_init(worker) -> None:
    """The app is loaded: its objects stay out of the garbage collector's full passes."""
    from guessgame.gc_freeze import freeze_startup_objects, load_every_view

    load_every_view()
    freeze_startup_objects()
