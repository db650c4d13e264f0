"""POST /api/v1/predict through a REAL Celery worker and a REAL Redis.

Each answer is also checked against the OpenAPI description the API serves.
"""

from __future__ import annotations

import io
import shutil

import pytest
from django.urls import reverse
from jsonschema import Draft202012Validator
from PIL import Image

from inference.canvas import render_strokes
from inference.registry import register_model_dir
from inference.views import openapi_document
from tests.e2e.strokes import NOT_DIGITS, line_strokes
from tests.inference.drawings import blank_answer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/predict"
ONE = render_strokes([[[112, 112], [40, 190], [0, 120]]])
SEVEN = render_strokes([[[50, 175, 100], [50, 50, 190], [0, 100, 200]]])
BLANK = render_strokes([])


def assert_matches_contract(response, status: int) -> dict:
    """The status is the one expected and the JSON body matches openapi.json for it."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    document = openapi_document()
    schema = document["paths"]["/predict"]["post"]["responses"][str(status)]
    if "$ref" in schema:
        schema = document["components"]["responses"][schema["$ref"].rsplit("/", 1)[1]]
    body_schema = schema["content"]["application/json"]["schema"]
    body = response.json()
    Draft202012Validator({**body_schema, "components": document["components"]}).validate(body)
    return body


@pytest.fixture
def api(client, worker_process, active_model, settings):
    settings.API_RATE = "off"
    return client


@pytest.fixture(params=["batched", "one task per drawing"])
def path(request, settings) -> str:
    settings.BATCHING = request.param == "batched"
    return request.param


def test_a_png_in_the_image_field_gets_the_models_guess(api, active_model, path):
    response = api.post(URL, {"image": io.BytesIO(ONE)})
    body = assert_matches_contract(response, 200)
    assert body["blank"] is False and body["not_digit"] is False
    assert body["digit"] == max(range(10), key=body["probabilities"].__getitem__)
    assert body["confidence"] == max(body["probabilities"])
    # 1 with a 10-output model; 1 - p(not a digit), never more, with an 11-output one.
    assert 0.5 < sum(body["probabilities"]) <= 1 + 1e-3
    assert body["model_version"] == active_model.name


def test_a_raw_png_body_gets_the_same_answer_as_the_form(api, path):
    form = api.post(URL, {"image": io.BytesIO(SEVEN)}).json()
    raw = api.post(URL, SEVEN, content_type="image/png")
    assert assert_matches_contract(raw, 200) == form


def test_a_blank_drawing_is_answered_as_blank(api, active_model):
    body = assert_matches_contract(api.post(URL, BLANK, content_type="image/png"), 200)
    assert body == blank_answer(active_model.name)


@pytest.mark.parametrize("shape", sorted(NOT_DIGITS))
def test_a_drawing_that_is_not_a_digit_is_answered_as_such(api, not_digit_model, path, shape):
    png = render_strokes(line_strokes(NOT_DIGITS[shape]))
    body = assert_matches_contract(api.post(URL, png, content_type="image/png"), 200)
    assert body["not_digit"] is True, body
    assert body["digit"] is None and body["blank"] is False
    assert len(body["probabilities"]) == 10  # the digits' own, not renormalised
    # confidence is p(not a digit): what the ten digits leave of 1, and more than any.
    assert body["confidence"] == pytest.approx(1 - sum(body["probabilities"]), abs=1e-4)
    assert body["confidence"] > max(body["probabilities"])
    assert body["model_version"] == not_digit_model.name


def test_a_clear_digit_is_still_a_digit_for_a_model_that_knows_non_digits(
    api, not_digit_model, path
):
    body = assert_matches_contract(api.post(URL, SEVEN, content_type="image/png"), 200)
    assert body["digit"] == 7 and body["not_digit"] is False
    assert body["confidence"] >= 0.6


def test_a_form_without_the_image_field_is_a_400(api):
    response = api.post(URL, {"picture": io.BytesIO(ONE)})
    assert "image" in assert_matches_contract(response, 400)["error"]


def test_a_malformed_multipart_form_is_a_400(api):
    response = api.post(URL, b"--x\r\nno boundary given", content_type="multipart/form-data")
    assert "malformed" in assert_matches_contract(response, 400)["error"]


def test_bytes_that_are_not_an_image_are_a_400(api):
    response = api.post(URL, b"hello, I am text", content_type="image/png")
    assert "not an image" in assert_matches_contract(response, 400)["error"]


def test_a_jpeg_is_a_415(api):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, format="JPEG")
    response = api.post(URL, {"image": io.BytesIO(buffer.getvalue())})
    assert "PNG" in assert_matches_contract(response, 415)["error"]


def test_a_body_of_another_content_type_is_a_415(api):
    response = api.post(URL, {"image": "x"}, content_type="application/json")
    assert "image/png" in assert_matches_contract(response, 415)["error"]


def test_a_request_announcing_more_than_2_mb_is_refused_before_it_is_read(api):
    response = api.post(URL, ONE, content_type="image/png", CONTENT_LENGTH="50000000")
    assert "too large" in assert_matches_contract(response, 413)["error"]


def test_a_png_over_2_mb_is_a_413(api):
    too_big = ONE + b"\0" * (2 * 1024 * 1024)
    response = api.post(URL, too_big, content_type="image/png")
    assert "too large" in assert_matches_contract(response, 413)["error"]


def test_get_is_a_405_with_a_json_error(api):
    response = api.get(URL)
    assert "POST" in assert_matches_contract(response, 405)["error"]
    assert response["Allow"] == "POST"


def test_a_client_over_its_rate_is_told_to_slow_down_with_a_429(api, settings):
    settings.API_RATE = "2/h"  # hourly windows: a minute boundary mid-test would reset it
    for _ in range(2):
        assert api.post(URL, BLANK, content_type="image/png").status_code == 200
    response = api.post(URL, BLANK, content_type="image/png")
    assert "2/h" in assert_matches_contract(response, 429)["error"]
    assert 1 <= int(response["Retry-After"]) <= 3600  # when this client's window ends
    # Another client is not affected.
    other = api.post(URL, BLANK, content_type="image/png", REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 200


def test_with_no_worker_answering_the_api_says_503_in_time(api, settings, path):
    settings.PREDICT_QUEUE = "no-worker-consumes-this-queue"
    settings.PREDICT_TIMEOUT = 0.5
    response = api.post(URL, ONE, content_type="image/png")
    assert "worker" in assert_matches_contract(response, 503)["error"]
    assert response["Retry-After"] == "5"


def test_activating_another_version_serves_it_at_once_without_a_worker_restart(
    api, active_model, tmp_path, worker_process
):
    pid_before = worker_process.proc.pid
    before = api.post(URL, ONE, content_type="image/png").json()
    assert before["model_version"] == active_model.name

    copy = shutil.copytree(active_model.directory, tmp_path / "hot-v2")
    register_model_dir(copy, name="hot-v2").activate()

    after = assert_matches_contract(api.post(URL, ONE, content_type="image/png"), 200)
    assert after["model_version"] == "hot-v2"
    assert after["probabilities"] == before["probabilities"]  # same weights, new name
    assert worker_process.proc.pid == pid_before
    assert worker_process.proc.poll() is None


def test_the_openapi_description_is_served_and_describes_predict(api):
    response = api.get(reverse("inference:openapi"))
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]["/predict"]["post"]["responses"]) == {
        "200", "400", "405", "413", "415", "429", "503",
    }  # fmt: skip


def test_an_answer_is_not_deleted_on_the_request_path_but_expires_by_itself(api, path):
    """Deleting each result would cost every request a Redis round trip; a TTL does it."""
    import redis
    from django.conf import settings

    store = redis.Redis.from_url(settings.REDIS_URL)
    before = set(store.scan_iter("celery-task-meta-*"))
    assert_matches_contract(api.post(URL, ONE, content_type="image/png"), 200)
    answers = set(store.scan_iter("celery-task-meta-*")) - before
    assert len(answers) == 1
    assert 0 < store.ttl(answers.pop()) <= 300
