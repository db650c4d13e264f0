"""Accounts: sign up (a guest keeps their games), log in and out, the rate limits and
lock-outs on them, changing the password, deleting the account."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import reverse

from guessgame.game import selectors
from guessgame.game.models import Drawing, Game, is_guest
from tests.concurrency import at_once
from tests.factories import PASSWORD, finish_game

pytestmark = pytest.mark.django_db


def test_signing_up_creates_the_account_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {"username": "grace", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="grace").exists()
    assert client.get(reverse("home")).context["user"].username == "grace"


@pytest.mark.django_db(transaction=True)
def test_concurrent_sign_ups_of_one_name_in_four_cases_make_one_account(monkeypatch):
    """Each sign-up passes the form's check before any is saved: the database decides."""
    from guessgame.accounts.forms import SignupForm

    names = ["RaceName0", "racename0", "RACENAME0", "rAcEnAmE0"]
    all_checked = threading.Barrier(len(names))
    check = SignupForm.clean_username

    def check_then_wait(form):
        username = check(form)
        all_checked.wait(timeout=60)  # a safety net against a hang, not a timing
        return username

    monkeypatch.setattr(SignupForm, "clean_username", check_then_wait)
    responses = {}

    def sign_up(name: str) -> None:
        responses[name] = Client().post(
            reverse("signup"), {"username": name, "password1": PASSWORD, "password2": PASSWORD}
        )

    assert at_once(sign_up, [(name,) for name in names], timeout=120) == []

    assert get_user_model().objects.filter(username__iexact="racename0").count() == 1
    refused = [r for r in responses.values() if r.status_code != 302]
    assert len(responses) == 4 and len(refused) == 3
    for response in refused:
        assert response.status_code == 400
        assert SignupForm.NAME_TAKEN in response.content.decode()


def test_an_empty_sign_up_is_a_400_that_names_the_missing_fields(client):
    response = client.post(reverse("signup"))
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not get_user_model().objects.exists()


def test_a_wrong_password_is_a_400_with_the_form_again(client, player):
    response = client.post(reverse("login"), {"username": "ada", "password": "wrong"})
    assert response.status_code == 400
    assert "correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_refused_password_change_is_a_400_with_its_error(logged_in, player):
    response = logged_in.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 400
    assert "old password was entered incorrectly" in response.content.decode()
    player.refresh_from_db()
    assert player.check_password(PASSWORD)


@override_settings(LOGIN_RATE="3/m")
def test_log_ins_are_rate_limited_per_client_whatever_the_username(client, player):
    for name in ("amy", "ben", "cat"):  # other usernames: axes alone would never lock these out
        client.post(reverse("login"), {"username": name, "password": "guess"})
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("login")).status_code == 200  # only attempts are counted


@override_settings(LOGIN_RATE="off")
def test_the_log_in_rate_limit_can_be_turned_off(client, player):
    for name in ("amy", "ben", "cat", "dan"):
        client.post(reverse("login"), {"username": name, "password": "guess"})
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302


@override_settings(SIGNUP_RATE="2/h")
def test_sign_ups_are_rate_limited_with_a_friendly_429(client):
    for i in range(2):
        client.post(reverse("signup"), {"username": f"u{i}xx", "password1": "x", "password2": "y"})
    response = client.post(
        reverse("signup"), {"username": "third", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert not get_user_model().objects.filter(username="third").exists()


def test_logging_in_and_out(client, player):
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("logout")).status_code == 405  # log out is a POST
    response = client.post(reverse("logout"))
    assert response.status_code == 200 and "logged out" in response.content.decode()
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_changing_the_password(logged_in, player):
    response = logged_in.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-password-7",
            "new_password2": "another-long-password-7",
        },
    )
    assert response.status_code == 302 and response.url == reverse("password_change_done")
    player.refresh_from_db()
    assert player.check_password("another-long-password-7")
    assert logged_in.get(reverse("password_change_done")).status_code == 200


def test_a_guest_saves_their_score_by_signing_up_and_keeps_their_games(client):
    client.post(reverse("game_new"))
    guest_game = Game.objects.get()
    guest = guest_game.player
    finished = finish_game(guest, correct_rounds=3)
    assert selectors.player_rank(player=guest) is None  # guests stay off the leaderboard
    summary = client.get(reverse("game_summary", args=[finished.pk])).content.decode()
    assert "Save your score" in summary

    response = client.post(
        reverse("signup"),
        {
            "username": "ada",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": reverse("game_summary", args=[finished.pk]),
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("game_summary", args=[finished.pk])
    ada = get_user_model().objects.get(username="ada")
    assert ada.pk == guest.pk and not is_guest(ada) and ada.check_password(PASSWORD)
    assert set(ada.games.values_list("pk", flat=True)) == {guest_game.pk, finished.pk}
    assert selectors.player_rank(player=ada) == 1
    assert "#1" in client.get(response.url).content.decode()


def test_nobody_signs_up_with_a_guests_name(client):
    response = client.post(
        reverse("signup"),
        {"username": "guest-abc123", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 400 and "are for guests" in response.content.decode()


def test_repeated_failed_logins_lock_out_with_a_friendly_page(client, player):
    from django.conf import settings

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "ada", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()


def test_a_guest_deletes_their_account_and_drawings_without_a_password(client):
    client.post(reverse("game_new"))
    guest = Game.objects.get().player
    finish_game(guest, correct_rounds=2)
    assert Drawing.objects.filter(player=guest).exists()

    page = client.get(reverse("account_delete")).content.decode()
    response = client.post(reverse("account_delete"))

    assert 'type="password"' not in page
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=guest.pk).exists()
    assert not Drawing.objects.exists()


@pytest.mark.parametrize(
    "username, message",
    [("a b", "letters, digits"), ("<b>x</b>", "letters, digits"), ("ab", "at least 3")],
)
def test_a_bad_username_gets_a_clear_error(client, username, message):
    response = client.post(
        reverse("signup"), {"username": username, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not get_user_model().objects.exists()


def test_a_username_is_taken_whatever_its_case(client, player):
    response = client.post(
        reverse("signup"), {"username": "ADA", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 400 and "taken" in response.content.decode()
