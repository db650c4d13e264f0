"""Health probes that stay cheap under a flood: ``GET /healthz`` and ``GET /readyz``.

``/healthz`` is for load balancers: 200 while this web process can serve the game (its
database answers and a model version is active). A worker or the broker being down does
not fail it: the game survives that (drawings wait, pending, and are predicted once a
worker is back), and pulling the web tier would only turn a slow guess into no page.

``/readyz`` is for operators: every part, 503 when any is down. Details (worker names,
error texts, whether Redis is embedded) go only to staff or to a caller presenting
``Authorization: Bearer <GUESSGAME_HEALTH_TOKEN>``; anonymous callers see which parts
are up, nothing inside.

Both name the active model version and its gate result (``model_gate``: "accept",
"shipped", "refuse", ...). A version the gate did not accept, put live by a staff
override, makes /healthz "degraded" (still 200: the site serves): a monitor sees it.

Both read one snapshot that at most one thread per process computes, at most once every
:data:`SNAPSHOT_SECONDS`; meanwhile other probes get the last one. The workers are never
asked directly: their heartbeat is read from Redis with a short timeout
(:mod:`guessgame.heartbeat`), so a probe never holds a broker connection.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from guessgame import heartbeat
from inference.models import ModelVersion

SNAPSHOT_SECONDS = 2.0
"""How long one computed snapshot answers every probe of this process."""

SERVING_PARTS = ("database", "model")
"""Without these this process cannot serve the game: /healthz fails only on them."""


@dataclass(frozen=True)
class Part:
    ok: bool
    details: dict


def check_database() -> Part:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Part(True, {"vendor": connection.vendor})
    except Exception as exc:  # any driver error means "down"
        return Part(False, {"vendor": connection.vendor, "error": str(exc)})


def check_model() -> Part:
    try:
        version = ModelVersion.active()
    except Exception as exc:
        return Part(False, {"version": None, "error": str(exc)})
    if version is None:
        return Part(False, {"version": None, "error": "No model version is active."})
    if not version.tflite_path.exists():
        return Part(False, {"version": version.name, "error": "The model file is missing."})
    return Part(
        True,
        {"version": version.name, "gate": version.gate_verdict, "passed_gate": version.passed_gate},
    )


def check_broker_and_workers() -> dict[str, Part]:
    """One short read of the workers' heartbeats answers both: is Redis up, who is alive."""
    embedded = settings.USES_EMBEDDED_REDIS
    client = heartbeat.client_for(settings.REDIS_URL, timeout=heartbeat.READ_TIMEOUT_SECONDS)
    try:
        workers = heartbeat.live_workers(client)
    except redis.RedisError as exc:
        error = {"error": str(exc)}
        return {
            "broker": Part(False, {"embedded": embedded, **error}),
            "workers": Part(False, {"count": 0, "error": "The broker is down: no heartbeat."}),
        }
    finally:
        client.close()
    broker = Part(True, {"embedded": embedded})
    if not workers:
        return {
            "broker": broker,
            "workers": Part(
                False,
                {
                    "count": 0,
                    "error": f"No worker heartbeat in {heartbeat.TTL_SECONDS:g} s.",
                },
            ),
        }
    names = sorted(workers)
    return {
        "broker": broker,
        "workers": Part(
            True,
            {"count": len(names), "names": names, "seconds_since_beat": workers},
        ),
    }


def check_all() -> dict[str, Part]:
    return {"database": check_database(), "model": check_model(), **check_broker_and_workers()}


# ---------------------------------------------------------------------------
# The snapshot: computed by one thread at a time, shared by every probe
# ---------------------------------------------------------------------------
_lock = threading.Lock()
_snapshot: tuple[float, dict[str, Part]] | None = None


def snapshot() -> dict[str, Part]:
    """The parts' state, at most :data:`SNAPSHOT_SECONDS` old.

    A probe that finds another thread computing answers with the previous snapshot
    instead of queueing behind it: a flood costs one check per interval, not one each.
    """
    global _snapshot
    current = _snapshot
    if current is not None and time.monotonic() - current[0] < SNAPSHOT_SECONDS:
        return current[1]
    if not _lock.acquire(blocking=current is None):
        return current[1]
    try:
        if _snapshot is not None and time.monotonic() - _snapshot[0] < SNAPSHOT_SECONDS:
            return _snapshot[1]
        parts = check_all()
        _snapshot = (time.monotonic(), parts)
        return parts
    finally:
        _lock.release()


def forget_snapshot() -> None:
    """Tests change the world between probes."""
    global _snapshot
    _snapshot = None


def may_see_details(request: HttpRequest) -> bool:
    token = settings.HEALTH_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return True
    # Only look at the session when the caller sent one: an anonymous probe costs no query.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def _summary(parts: dict[str, Part], down: list[str]) -> dict:
    return {
        "status": "ok" if not down else "unavailable",
        "down": down,
        "model_version": parts["model"].details.get("version"),
        "model_gate": parts["model"].details.get("gate"),
    }


def _gate_overridden(parts: dict[str, Part]) -> bool:
    """Staff put a version live that the gate did not accept (an audited override): the
    site serves, but an operator should know."""
    model = parts["model"]
    return model.ok and not model.details.get("passed_gate", True)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Can this process serve the game? Degraded parts are named, not fatal."""
    parts = snapshot()
    failing = [name for name, part in parts.items() if not part.ok]
    down = [name for name in failing if name in SERVING_PARTS]
    body = _summary(parts, down)
    body["degraded"] = [name for name in failing if name not in SERVING_PARTS]
    if _gate_overridden(parts):
        body["degraded"].append("model_gate")
    if body["degraded"] and not down:
        body["status"] = "degraded"
    return JsonResponse(body, status=503 if down else 200)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Is every part up? Details only for staff or the health token."""
    parts = snapshot()
    down = [name for name, part in parts.items() if not part.ok]
    body = _summary(parts, down)
    detailed = may_see_details(request)
    for name, part in parts.items():
        body[name] = {"ok": part.ok, **(part.details if detailed else {})}
    return JsonResponse(body, status=503 if down else 200)
