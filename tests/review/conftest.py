"""Fixtures for the staff review tests (the factories are in ``tests.factories``)."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture
def player(db):
    return UserFactory()


@pytest.fixture
def player_client(client, player):
    client.force_login(player)
    return client
