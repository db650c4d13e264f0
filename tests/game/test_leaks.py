"""No target reaches the browser before its round starts.

Each digit comes once per game, so knowing the targets ahead (or all but one) is
knowing what to draw before the clock runs. The summary of an unfinished game listed
all ten targets in order, and a future round's result.json gave its target: these tests
ask by the URLs a script would, so they fail on that code.
"""

from __future__ import annotations

import pytest

from guessgame.game import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def round_one_running(client, player):
    client.force_login(player)
    game = services.game_start(player=player)
    services.round_start(round=game.rounds.get(number=1))
    return game


def test_the_summary_of_an_unfinished_game_names_no_round_not_yet_played(client, round_one_running):
    game = round_one_running

    html = client.get(f"/games/{game.pk}").content.decode()

    assert html.count('class="round-tile') == 0  # round 1 is still being drawn
    assert "Target" not in html


def test_a_round_not_yet_started_has_no_result_to_read(client, round_one_running):
    game = round_one_running
    for round in game.rounds.filter(number__gt=1):
        assert client.get(f"/rounds/{round.pk}/result.json").status_code == 404
        assert client.get(f"/rounds/{round.pk}/result").status_code == 404
