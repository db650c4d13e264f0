"""The client's address behind proxies: rate limits and lock-out count real clients.

With GUESSGAME_TRUSTED_PROXIES=0 (no proxy) X-Forwarded-For is never read, so a client
cannot pick its own bucket; with N proxies the N-th entry from the right is the client,
so players behind one proxy no longer share one bucket.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from guessgame.client_address import client_ip

PROXY = "10.0.0.5"
PASSWORD = "correct-horse-battery"


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    "hops, forwarded, expected",
    [
        (0, None, PROXY),
        (0, "203.0.113.7", PROXY),  # no proxy configured: the header is anyone's to write
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client wrote the left part
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),  # fewer entries than proxies: all theirs
        (1, "2001:db8::1", "2001:db8::1"),
        (1, None, PROXY),  # came straight in, past no proxy
        (1, "not-an-address", PROXY),
        (1, " , ", PROXY),
    ],
)
def test_the_client_is_the_entry_our_proxies_vouch_for(settings, hops, forwarded, expected):
    settings.TRUSTED_PROXIES = hops

    assert client_ip(request_from(PROXY, forwarded)) == expected


def log_in(forwarded: str, username: str, password: str):
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded).post(
        "/accounts/login", {"username": username, "password": password}
    )


@pytest.mark.django_db
def test_without_a_proxy_a_spoofed_forwarded_for_does_not_change_the_bucket(settings):
    settings.TRUSTED_PROXIES = 0
    settings.LOGIN_RATE = "3/h"

    statuses = [log_in(f"198.51.100.{n}", f"victim{n}", "x").status_code for n in range(5)]

    assert statuses == [400, 400, 400, 429, 429]


@pytest.mark.django_db
def test_behind_a_proxy_each_client_has_its_own_rate_limit(settings):
    settings.TRUSTED_PROXIES = 1
    settings.LOGIN_RATE = "3/h"

    first = [log_in("198.51.100.1", f"victim{n}", "x").status_code for n in range(4)]
    second = log_in("198.51.100.2", "victim9", "x").status_code
    spoofed = log_in("198.51.100.2, 198.51.100.1", "victim8", "x").status_code

    assert first == [400, 400, 400, 429]
    assert second == 400  # another player behind the same proxy is not refused
    assert spoofed == 429  # the left part is the client's own writing: still client 1


@pytest.mark.django_db
def test_behind_a_proxy_a_lock_out_locks_out_that_client_only(settings):
    settings.TRUSTED_PROXIES = 1
    get_user_model().objects.create_user("alice", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in("198.51.100.66", "alice", "wrong")

    attacker = log_in("198.51.100.66", "alice", PASSWORD)
    alice = log_in("198.51.100.1", "alice", PASSWORD)

    assert attacker.status_code == 429 and b"Too many failed log-ins" in attacker.content
    assert alice.status_code == 302


@pytest.mark.django_db
def test_without_a_proxy_a_spoofed_forwarded_for_does_not_escape_a_lock_out(settings):
    settings.TRUSTED_PROXIES = 0
    get_user_model().objects.create_user("alice", password=PASSWORD)
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(f"198.51.100.{n}", "alice", "wrong")

    response = log_in("198.51.100.200", "alice", PASSWORD)

    assert response.status_code == 429
