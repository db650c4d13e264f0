"""predict_png, what the web process calls: preprocess here, blanks at once, the rest to a worker.

Unit tests: the Celery task is never really sent (see test_api.py for the real worker).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from redis.exceptions import ConnectionError as RedisConnectionError

from inference import client
from inference.batching import Batcher
from inference.canvas import render_strokes
from inference.client import PredictionFailed, WorkerUnavailable, predict_png
from inference.preprocess import DrawingError
from inference.tasks import decode_pixels, encode_pixels
from tests.inference.drawings import blank_answer

A_WORKER_IS_ALIVE = client.a_worker_is_alive  # the real check, for the tests of it

ONE = render_strokes([[[112, 112], [40, 190], [0, 120]]])
BLANK = render_strokes([])


def probabilities_for(digit: int) -> list[float]:
    row = [0.01] * 10
    row[digit] = 0.91
    return row


class FakeSend:
    def __init__(self, digit: int = 1, error: Exception | None = None) -> None:
        self.batches: list[list[str]] = []
        self.digit = digit
        self.error = error
        self.row: list[float] | None = None  # the model's whole row, when a test sets it

    def __call__(self, batch: list[str], *, timeout: float) -> dict:
        self.batches.append(batch)
        if self.error:
            raise self.error
        return {
            "model_version": "fake-v7",
            "probabilities": [self.row or probabilities_for(self.digit) for _ in batch],
        }


@pytest.fixture(autouse=True)
def a_worker_beats(monkeypatch):
    """A worker is up (send_to_worker checks its heartbeat before sending)."""
    monkeypatch.setattr(client, "a_worker_is_alive", lambda: True)


@pytest.fixture
def heartbeats(redis_url, monkeypatch):
    """The real heartbeat check against this run's Redis, nothing seen yet (a key of the
    test's own: the session's worker, if one runs, beats under the real one)."""
    import uuid

    import redis

    from guessgame import heartbeat

    monkeypatch.setattr(heartbeat, "KEY", f"test-heartbeats:{uuid.uuid4().hex}")
    monkeypatch.setattr(client, "a_worker_is_alive", A_WORKER_IS_ALIVE)
    monkeypatch.setattr(client, "_seen_alive_at", -client.ALIVE_FOR_SECONDS)
    return redis.Redis.from_url(redis_url)


@pytest.fixture(params=["batched", "one task per drawing"])
def send(request, monkeypatch, settings) -> FakeSend:
    """Both paths of the client, each with a fake worker."""
    fake = FakeSend()
    monkeypatch.setattr(client, "send_to_worker", fake)
    if request.param == "batched":
        settings.BATCHING = True
        monkeypatch.setattr(client, "get_batcher", lambda: Batcher(fake, window=0, max_size=8))
    else:
        settings.BATCHING = False
    return fake


def test_a_drawing_gets_the_workers_digit_confidence_and_version(send):
    prediction = predict_png(ONE)
    assert prediction.digit == 1
    assert prediction.confidence == pytest.approx(0.91)
    assert len(prediction.probabilities) == 10
    assert prediction.model_version == "fake-v7"
    assert prediction.blank is False
    assert len(send.batches) == 1


def test_an_eleven_output_answer_of_not_a_digit_comes_through_with_ten_probabilities(send):
    send.row = [0.02] * 10 + [0.8]
    prediction = predict_png(ONE)
    assert prediction.not_digit is True and prediction.digit is None
    assert prediction.confidence == pytest.approx(0.8)
    assert prediction.probabilities == [0.02] * 10


def test_the_worker_receives_the_preprocessed_28_by_28_drawing(send):
    from inference.preprocess import preprocess_png

    predict_png(ONE)
    sent = decode_pixels(send.batches[0])
    assert sent.shape == (1, 28, 28)
    assert np.allclose(sent[0], preprocess_png(ONE).pixels, atol=1 / 255)


@pytest.mark.django_db
def test_a_blank_drawing_is_answered_without_a_worker(send, active_model):
    prediction = predict_png(BLANK)
    assert prediction.as_json() == blank_answer(active_model.name)
    assert send.batches == []


def test_bad_input_raises_a_drawing_error_before_anything_is_sent(send):
    with pytest.raises(DrawingError) as error:
        predict_png(b"GIF89a not really")
    assert error.value.status == 400
    assert send.batches == []


def test_a_worker_that_does_not_answer_is_reported_as_unavailable(send):
    send.error = WorkerUnavailable("no prediction worker answered within 5 s")
    with pytest.raises(WorkerUnavailable):
        predict_png(ONE)


def test_a_celery_timeout_becomes_worker_unavailable(monkeypatch):
    class Result:
        def get(self, timeout):
            raise CeleryTimeout("timed out")

    sent = {}

    def apply_async(args, **options):
        sent.update(options, args=args)
        return Result()

    monkeypatch.setattr(client.predict_pixels, "apply_async", apply_async)
    with pytest.raises(WorkerUnavailable, match="within 0.2 s"):
        client.send_to_worker(["x"], timeout=0.2)
    # The message expires with the wait: a late worker skips it.
    assert sent["expires"] == 0.2


def test_a_task_error_becomes_prediction_failed(monkeypatch):
    result = SimpleNamespace(
        get=lambda timeout: (_ for _ in ()).throw(RuntimeError("No model version is active"))
    )
    monkeypatch.setattr(client.predict_pixels, "apply_async", lambda args, **options: result)
    with pytest.raises(PredictionFailed) as failed:
        client.send_to_worker(["x"], timeout=1)
    assert "No model version is active" in str(failed.value.__cause__)
    assert "No model version" not in str(failed.value)  # a player never reads internals


def test_a_result_store_that_cannot_subscribe_makes_the_queue_unavailable(monkeypatch):
    def apply_async(args, **options):  # what Celery raises with Redis gone mid-send
        raise RuntimeError("Retry limit exceeded while trying to reconnect")

    monkeypatch.setattr(client.predict_pixels, "apply_async", apply_async)
    with pytest.raises(WorkerUnavailable, match="can be reached"):
        client.send_to_worker(["x"], timeout=1)


def test_redis_lost_while_waiting_makes_the_queue_unavailable(monkeypatch):
    def get(timeout):
        raise RedisConnectionError("Connection refused")

    result = SimpleNamespace(get=get)
    monkeypatch.setattr(client.predict_pixels, "apply_async", lambda args, **options: result)
    with pytest.raises(WorkerUnavailable, match="can be reached"):
        client.send_to_worker(["x"], timeout=1)


def test_the_queue_can_be_pointed_elsewhere(monkeypatch, settings):
    settings.PREDICT_QUEUE = "elsewhere"
    sent = {}

    def apply_async(args, **options):
        sent.update(options)
        return SimpleNamespace(get=lambda timeout: {"ok": 1})

    monkeypatch.setattr(client.predict_pixels, "apply_async", apply_async)
    client.send_to_worker(["x"], timeout=1)
    assert sent["queue"] == "elsewhere"


def test_pixels_survive_the_trip_as_base64_within_one_grey_level():
    pixels = np.random.default_rng(1).random((28, 28)).astype(np.float32)
    encoded = encode_pixels(pixels)
    assert len(encoded) == 1048  # base64 of 784 bytes
    assert np.abs(decode_pixels([encoded])[0] - pixels).max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("bad", [[], ["not base64!"], ["AAAA"], "not a list"])
def test_a_malformed_batch_is_refused(bad):
    with pytest.raises(ValueError):
        decode_pixels(bad)


def test_with_no_worker_alive_a_drawing_is_refused_at_once(heartbeats, monkeypatch):
    sent = []
    monkeypatch.setattr(client.predict_pixels, "apply_async", lambda *a, **k: sent.append(a))

    with pytest.raises(WorkerUnavailable, match="no prediction worker is up"):
        client.send_to_worker(["x"], timeout=5)
    assert sent == []  # no web thread waits 5 s for a worker that is not there


def test_a_beating_worker_is_used_at_once_and_trusted_for_a_second(heartbeats, monkeypatch):
    from guessgame import heartbeat

    assert client.a_worker_is_alive() is False
    heartbeat.publish(heartbeats, "worker@here")
    assert client.a_worker_is_alive() is True  # a no is not remembered
    heartbeat.withdraw(heartbeats, "worker@here")
    assert client.a_worker_is_alive() is True  # a yes is, for ALIVE_FOR_SECONDS
    monkeypatch.setattr(client, "_seen_alive_at", -client.ALIVE_FOR_SECONDS)
    assert client.a_worker_is_alive() is False


def test_redis_out_of_reach_makes_the_queue_unavailable_at_once(heartbeats, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    with pytest.raises(WorkerUnavailable, match="can be reached"):
        client.send_to_worker(["x"], timeout=5)
