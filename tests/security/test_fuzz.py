"""Fuzzing the doors: every odd input gets a clear 4xx, never a 500, and stores nothing.

The model is never reached here (bad input is refused before any task is queued), so
these run without a worker; `.delay` is replaced to prove nothing was queued.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from guessgame.game import services
from guessgame.game.api import STROKES_MAX_BYTES
from guessgame.game.models import Drawing
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
    # an integer beyond any float (OverflowError in clean_strokes, once a 500)
    st.integers(20, 4_000).map(lambda digits: f"[[[{'9' * digits}, 1], [1, 1], [0, 5]]]"),
)


@FUZZ
@given(strokes=BAD_STROKES)
def test_a_round_with_malformed_strokes_is_refused_and_nothing_is_stored(
    client, no_queue, my_round, strokes
):
    assert_strokes_refused(client, my_round, strokes, no_queue)


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


def assert_strokes_refused(client, round, strokes: str, no_queue) -> None:
    """``{"strokes": <strokes>}`` sent for the round: a clear 4xx, and the round still open.
    A text that happens to be valid strokes ("[]") is taken: the round is reopened for the
    next example."""
    response = submit(
        client, round, data='{"strokes": ' + strokes + "}", content_type="application/json"
    )
    if response.status_code in {200, 201}:
        Drawing.objects.all().delete()
        type(round).objects.filter(pk=round.pk).update(submitted_at=None)
        return
    assert_clear_client_error(response)
    assert_round_still_open(round, no_queue)


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
    assert_strokes_refused(client, my_round, strokes, no_queue)


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


# --- every endpoint, staff ones included -----------------------------------------------
# The JSON and form bodies (and the query strings of the pages) of every URL in
# guessgame/urls.py, guessgame/game/urls.py, guessgame/review/urls.py and
# inference/urls.py, sent by the kind of user each one serves. Whatever arrives: never a
# 5xx, and a 4xx says why in words. /healthz is left out: its 503 is its answer (a
# worker is down), not an error. The admin is Django's own; its bulk-action form (the
# one place our code meets it) is fuzzed on a list of ours and on auth's.

POST_ENDPOINTS = [
    ("anyone", "/api/v1/predict"),
    ("anyone", "/api/v1/openapi.json"),  # GET only: a JSON 405 that says so
    ("anyone", "/guess"),
    ("anyone", "/accounts/signup"),
    ("anyone", "/accounts/login"),
    ("player", "/play/new"),
    ("player", "/rounds/{round}/submit"),
    ("player", "/rounds/{round}/flag"),
    ("player", "/accounts/password"),
    ("player", "/accounts/logout"),
    ("staff", "/staff/review/decide"),
    ("staff", "/staff/review/undo"),
    ("staff", "/staff/models/rollback"),
    ("staff", "/staff/models/{version}/activate"),
    ("staff", "/admin/game/drawing/"),
    ("staff", "/admin/auth/user/"),
]
GET_ENDPOINTS = [
    ("anyone", "/"),
    ("anyone", "/scoring"),
    ("anyone", "/draw"),
    ("anyone", "/leaderboard"),
    ("anyone", "/players/fuzzer"),
    ("anyone", "/api/v1/openapi.json"),
    ("anyone", "/accounts/signup"),
    ("anyone", "/accounts/login"),
    ("player", "/me"),
    ("player", "/play/{game}"),
    ("player", "/games/{game}"),
    ("player", "/rounds/{round}/result"),
    ("player", "/rounds/{round}/result.json"),
    ("player", "/drawings/{drawing}.png"),
    ("player", "/accounts/password"),
    ("player", "/accounts/password/done"),
    ("staff", "/staff/review/"),
    ("staff", "/staff/drawings/{drawing}/drawing.png"),
    ("staff", "/staff/drawings/{drawing}/pixels.png"),
    ("staff", "/staff/dashboard/"),
    ("staff", "/staff/models/"),
    ("staff", "/staff/models/{version}/plots/confusion_matrix.png"),
    ("staff", "/admin/game/drawing/"),
]
ENDPOINT_FUZZ = settings(FUZZ, max_examples=15)

FIELD_NAMES = st.one_of(
    st.sampled_from(
        [
            "image", "strokes", "flag", "username", "password", "password1", "password2",
            "old_password", "new_password1", "new_password2", "drawing", "action", "label",
            "_selected_action", "index", "select_across", "next", "version", "page", "q",
            "period", "misclassified", "confidence",
        ]
    ),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=12),
)  # fmt: skip
ODD_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["abc", "", "-1", "0", "1.5", "²", "1e999", "NaN", "null", "[]", "{}"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(20, 6_000).map(lambda digits: "9" * digits),
    st.integers(2, 3_000).map(lambda depth: "[" * depth + "]" * depth),
    st.sampled_from(["approve", "reject", "relabel", "delete_selected", "wrong", "clumsy"]),
)
FORMS = st.one_of(
    st.dictionaries(FIELD_NAMES, st.one_of(ODD_TEXT, st.lists(ODD_TEXT, max_size=3)), max_size=6),
    st.fixed_dictionaries(  # an admin bulk action on whatever ids
        {
            "action": st.sampled_from(["approve", "reject", "repredict", "delete_selected"]),
            "_selected_action": st.lists(ODD_TEXT, min_size=1, max_size=3),
        },
        optional={"index": ODD_TEXT, "select_across": ODD_TEXT},
    ),
)
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.floats(), st.text(max_size=20),
        st.integers(min_value=-(10**400), max_value=10**400),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(FIELD_NAMES, st.text(max_size=8)), children, max_size=4),
    ),
    max_leaves=12,
)  # fmt: skip
JSON_TEXTS = st.one_of(
    st.builds(json.dumps, JSON_VALUES),
    st.builds(
        json.dumps,
        st.fixed_dictionaries(
            {"drawing": JSON_VALUES, "action": st.one_of(ODD_TEXT, JSON_VALUES)},
            optional={"label": JSON_VALUES},
        ),
    ),
    st.builds(lambda digits: '{"drawing": ' + "9" * digits + ', "action": "approve"}',
              st.integers(20, 6_000)),
    st.integers(2, 60_000).map(lambda depth: "[" * depth + "]" * depth),
    st.text(alphabet='[]{},:"0123456789.eE+-aN', max_size=200),
)  # fmt: skip
BODIES = st.one_of(
    st.tuples(st.just("multipart"), FORMS),
    st.tuples(st.just("urlencoded"), FORMS),
    st.tuples(st.just("json"), JSON_TEXTS),
    st.tuples(st.sampled_from(["text/plain", "application/octet-stream", "image/png"]),
              st.binary(max_size=512)),
)  # fmt: skip
QUERIES = st.dictionaries(FIELD_NAMES, ODD_TEXT, max_size=4)


@pytest.fixture
def site(db):
    """A player with a game, a round and a drawing, a member of staff, a model version."""
    from tests.factories import DrawingFactory, StaffFactory

    player = get_user_model().objects.create_user("fuzzer", password="a-long-password-1")
    game = services.game_start(player=player)
    round = services.round_start(round=game.rounds.order_by("number").first())
    drawing = DrawingFactory(player=player, round=game.rounds.order_by("number").last())
    from inference.models import ModelVersion

    version = ModelVersion.objects.order_by("pk").first()
    return {
        "player": player,
        "staff": StaffFactory(),
        "ids": {
            "game": game.pk,
            "round": round.pk,
            "drawing": drawing.pk,
            "version": version.pk if version else 1,
        },
    }


def as_user(client, site, who: str):
    """A fresh start for each example: rate limits, lock-outs and the session."""
    from axes.utils import reset
    from django.core.cache import cache

    cache.clear()
    reset()
    client.logout()
    if who != "anyone":
        client.force_login(site[who])


def explanation(response) -> str:
    """What a person reads in the answer: a JSON error, or the page's text."""
    if response.get("Content-Type", "").startswith("application/json"):
        return str(response.json().get("error") or "")
    text = response.content.decode("utf-8", "replace")
    text = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", " ", text)
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def assert_never_5xx_and_4xx_explained(response, what) -> None:
    assert response.status_code < 500, (what, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert len(explanation(response)) >= 10, (what, response.status_code, response.content)


@pytest.mark.parametrize("who, url", POST_ENDPOINTS, ids=[url for _, url in POST_ENDPOINTS])
@ENDPOINT_FUZZ
@given(body=BODIES)
def test_every_endpoint_answers_any_form_or_json_body_without_a_5xx(
    client, no_queue, site, who, url, body
):
    as_user(client, site, who)
    kind, payload = body
    path = url.format(**site["ids"])

    if kind == "multipart":
        response = client.post(path, payload)
    elif kind == "urlencoded":
        response = client.post(
            path, urlencode(payload, doseq=True), content_type="application/x-www-form-urlencoded"
        )
    elif kind == "json":
        response = client.post(path, payload, content_type="application/json")
    else:
        response = client.post(path, payload, content_type=kind)

    assert_never_5xx_and_4xx_explained(response, (path, kind, repr(payload)[:200]))


@pytest.mark.parametrize("who, url", GET_ENDPOINTS, ids=[url for _, url in GET_ENDPOINTS])
@ENDPOINT_FUZZ
@given(query=QUERIES)
def test_every_page_answers_any_query_string_without_a_5xx(client, site, who, url, query):
    as_user(client, site, who)
    path = url.format(**site["ids"])

    response = client.get(path, query)

    assert_never_5xx_and_4xx_explained(response, (path, query))
