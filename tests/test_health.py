"""/healthz (load balancers) and /readyz (operators): cheap, flood-safe, and discreet."""

import time

import pytest
import redis
from django.contrib.auth import get_user_model

from guessgame import health, heartbeat
from tests.concurrency import at_once
from tests.conftest import free_port, start_redis_server

ALL_UP = {
    "database": health.Part(True, {"vendor": "sqlite"}),
    "model": health.Part(True, {"version": "default-v2"}),
    "broker": health.Part(True, {"embedded": True}),
    "workers": health.Part(True, {"count": 1, "names": ["w1@host"]}),
}


@pytest.fixture(autouse=True)
def _fresh_snapshot():
    health.forget_snapshot()
    yield
    health.forget_snapshot()


def with_parts(monkeypatch, **changes: health.Part) -> None:
    monkeypatch.setattr(health, "check_all", lambda: {**ALL_UP, **changes})


def no_heartbeat(monkeypatch) -> None:
    monkeypatch.setattr(
        health,
        "check_broker_and_workers",
        lambda: {
            "broker": health.Part(True, {"embedded": False}),
            "workers": health.Part(False, {"count": 0, "error": "No worker heartbeat."}),
        },
    )


@pytest.mark.django_db
def test_healthz_stays_200_when_no_worker_beats_and_names_it_degraded(
    client, monkeypatch, active_model
):
    no_heartbeat(monkeypatch)

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["workers"] and body["down"] == []
    assert body["model_version"] == active_model.name


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_workers_when_none_beats(client, monkeypatch, active_model):
    no_heartbeat(monkeypatch)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["workers"]
    assert body["workers"] == {"ok": False}  # anonymous: no details
    assert body["model_version"] == active_model.name


def running_a_version_the_gate(verdict: str, monkeypatch, active_model, tmp_path):
    """The active version as if a retrain's gate had judged it ``verdict``."""
    import shutil

    from inference.models import ModelVersion

    shutil.copy(active_model.tflite_path, tmp_path / "model.tflite")
    trained = ModelVersion.objects.create(
        name="retrained", path=str(tmp_path), metrics={"gate": {"verdict": verdict}}
    )
    trained.activate()
    monkeypatch.setattr(health, "check_broker_and_workers", lambda: dict(list(ALL_UP.items())[2:]))
    return trained


@pytest.mark.django_db
def test_healthz_shows_the_active_versions_gate_result(client, monkeypatch, active_model, tmp_path):
    running_a_version_the_gate("accept", monkeypatch, active_model, tmp_path)

    body = client.get("/healthz").json()

    assert body["status"] == "ok" and body["degraded"] == []
    assert (body["model_version"], body["model_gate"]) == ("retrained", "accept")


@pytest.mark.django_db
def test_a_version_the_gate_refused_put_live_by_an_override_shows_as_degraded(
    client, monkeypatch, active_model, tmp_path
):
    """The site serves (the override was a staff member's audited choice), but a monitor
    watching /healthz sees that the live model did not pass the gate."""
    running_a_version_the_gate("refuse", monkeypatch, active_model, tmp_path)

    live = client.get("/healthz")
    ready = client.get("/readyz")

    assert live.status_code == 200
    assert live.json()["status"] == "degraded" and live.json()["degraded"] == ["model_gate"]
    assert live.json()["model_gate"] == "refuse"
    assert ready.status_code == 200 and ready.json()["model_gate"] == "refuse"


@pytest.mark.django_db
def test_a_missing_model_fails_healthz(client, monkeypatch):
    from inference.models import ModelVersion

    ModelVersion.objects.update(is_active=False)
    monkeypatch.setattr(
        health,
        "check_broker_and_workers",
        lambda: {"broker": ALL_UP["broker"], "workers": ALL_UP["workers"]},
    )

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["model"]


