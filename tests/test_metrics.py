"""Prometheus metrics: what an operator reads at /metrics, and who may read it."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from guessgame import metrics
from guessgame.game import services
from inference.canvas import render_strokes
from inference.prediction import Prediction
from tests.factories import first_round, probabilities_for, submit


def sample(name: str, **labels: str) -> float:
    """The current value of one sample, summed over every process's files."""
    text = metrics.generate_latest(metrics.registry()).decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


@pytest.mark.django_db
def test_metrics_count_requests_by_view_and_status_locally(client):
    before = sample("guessgame_http_requests_total", view="leaderboard", status="200")
    client.get("/leaderboard")
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert sample("guessgame_http_requests_total", view="leaderboard", status="200") == before + 1
    assert "guessgame_http_request_duration_seconds_bucket" in response.content.decode()


@pytest.mark.django_db
@override_settings(PRODUCTION=True, METRICS_TOKEN="")
def test_in_production_without_a_token_there_are_no_metrics(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
@override_settings(PRODUCTION=True, METRICS_TOKEN="s3cret-token")
def test_in_production_metrics_need_the_token(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    answer = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert answer.status_code == 200 and b"guessgame_http_requests_total" in answer.content


@pytest.mark.django_db
def test_a_blank_live_guess_is_counted_as_blank(client):
    before = sample("guessgame_predictions_total", outcome="blank", path="request")
    client.post("/guess", {"image": io.BytesIO(render_strokes([]))})

    assert sample("guessgame_predictions_total", outcome="blank", path="request") == before + 1


def test_predictions_are_counted_by_model_version_and_outcome():
    def count(outcome: str) -> float:
        return sample(
            "guessgame_predictions_total", model_version="v-metrics", outcome=outcome, path="round"
        )

    before = {o: count(o) for o in ("digit", "not_digit")}
    digit = Prediction.from_probabilities(probabilities_for(3, 0.9), model_version="v-metrics")
    not_digit = Prediction.from_probabilities([0.01] * 10 + [0.9], model_version="v-metrics")
    metrics.count_prediction(digit, path="round")
    metrics.count_prediction(not_digit, path="round")
    metrics.count_prediction(not_digit, path="round")

    assert count("digit") == before["digit"] + 1
    assert count("not_digit") == before["not_digit"] + 2


@pytest.mark.django_db
def test_rounds_played_and_recognised_are_counted(django_user_model):
    player = django_user_model.objects.create_user("metra", password="pw-metrics-1")
    game = services.game_start(player=player)
    played, recognised = (
        sample("guessgame_rounds_played_total"),
        sample("guessgame_rounds_recognised_total"),
    )
    with mock.patch("guessgame.game.tasks.predict_drawing.delay"):
        right = submit(first_round(game), player)
        services.record_prediction(
            drawing=right, probabilities=probabilities_for(right.label, 0.95), model_version=None
        )
        wrong = submit(first_round(game), player)
        services.record_prediction(
            drawing=wrong,
            probabilities=probabilities_for((wrong.label + 1) % 10, 0.95),
            model_version=None,
        )

    assert sample("guessgame_rounds_played_total") == played + 2
    assert sample("guessgame_rounds_recognised_total") == recognised + 1


def test_batches_report_their_size_and_queue_wait():
    before_count = sample("guessgame_batch_size_count")
    before_waits = sample("guessgame_batch_queue_wait_seconds_count")
    metrics.observe_batch(3, [0.001, 0.002, 0.0])

    assert sample("guessgame_batch_size_count") == before_count + 1
    assert sample("guessgame_batch_queue_wait_seconds_count") == before_waits + 3
