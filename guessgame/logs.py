"""Log lines an operator can use: JSON in production, readable lines locally.

Web (runserver or gunicorn), Celery worker and beat all configure logging from
:func:`logging_config`, so every process writes the same format to stderr. Each line
carries the id of the request (``request_id``) or Celery task (``task_id``) it was
written for: :class:`RequestIdMiddleware` sets the first, Celery's task signals (wired
in ``guessgame/celery.py``) the second, and a task queued during a request carries the
request's id along in a message header.

INFO stays quiet: one line per event worth knowing (a game started, a live guess, a
prediction recorded), never a probability vector; Celery's per-task "received" and
"succeeded: <result>" lines are turned down to WARNING.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
task_id: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
"""An id a proxy in front may send (kept as it is); anything else gets a new one."""

JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id", "task_id")
JSON_RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}

QUIET_LOGGERS = {
    # "Task ... succeeded in 0.001s: {'probabilities': [...]}" and "Task ... received",
    # two lines per prediction: failures still come through at ERROR.
    "celery.app.trace": "WARNING",
    "celery.worker.strategy": "WARNING",
    # runserver's access line for every request; 4xx and 5xx still come through.
    "django.server": "WARNING",
    "axes": "WARNING",
}


class ContextFilter(logging.Filter):
    """Stamps each record with the current request id and task id ("" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.task_id = task_id.get()
        return True


class TextFormatter(logging.Formatter):
    """``time LEVEL logger message request_id=... task_id=...`` (ids only when set)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [
            f"{name}={value}"
            for name in ("request_id", "task_id")
            if (value := getattr(record, name, ""))
        ]
        if not ids:
            return line
        head, newline, trace = line.partition("\n")
        return f"{head} {' '.join(ids)}{newline}{trace}"


def default_format(*, production: bool) -> str:
    """LOG_FORMAT's default: JSON lines for a collector in production, text locally."""
    return "json" if production else "text"


def logging_config(*, json: bool, level: str = "INFO") -> dict:
    """The ``logging.config.dictConfig`` of every process: web, worker, beat, gunicorn."""
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": JSON_RENAMED,
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        }
        if json
        else {"()": "guessgame.logs.TextFormatter"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "guessgame.logs.ContextFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level.upper()},
        "loggers": {
            **{name: {"level": quiet} for name, quiet in QUIET_LOGGERS.items()},
            # gunicorn's own loggers (its handlers are replaced by ours).
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }


def new_request_id(incoming: str | None) -> str:
    """The id a proxy sent when it looks like one, else a fresh random one."""
    if incoming and REQUEST_ID_PATTERN.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Every log line of a request carries its id, and the answer says it (X-Request-ID).

    A player reporting a problem can quote the id; an operator finds every line of that
    request, and of the tasks it queued, with it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response
