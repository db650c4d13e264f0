"""Fixtures for the game's tests: games, and the prediction queue mocked."""

from __future__ import annotations

from unittest import mock

import pytest

from guessgame.game import services
from guessgame.game.models import Game


@pytest.fixture
def queued():
    """The prediction queue, mocked: unit tests check what was queued, not Celery."""
    with mock.patch("guessgame.game.tasks.predict_drawing.delay") as delay:
        yield delay


@pytest.fixture
def game(player) -> Game:
    return services.game_start(player=player)
