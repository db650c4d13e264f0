"""GET /healthz names what is down."""

import pytest

from guessgame import health


@pytest.mark.django_db
def test_it_answers_503_naming_the_workers_when_none_answers(client, monkeypatch, active_model):
    monkeypatch.setattr(health, "check_broker", lambda: (True, {"embedded": False}))
    monkeypatch.setattr(health.celery_app.control, "ping", lambda timeout: [])
    monkeypatch.setitem(health.CHECKS, "broker", health.check_broker)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["workers"]
    assert body["workers"]["ok"] is False
    assert body["model_version"] == active_model.name


@pytest.mark.django_db
def test_it_reports_a_missing_model(client, monkeypatch):
    from inference.models import ModelVersion

    ModelVersion.objects.update(is_active=False)
    monkeypatch.setitem(health.CHECKS, "broker", lambda: (True, {}))
    monkeypatch.setitem(health.CHECKS, "workers", lambda: (True, {"count": 1}))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["model"]


@pytest.mark.django_db
def test_it_reports_a_broker_that_does_not_answer(client, settings, monkeypatch, active_model):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setitem(health.CHECKS, "workers", lambda: (True, {"count": 1}))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]
    assert "error" in response.json()["broker"]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_it_is_200_with_a_real_worker_and_broker(client, worker_process, active_model):
    response = client.get("/healthz")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body == body | {"status": "ok", "down": [], "model_version": active_model.name}
    assert body["workers"]["count"] >= 1
    assert body["database"]["ok"] and body["broker"]["ok"]


def test_it_refuses_post(client):
    assert client.post("/healthz").status_code == 405
