"""Nobody let in: CSRF, logins, staff-only pages, lock-out, escaping, CSP."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from guessgame.game import services
from guessgame.game.models import Game

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "/admin/",
    "/admin/game/drawing/",
    "/admin/inference/modelversion/",
    "/staff/review/",
    "/staff/dashboard/",
    "/staff/models/",
]


@pytest.fixture
def player(db):
    return get_user_model().objects.create_user("alice", password="correct-horse-battery")


def test_game_posts_need_a_csrf_token(player):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(player)

    new_game = browser.post("/play/new")
    logout = browser.post("/accounts/logout")

    assert new_game.status_code == 403
    assert logout.status_code == 403
    assert not Game.objects.exists()


def test_sign_up_and_log_in_forms_need_a_csrf_token():
    browser = Client(enforce_csrf_checks=True)

    signup = browser.post(
        "/accounts/signup", {"username": "bob", "password1": "x-Long-1!", "password2": "x-Long-1!"}
    )
    login = browser.post("/accounts/login", {"username": "bob", "password": "x"})

    assert signup.status_code == 403 and login.status_code == 403
    assert not get_user_model().objects.filter(username="bob").exists()


def test_forms_carry_a_csrf_token(client):
    for url in ["/accounts/signup", "/accounts/login"]:
        assert b"csrfmiddlewaretoken" in client.get(url).content


@pytest.mark.parametrize("url", ["/play/1", "/play/1/state.json", "/games/1", "/me"])
def test_a_game_and_a_profile_need_an_account(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login")


def test_a_visitor_who_plays_gets_a_guest_account_that_sees_only_its_own_game(client, player):
    theirs = services.game_start(player=player)

    response = client.post("/play/new")

    mine = Game.objects.exclude(pk=theirs.pk).get()
    assert response["Location"] == f"/play/{mine.pk}"
    assert client.get(f"/play/{theirs.pk}").status_code == 404
    assert client.get(f"/play/{theirs.pk}/state.json").status_code == 404


def test_a_player_cannot_see_or_submit_someone_elses_round(client, player):
    game = services.game_start(player=player)
    round = game.rounds.first()
    mallory = get_user_model().objects.create_user("mallory", password="another-password-1")
    client.force_login(mallory)

    assert client.get(f"/play/{game.pk}").status_code == 404
    assert client.post(f"/rounds/{round.pk}/start").status_code == 404
    assert client.post(f"/rounds/{round.pk}/guess").status_code == 404
    assert client.post(f"/rounds/{round.pk}/submit").status_code == 404


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_refuse_players(client, player, url):
    client.force_login(player)

    response = client.get(url)

    assert response.status_code in {302, 403}
    if response.status_code == 302:
        assert "login" in response["Location"]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_refuse_visitors(client, url):
    response = client.get(url)

    assert response.status_code in {302, 403}


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_open_for_staff(client, url):
    staff = get_user_model().objects.create_user("sam", password="pw-staff-123", is_staff=True)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)

    assert client.get(url).status_code == 200


def test_repeated_failed_logins_lock_the_account_out(client, player, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login", {"username": "alice", "password": "wrong"})

    locked = client.post(
        "/accounts/login", {"username": "alice", "password": "correct-horse-battery"}
    )

    assert locked.status_code == 429
    assert b"Too many failed log-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_sign_up_is_rate_limited(client, settings):
    settings.SIGNUP_RATE = "2/h"
    statuses = []
    for n in range(4):
        password = "x-Long-Passw0rd!"
        response = Client().post(
            "/accounts/signup",
            {"username": f"user{n}", "password1": password, "password2": password},
        )
        statuses.append(response.status_code)

    assert statuses[:2] == [302, 302]
    assert statuses[2:] == [429, 429]
    assert get_user_model().objects.filter(username__startswith="user").count() == 2


def test_one_client_cannot_try_many_usernames(client, player, settings):
    settings.LOGIN_RATE = "4/h"  # hourly windows: a minute boundary mid-test would reset it
    statuses = []
    for n in range(6):  # one failure per username: the axes lock-out never triggers
        response = client.post("/accounts/login", {"username": f"victim{n}", "password": "x"})
        statuses.append(response.status_code)

    late = client.post(
        "/accounts/login", {"username": "alice", "password": "correct-horse-battery"}
    )

    assert statuses[:4] == [400] * 4
    assert statuses[4:] == [429, 429]
    assert late.status_code == 429 and b"Too many requests" in late.content
    assert "_auth_user_id" not in client.session


def test_usernames_are_escaped_on_the_leaderboard(client):
    evil = get_user_model().objects.create_user("x", password="pw-long-enough-1")
    # The sign-up form refuses such names; the page must be safe even so.
    evil.username = "<script>alert(1)</script>"
    evil.save()
    Game.objects.create(player=evil, score=50, finished_at=timezone.now())

    page = client.get("/leaderboard").content

    assert b"<script>alert(1)</script>" not in page
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_every_page_sends_a_content_security_policy_without_inline_scripts(client):
    for url in ["/", "/draw", "/leaderboard", "/accounts/login"]:
        policy = client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
