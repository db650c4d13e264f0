"""GET /healthz: is every part the game needs up?

Each check returns (ok, details). The view answers 200 when all are ok and 503 naming
what is down, so a load balancer and a person both understand it.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from guessgame.celery import app as celery_app
from inference.models import ModelVersion

WORKER_PING_SECONDS = 1.0


def check_database() -> tuple[bool, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, {"vendor": connection.vendor}
    except Exception as exc:  # any driver error means "down"
        return False, {"vendor": connection.vendor, "error": str(exc)}


def check_broker() -> tuple[bool, dict]:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    embedded = settings.USES_EMBEDDED_REDIS
    try:
        client.ping()
        return True, {"embedded": embedded}
    except redis.RedisError as exc:
        return False, {"embedded": embedded, "error": str(exc)}
    finally:
        client.close()


def check_workers() -> tuple[bool, dict]:
    try:
        replies = celery_app.control.ping(timeout=WORKER_PING_SECONDS) or []
    except Exception as exc:  # broker down: no way to reach a worker
        return False, {"count": 0, "error": str(exc)}
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return False, {"count": 0, "error": "No Celery worker answered."}
    return True, {"count": len(names), "names": names}


def check_model() -> tuple[bool, dict]:
    try:
        version = ModelVersion.active()
    except Exception as exc:
        return False, {"version": None, "error": str(exc)}
    if version is None:
        return False, {"version": None, "error": "No model version is active."}
    if not version.tflite_path.exists():
        return False, {"version": version.name, "error": "The model file is missing."}
    return True, {"version": version.name}


CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "workers": check_workers,
    "model": check_model,
}


@never_cache
@require_GET
def healthz(request) -> JsonResponse:
    results = {name: check() for name, check in CHECKS.items()}
    down = [name for name, (ok, _) in results.items() if not ok]
    body = {
        "status": "ok" if not down else "unavailable",
        "down": down,
        "model_version": results["model"][1].get("version"),
        **{name: {"ok": ok, **details} for name, (ok, details) in results.items()},
    }
    return JsonResponse(body, status=503 if down else 200)
