"""Fuzzing the doors: every odd input gets a clear 4xx, never a 500, and stores nothing.

The model is never reached here (bad input is refused before any task is queued), so
these run without a worker; `.delay` is replaced to prove nothing was queued.
"""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from guessgame.game import services
from guessgame.game.models import Drawing
from inference.canvas import render_strokes

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SEVEN = [[[40.0, 180.0, 120.0], [40.0, 40.0, 190.0], [0.0, 200.0, 400.0]]]


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: a decompression bomb's shape."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\x00" * 64
    )


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30), "white").save(buffer, "JPEG")
    return buffer.getvalue()


BAD_IMAGES = st.one_of(
    st.binary(max_size=2048),
    st.just(render_strokes(SEVEN)).map(lambda png: png[: len(png) // 2]),  # truncated
    st.builds(png_header_claiming, st.integers(4097, 2**31 - 1), st.integers(1, 2**31 - 1)),
    st.builds(png_header_claiming, st.just(0), st.integers(0, 100)),
    st.just(jpeg()),
    st.just(b"GIF89a" + b"\x00" * 100),
)


@pytest.fixture
def no_queue(monkeypatch):
    """Records anything the request tried to queue."""
    from guessgame.game import tasks
    from inference import tasks as inference_tasks

    queued = []
    monkeypatch.setattr(tasks.predict_drawing, "delay", lambda *a, **k: queued.append(a))
    monkeypatch.setattr(
        inference_tasks.predict_pixels, "apply_async", lambda *a, **k: queued.append(a)
    )
    return queued


@pytest.fixture
def player_round(db):
    player = get_user_model().objects.create_user("fuzzer", password="a-long-password-1")
    game = services.game_start(player=player)
    round = game.rounds.order_by("number").first()
    services.round_start(round=round)
    return player, round


def assert_clear_client_error(response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert isinstance(error, str) and len(error) > 10


@pytest.mark.django_db
@FUZZ
@given(body=BAD_IMAGES)
def test_the_api_answers_any_bad_image_with_a_clear_4xx(client, no_queue, body):
    raw = client.post("/api/v1/predict", data=body, content_type="image/png")
    form = client.post("/api/v1/predict", {"image": io.BytesIO(body)})

    assert_clear_client_error(raw)
    assert_clear_client_error(form)
    assert no_queue == []


@pytest.mark.django_db
@FUZZ
@given(content_type=st.sampled_from(["text/plain", "application/json", "image/jpeg", "", "x/y"]))
def test_the_api_refuses_wrong_content_types(client, no_queue, content_type):
    response = client.post(
        "/api/v1/predict", data=b'{"image": "x"}', content_type=content_type or "application/x"
    )

    assert_clear_client_error(response)


@FUZZ
@given(body=BAD_IMAGES)
def test_a_round_with_a_bad_image_is_refused_and_nothing_is_stored(
    client, no_queue, player_round, body
):
    player, round = player_round
    client.force_login(player)

    response = client.post(
        f"/rounds/{round.pk}/submit", {"image": io.BytesIO(body), "strokes": json.dumps(SEVEN)}
    )

    assert_clear_client_error(response)
    assert Drawing.objects.count() == 0
    assert no_queue == []


finite = st.floats(min_value=0, max_value=225, allow_nan=False)
odd_number = st.one_of(
    st.just(float("nan")), st.just(float("inf")), st.floats(max_value=-0.01), st.text(max_size=5),
    st.none(), st.just(1e300),
)  # fmt: skip
BAD_STROKES = st.one_of(
    st.text(max_size=200),  # not JSON at all
    st.just(json.dumps([[[1.0] * 3, [1.0] * 3, [1.0] * 3]] * 5000)),  # far too many strokes
    st.just(json.dumps([[[1.0] * 20000, [1.0] * 20000, [1.0] * 20000]])),  # too many points
    st.builds(
        lambda bad, at: json.dumps(
            [[[10.0, bad if at == 0 else 20.0], [10.0, bad if at == 1 else 20.0], [0.0, 5.0]]]
        ),
        odd_number,
        st.integers(0, 1),
    ),
    st.builds(json.dumps, st.lists(st.lists(st.lists(finite, max_size=3), max_size=2), min_size=1)),
    st.builds(json.dumps, st.dictionaries(st.text(max_size=5), st.integers(), min_size=1)),
)


@FUZZ
@given(strokes=BAD_STROKES)
def test_a_round_with_malformed_strokes_is_refused_and_nothing_is_stored(
    client, no_queue, player_round, strokes
):
    player, round = player_round
    client.force_login(player)

    response = client.post(
        f"/rounds/{round.pk}/submit",
        {"image": io.BytesIO(render_strokes(SEVEN)), "strokes": strokes},
    )

    if response.status_code == 201:  # a shape that happens to be valid strokes
        Drawing.objects.all().delete()
        return
    assert_clear_client_error(response)
    assert Drawing.objects.count() == 0
    assert no_queue == []


@pytest.mark.django_db
@FUZZ
@given(
    username=st.one_of(
        st.text(max_size=300),
        st.text(alphabet=st.characters(categories=["Zs", "Cc", "So", "Mn"]), min_size=1),
        st.just("<script>alert(1)</script>"),
        st.just("a" * 10_000),
        st.just("admin\x00"),
    )
)
def test_signup_refuses_odd_usernames_with_a_form_error_never_a_500(client, username):
    from django.core.cache import cache

    cache.clear()  # the sign-up rate limit would otherwise stop the fuzzing
    response = client.post(
        "/accounts/signup",
        {"username": username, "password1": "x-Long-Passw0rd!", "password2": "x-Long-Passw0rd!"},
    )

    if response.status_code == 302:  # a valid username: the account exists
        assert get_user_model().objects.filter(username=username).exists()
        get_user_model().objects.filter(username=username).delete()
        return
    assert response.status_code == 400  # the form again, with its error
    assert b"errorlist" in response.content or b"error" in response.content
    assert not get_user_model().objects.filter(username=username).exists()
