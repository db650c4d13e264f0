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
from guessgame.game.views import STROKES_MAX_BYTES
from inference.canvas import render_strokes
from inference.preprocess import MAX_BYTES

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


@pytest.fixture
def my_round(client, player_round):
    """The fuzzer's open round, with the test client logged in as its player."""
    player, round = player_round
    client.force_login(player)
    return round


def submit(client, round, data=None, **kwargs):
    """POST to the round's submission URL, as play.js does (or as anything else might)."""
    return client.post(f"/rounds/{round.pk}/submit", data, **kwargs)


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
    client, no_queue, my_round, body
):
    round = my_round

    response = submit(client, round, {"image": io.BytesIO(body), "strokes": json.dumps(SEVEN)})

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
    client, no_queue, my_round, strokes
):
    round = my_round

    response = submit(
        client, round, data='{"strokes": ' + strokes + "}", content_type="application/json"
    )

    if response.status_code == 201:  # a shape that happens to be valid strokes
        Drawing.objects.all().delete()
        return
    assert_clear_client_error(response)
    assert Drawing.objects.count() == 0
    assert no_queue == []


# --- the round submission beyond its strokes -------------------------------------------
# game.js sends {"strokes": [...]} as application/json, and the server draws them; a
# picture, a form or anything else must be refused with a JSON error and leave the round
# open.

HEAVY_FUZZ = settings(FUZZ, max_examples=20)
MULTIPART = "multipart/form-data; boundary=BoUnDaRy"


def assert_round_still_open(round, no_queue) -> None:
    round.refresh_from_db()
    assert not Drawing.objects.exists()
    assert not round.scored and round.submitted_at is None and round.points == 0
    assert no_queue == []


def multipart_body(*parts: tuple[str, bytes, bool]) -> bytes:
    """A hand-made multipart body: (field name, bytes, is a file) per part."""
    body = b""
    for name, data, is_file in parts:
        filename = b'; filename="drawing.png"\r\nContent-Type: image/png' if is_file else b""
        body += (
            b"--BoUnDaRy\r\nContent-Disposition: form-data; name=\"" + name.encode() + b'"'
            + filename + b"\r\n\r\n" + data + b"\r\n"
        )  # fmt: skip
    return body + b"--BoUnDaRy--\r\n"


RAW_CONTENT_TYPES = st.one_of(
    st.from_regex(
        r"[a-z]{1,11}/[a-z0-9.+-]{1,20}(; ?[a-z]{1,8}=[A-Za-z0-9-]{0,20})?", fullmatch=True
    ),
    st.sampled_from(
        [
            "image/png",
            "application/octet-stream",
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",  # no boundary
            "multipart/form-data; boundary=",
            MULTIPART,
            "multipart/mixed; boundary=BoUnDaRy",
            "x/y",
        ]
    ),
)
RAW_BODIES = st.one_of(
    st.binary(max_size=4096),
    st.builds(render_strokes, st.just(SEVEN)),
    st.just(json.dumps({"image": "iVBORw0KGgo=", "drawing": SEVEN}).encode()),
    st.just(b"image=x&strokes=[]"),
    st.just(b'--BoUnDaRy\r\nContent-Disposition: form-data; name="image"\r\n\r\n'),  # cut
    st.just(b"--BoUnDaRy\r\n" * 500),
)


@FUZZ
@given(content_type=RAW_CONTENT_TYPES, body=RAW_BODIES)
def test_a_round_sent_as_a_raw_body_of_any_type_is_refused_and_stays_open(
    client, no_queue, my_round, content_type, body
):
    round = my_round

    response = submit(client, round, data=body, content_type=content_type)

    assert_clear_client_error(response)
    assert_round_still_open(round, no_queue)


def png_of_size(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 255).save(buffer, "PNG")
    return buffer.getvalue()


MISSING_FIELDS = st.sampled_from(
    [
        {},
        {"strokes": json.dumps(SEVEN)},
        {"image": "render_strokes"},
        {"picture": "render_strokes", "strokes": json.dumps(SEVEN)},
        {"image": "not a file at all", "strokes": json.dumps(SEVEN)},
        {"image": "", "strokes": json.dumps(SEVEN)},
    ]
)


@FUZZ
@given(fields=MISSING_FIELDS)
def test_a_round_with_a_missing_field_is_refused_and_stays_open(client, no_queue, my_round, fields):
    round = my_round
    data = {
        name: io.BytesIO(render_strokes(SEVEN)) if value == "render_strokes" else value
        for name, value in fields.items()
    }

    response = submit(client, round, data)

    assert_clear_client_error(response)
    assert_round_still_open(round, no_queue)


