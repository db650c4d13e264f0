"""Migration 0003: usernames unique whatever their case, in the database itself."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from tests.migrate import latest, migrate

BEFORE = [("game", "0002_drawing_not_digit")]
AFTER = [("game", "0003_username_unique_whatever_case")]


@pytest.mark.django_db
def test_the_database_refuses_a_username_that_differs_only_in_case():
    get_user_model().objects.create_user("RaceName0")

    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create_user("rAcEnAmE0")


@pytest.mark.django_db(transaction=True)
def test_case_variants_stored_before_are_renamed_and_the_oldest_keeps_its_name(capsys):
    User = migrate(BEFORE).get_model("auth", "User")
    try:
        first = User.objects.create(username="RaceName0")
        second = User.objects.create(username="racename0")
        taken = User.objects.create(username=f"racename0-{second.pk + 2}")  # third's name
        third = User.objects.create(username="RACENAME0")
        other = User.objects.create(username="someone")
    finally:
        migrate(AFTER)
        # Back to the latest of every app: going back to 0002 also unapplied the later
        # migrations (of game and of apps depending on it) the next tests need.
        migrate(latest())

    names = dict(get_user_model().objects.values_list("pk", "username"))
    assert names[first.pk] == "RaceName0"
    assert names[second.pk] == f"racename0-{second.pk}"
    assert third.pk == second.pk + 2
    assert names[taken.pk] == f"racename0-{third.pk}"
    assert names[third.pk] == f"RACENAME0-{third.pk}-2"  # its first choice was taken
    assert names[other.pk] == "someone"
    assert "Renamed user" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_admin_says_a_case_variant_rename_is_taken_instead_of_failing(admin_client):
    taken = get_user_model().objects.create_user("RaceName0")
    other = get_user_model().objects.create_user("someone")

    response = admin_client.post(
        f"/admin/auth/user/{other.pk}/change/",
        {"username": "racename0", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"},
    )

    assert response.status_code == 200  # the form again, with its error
    assert "unique whatever their case" in response.content.decode()
    other.refresh_from_db()
    assert other.username == "someone" and taken.username == "RaceName0"
