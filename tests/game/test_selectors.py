from datetime import timedelta

import pytest
from django.utils import timezone

from guessgame.game import selectors
from guessgame.game.models import Game
from tests.factories import finish_game

pytestmark = pytest.mark.django_db


def game_with(player, score: int, finished_at) -> Game:
    """A finished game with a given total, as the leaderboard sees it."""
    return Game.objects.create(
        player=player, score=score, started_at=finished_at - timedelta(minutes=3),
        finished_at=finished_at,
    )  # fmt: skip


def test_the_leaderboard_shows_each_players_best_game_once(make_player):
    now = timezone.now()
    ada, bob = make_player("ada"), make_player("bob")
    game_with(ada, 300, now - timedelta(hours=3))
    best_ada = game_with(ada, 900, now - timedelta(hours=2))
    best_bob = game_with(bob, 500, now - timedelta(hours=1))
    _, rows = selectors.leaderboard(period="all")
    assert [(r.rank, r.game) for r in rows] == [(1, best_ada), (2, best_bob)]


def test_equal_scores_go_to_the_earlier_game(make_player):
    now = timezone.now()
    early, late = make_player("early"), make_player("late")
    game_with(late, 700, now - timedelta(minutes=1))
    game_with(early, 700, now - timedelta(minutes=30))
    _, rows = selectors.leaderboard(period="all")
    assert [r.game.player.username for r in rows] == ["early", "late"]
    assert selectors.player_rank(player=early) == 1
    assert selectors.player_rank(player=late) == 2


def test_a_players_own_equal_scores_count_their_earlier_game(make_player):
    now = timezone.now()
    ada = make_player("ada")
    first = game_with(ada, 400, now - timedelta(hours=2))
    game_with(ada, 400, now - timedelta(hours=1))
    _, rows = selectors.leaderboard(period="all")
    assert [r.game for r in rows] == [first]


def test_unfinished_games_are_not_ranked(make_player):
    ada = make_player("ada")
    Game.objects.create(player=ada, score=5000)
    _, rows = selectors.leaderboard(period="all")
    assert rows == []
    assert selectors.player_rank(player=ada) is None


def test_today_and_this_week_only_count_games_finished_then(make_player):
    now = timezone.now()
    # Today, whatever the hour: five minutes ago, or midnight when the test runs at 00:02.
    earlier_today = max(now - timedelta(minutes=5), selectors.period_start("today", now=now))
    ada, bob = make_player("ada"), make_player("bob")
    game_with(ada, 900, now - timedelta(days=30))
    game_with(ada, 100, earlier_today)
    game_with(bob, 200, earlier_today)
    _, today = selectors.leaderboard(period="today")
    assert [(r.game.player.username, r.game.score) for r in today] == [("bob", 200), ("ada", 100)]
    _, all_time = selectors.leaderboard(period="all")
    assert [r.game.player.username for r in all_time] == ["ada", "bob"]
    assert selectors.player_rank(player=ada, period="today") == 2
    assert selectors.player_rank(player=ada, period="all") == 1


def test_the_week_starts_on_monday():
    wednesday = timezone.make_aware(timezone.datetime(2026, 11, 25, 15, 30))
    start = selectors.period_start("week", now=wednesday)
    assert (start.weekday(), start.hour, start.day) == (0, 0, 23)


def test_an_unknown_period_is_refused():
    with pytest.raises(ValueError):
        selectors.period_start("forever")


def test_the_leaderboard_is_paginated_and_marks_the_viewer(make_player):
    now = timezone.now()
    players = [make_player(f"p{i:02d}") for i in range(25)]
    for i, player in enumerate(players):
        game_with(player, 1000 - i, now - timedelta(minutes=i))
    page, rows = selectors.leaderboard(period="all", page=2, viewer=players[21])
    assert page.number == 2 and page.paginator.num_pages == 2
    assert [r.rank for r in rows] == list(range(21, 26))
    assert [r.is_viewer for r in rows] == [False, True, False, False, False]
    assert selectors.player_rank(player=players[21]) == 22


def test_a_bad_page_number_shows_a_page_instead_of_failing(make_player):
    _, rows = selectors.leaderboard(period="all", page="lots")
    assert rows == []


def test_profile_stats_count_games_and_how_often_each_digit_was_read(player):
    finish_game(player, correct_rounds=10, confidence=0.95)
    second = finish_game(player, correct_rounds=0)
    stats = selectors.profile_stats(player=player)
    assert stats.games_played == 2
    assert stats.best > 0 and stats.best > second.score
    assert stats.average == pytest.approx((stats.best + second.score) / 2)
    assert stats.rank == 1
    assert [d.drawn for d in stats.digits] == [2] * 10
    assert [d.percent for d in stats.digits] == [50] * 10
    assert stats.recent_games[0] == second


def test_profile_stats_of_a_new_player_are_empty(player):
    stats = selectors.profile_stats(player=player)
    assert stats.games_played == 0 and stats.best is None and stats.average is None
    assert all(d.rate is None for d in stats.digits)