OVERSIZED_IMAGES = st.one_of(
    # Over 2 MB: a real PNG signature, then bytes up to the limit and a little more.
    st.integers(1, 64 * 1024).map(lambda extra: b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_BYTES + extra)),
    # Over 4096x4096 but small files: a header claiming it, and real pictures.
    st.builds(png_header_claiming, st.integers(4097, 100_000), st.integers(4097, 100_000)),
    st.sampled_from([png_of_size(4097, 1), png_of_size(1, 5000), png_of_size(5000, 5000)]),
)


@HEAVY_FUZZ
@given(image=OVERSIZED_IMAGES)
def test_a_round_sent_as_an_oversized_image_is_refused(client, no_queue, my_round, image):
    """Too large to read (413) when the body is, else refused as a picture (415)."""
    round = my_round

    response = submit(client, round, {"image": io.BytesIO(image), "strokes": json.dumps(SEVEN)})

    assert_clear_client_error(response)
    assert response.status_code == (413 if len(image) > STROKES_MAX_BYTES else 415)
    assert_round_still_open(round, no_queue)
    assert_round_still_open(round, no_queue)


HUGE_OR_MALFORMED_STROKES = st.one_of(
    st.integers(1_000, 200_000).map(lambda depth: "[" * depth + "]" * depth),  # deep nesting
    st.integers(1_000, 50_000).map(lambda depth: "[" * depth),  # deep and unclosed
    st.just("[" * 10 + "1" * 5_000 + "]" * 10),  # an integer too long to parse
    st.sampled_from(["NaN", "Infinity", "-Infinity", "[[[NaN],[1],[1]]]", "[[[1e999],[1],[1]]]"]),
    st.just("[" + ",".join(["[[1,2],[1,2],[0,5]]"] * 4_000) + "]"),  # too many strokes
    st.just("[[" + "[1]," * 2 + "[" + ",".join(["1"] * 100_000) + "]]]"),  # one enormous stroke
    st.integers(3, 4).map(lambda megabytes: " " * megabytes * 1024 * 1024 + "[]"),  # too big
    st.text(alphabet='[]{},:"0123456789.eE+-', max_size=500),
)


@HEAVY_FUZZ
@given(strokes=HUGE_OR_MALFORMED_STROKES)
def test_a_round_with_huge_or_malformed_strokes_is_refused_and_stays_open(
    client, no_queue, my_round, strokes
):
    round = my_round

    response = submit(
        client, round, data='{"strokes": ' + strokes + "}", content_type="application/json"
    )

    if response.status_code == 201:  # a short text that happens to be valid strokes ("[]")
        Drawing.objects.all().delete()
        type(round).objects.filter(pk=round.pk).update(submitted_at=None)
        return
    assert_clear_client_error(response)
    assert_round_still_open(round, no_queue)


@HEAVY_FUZZ
@given(
    body=st.one_of(
        st.integers(1, 200).map(lambda n: b"garbage" * n),
        st.integers(3, 6).map(lambda megabytes: b"\0" * megabytes * 1024 * 1024),
    )
)
def test_a_hand_made_multipart_body_is_refused_and_stays_open(client, no_queue, my_round, body):
    round = my_round
    fields = multipart_body(("image", body, True), ("strokes", json.dumps(SEVEN).encode(), False))
    too_many = multipart_body(*[(f"f{n}", b"1", False) for n in range(2_000)])

    for data in (fields, too_many):
        response = submit(client, round, data=data, content_type=MULTIPART)
        assert_clear_client_error(response)
    assert_round_still_open(round, no_queue)


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
    users_before = get_user_model().objects.count()
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
    # Counted, not looked up: PostgreSQL refuses a NUL byte even in a query.
    assert get_user_model().objects.count() == users_before


@pytest.mark.django_db
@FUZZ
@given(content_type=RAW_CONTENT_TYPES, body=RAW_BODIES)
def test_with_csrf_checks_on_an_unreadable_round_is_still_a_clear_json_4xx(
    no_queue, player_round, content_type, body
):
    """As in production: the CSRF middleware reads the form before the view does."""
    from django.test import Client

    player, round = player_round
    client = Client(enforce_csrf_checks=True)
    client.force_login(player)
    client.get(f"/play/{round.game_id}")  # sets the CSRF cookie, as the page does
    token = client.cookies["csrftoken"].value

    response = submit(
        client, round, data=body, content_type=content_type,
        HTTP_X_CSRFTOKEN=token, HTTP_ACCEPT="application/json",
    )  # fmt: skip

    assert_clear_client_error(response)
    assert_round_still_open(round, no_queue)