@pytest.mark.django_db
def test_a_broker_that_does_not_answer_degrades_healthz_and_fails_readyz(
    client, settings, active_model
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    live = client.get("/healthz")
    health.forget_snapshot()
    ready = client.get("/readyz")

    assert live.status_code == 200 and live.json()["degraded"] == ["broker", "workers"]
    assert ready.status_code == 503 and ready.json()["down"] == ["broker", "workers"]
    # No error text, address or socket path for an anonymous caller.
    assert ready.json()["broker"] == {"ok": False}
    assert "127.0.0.1" not in ready.content.decode()


@pytest.mark.django_db
def test_staff_and_the_health_token_see_details_and_others_do_not(client, settings, monkeypatch):
    with_parts(monkeypatch, broker=health.Part(False, {"error": "Connection refused at /var/x"}))
    settings.HEALTH_TOKEN = "s3cret-token"

    anonymous = client.get("/readyz").json()
    wrong = client.get("/readyz", HTTP_AUTHORIZATION="Bearer nope").json()
    token = client.get("/readyz", HTTP_AUTHORIZATION="Bearer s3cret-token").json()
    player = get_user_model().objects.create_user("player", password="pw-123456!")
    client.force_login(player)
    as_player = client.get("/readyz").json()
    staff = get_user_model().objects.create_user("boss", password="pw-123456!", is_staff=True)
    client.force_login(staff)
    as_staff = client.get("/readyz").json()

    assert anonymous["broker"] == wrong["broker"] == as_player["broker"] == {"ok": False}
    assert "error" not in anonymous["workers"]
    assert token["broker"]["error"] == as_staff["broker"]["error"] == "Connection refused at /var/x"
    assert token["workers"]["names"] == ["w1@host"]


@pytest.mark.django_db
def test_a_probe_never_asks_the_workers_nor_takes_a_broker_connection(
    client, monkeypatch, active_model
):
    """The flood that hung the web tier: each probe held one broker connection from
    kombu's pool and waited for a second (Celery's control.ping)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a health probe touched Celery's broker connections")

    monkeypatch.setattr(health.heartbeat, "live_workers", lambda client: {"w1@host": 1.0})
    from guessgame.celery import app

    monkeypatch.setattr(app.control, "ping", forbidden)
    monkeypatch.setattr(app, "connection_for_write", forbidden)
    monkeypatch.setattr(app, "connection_for_read", forbidden)

    assert client.get("/healthz").status_code == 200
    health.forget_snapshot()
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_flood_of_concurrent_probes_runs_the_checks_once(client, monkeypatch):
    calls = []

    def slow_checks():
        calls.append(1)
        time.sleep(0.3)  # a slow database: probes arriving meanwhile must not queue up
        return ALL_UP

    monkeypatch.setattr(health, "check_all", slow_checks)
    # A snapshot outlives the whole flood however slowly 32 threads start on a busy
    # machine: a second refresh must come from the flood itself, not from the clock.
    monkeypatch.setattr(health, "SNAPSHOT_SECONDS", 60.0)
    assert client.get("/healthz").status_code == 200  # the first snapshot
    health._snapshot = (time.monotonic() - health.SNAPSHOT_SECONDS - 1, ALL_UP)  # now stale
    statuses = []

    def probe():
        from django.test import Client

        statuses.append(Client().get("/healthz").status_code)

    assert at_once(probe, [()] * 32) == []

    assert statuses == [200] * 32
    assert len(calls) == 2  # the first snapshot, then one refresh for all 32


def test_production_does_not_redirect_the_probes_to_https(tmp_path):
    import secrets

    from tests.manage import shell

    code = (
        "from django.test import Client; c = Client();"
        "print(c.get('/healthz').status_code, c.get('/readyz').status_code,"
        " c.get('/leaderboard').status_code)"
    )
    result = shell(
        code, DJANGO_ENV="production", SECRET_KEY=secrets.token_urlsafe(64),
        GUESSGAME_VAR_DIR=str(tmp_path), ALLOWED_HOSTS="testserver",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    healthz, readyz, page = result.stdout.split()
    assert healthz in {"200", "503"} and readyz in {"200", "503"}  # answered, not redirected
    assert page == "301"  # everything else still goes to https


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


# --- the heartbeat itself, on a real Redis ------------------------------------------


@pytest.fixture
def private_redis():
    port = free_port()
    proc = start_redis_server(port=port)
    yield redis.Redis.from_url(f"redis://127.0.0.1:{port}/0")
    proc.terminate()
    proc.wait(5)


@pytest.mark.integration
def test_a_beat_is_live_until_its_ttl_and_a_withdrawn_worker_is_gone(private_redis):
    heartbeat.publish(private_redis, "w1@a", now=1000.0)
    heartbeat.publish(private_redis, "w2@b", now=1010.0)

    assert set(heartbeat.live_workers(private_redis, now=1012.0)) == {"w1@a", "w2@b"}
    late = 1000.0 + heartbeat.TTL_SECONDS + 1
    assert heartbeat.live_workers(private_redis, now=late) == {"w2@b": late - 1010.0}
    heartbeat.withdraw(private_redis, "w2@b")
    assert heartbeat.live_workers(private_redis, now=1012.0) == {"w1@a": 12.0}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_beats_and_readyz_is_200(client, settings, worker_process, active_model):
    settings.HEALTH_TOKEN = "t"
    deadline = time.monotonic() + 30
    while True:
        health.forget_snapshot()
        response = client.get("/readyz", HTTP_AUTHORIZATION="Bearer t")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["model_version"] == active_model.name
    assert body["workers"]["count"] >= 1
    assert any(worker_process.hostname.split("@")[0] in n for n in body["workers"]["names"])
