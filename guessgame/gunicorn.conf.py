"""gunicorn settings for `make serve`, each overridable from the environment.

Threads let one process hold many requests that wait on the worker, and let the
dynamic batcher gather the drawings that arrive together into one Celery task.
"""

import os

port = os.environ.get("GUESSGAME_PORT") or os.environ.get("PORT", "8000")
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{port}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
