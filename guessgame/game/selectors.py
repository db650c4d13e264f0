"""Reads that need care: the leaderboard, a player's rank, a player's statistics, a
round's outcome.

The leaderboard is computed from the stored games every time, so it cannot drift from
them: each player's best finished game in the period, ties to the game finished first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Avg, Count, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from guessgame.game import constants, words
from guessgame.game.models import Drawing, Game, Round
from guessgame.game.services import game_round_scores

PERIODS = {"all": "All time", "week": "This week", "today": "Today"}
PAGE_SIZE = 20


def period_start(period: str, *, now: datetime | None = None) -> datetime | None:
    """Start of "today" (midnight) or "this week" (Monday midnight), server time zone."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    if period == "all":
        return None
    now = timezone.localtime(now or timezone.now())
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        return midnight
    return midnight - timedelta(days=midnight.weekday())


def _finished_games(period: str, now: datetime | None = None) -> QuerySet[Game]:
    """Finished games of players who signed up: guests stay off the leaderboard."""
    games = Game.objects.filter(finished_at__isnull=False, player__guest__isnull=True)
    start = period_start(period, now=now)
    if start is not None:
        games = games.filter(finished_at__gte=start)
    return games


LEADERBOARD_ORDER = ("-score", "finished_at", "pk")


def best_games(*, period: str = "all", now: datetime | None = None) -> QuerySet[Game]:
    """Each player's best finished game in the period, best first, ties to the earlier."""
    games = _finished_games(period, now)
    best_of_player = games.filter(player=OuterRef("pk")).order_by(*LEADERBOARD_ORDER)
    best_ids = (
        get_user_model()
        .objects.filter(guest__isnull=True)
        .annotate(best_game=Subquery(best_of_player.values("pk")[:1]))
        .filter(best_game__isnull=False)
        .values("best_game")
    )
    return (
        Game.objects.filter(pk__in=best_ids).select_related("player").order_by(*LEADERBOARD_ORDER)
    )


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    game: Game
    is_viewer: bool


def leaderboard(
    *,
    period: str = "all",
    page: int | str = 1,
    viewer: AbstractBaseUser | None = None,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> tuple[Page, list[LeaderboardRow]]:
    """One page of the leaderboard: rows with their rank and the viewer's own marked."""
    paginator = Paginator(best_games(period=period, now=now), page_size)
    current = paginator.get_page(page)
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else None
    rows = [
        LeaderboardRow(
            rank=current.start_index() + offset, game=game, is_viewer=game.player_id == viewer_id
        )
        for offset, game in enumerate(current.object_list)
    ]
    return current, rows


def player_rank(
    *, player: AbstractBaseUser, period: str = "all", now: datetime | None = None
) -> int | None:
    """The player's place on the leaderboard (1 = first), or None without a finished game."""
    mine = _finished_games(period, now).filter(player=player).order_by(*LEADERBOARD_ORDER).first()
    if mine is None:
        return None
    ahead = best_games(period=period, now=now).filter(
        Q(score__gt=mine.score)
        | Q(score=mine.score, finished_at__lt=mine.finished_at)
        | Q(score=mine.score, finished_at=mine.finished_at, pk__lt=mine.pk)
    )
    return ahead.count() + 1


def leaderboard_page_of(
    *, player: AbstractBaseUser, period: str = "all", page_size: int = PAGE_SIZE
) -> int | None:
    rank = player_rank(player=player, period=period)
    return None if rank is None else (rank - 1) // page_size + 1


@dataclass(frozen=True)
class DigitStat:
    digit: int
    drawn: int
    recognised: int

    @property
    def rate(self) -> float | None:
        return self.recognised / self.drawn if self.drawn else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(100 * self.rate)


@dataclass(frozen=True)
class ProfileStats:
    games_played: int
    best: int | None
    average: float | None
    rank: int | None
    digits: list[DigitStat]
    recent_games: list[Game]
    unfinished: Game | None


def profile_stats(*, player: AbstractBaseUser, recent: int = 10) -> ProfileStats:
    """Games played, best and average score, how often the model read each digit."""
    finished = Game.objects.filter(player=player, finished_at__isnull=False)
    totals = finished.aggregate(played=Count("pk"), best=Max("score"), average=Avg("score"))
    predicted = Drawing.objects.guessed().filter(player=player)
    per_digit = {
        row["truth"]: row
        for row in predicted.with_correct()
        .values("truth")
        .annotate(drawn=Count("pk"), recognised=Sum("correct"))
        .order_by()
    }
    digits = []
    for digit in range(10):
        row = per_digit.get(digit)
        digits.append(
            DigitStat(
                digit=digit,
                drawn=row["drawn"] if row else 0,
                recognised=row["recognised"] if row else 0,
            )
        )
    return ProfileStats(
        games_played=totals["played"],
        best=totals["best"],
        average=totals["average"],
        rank=player_rank(player=player),
        digits=digits,
        recent_games=list(finished.order_by("-finished_at")[:recent]),
        unfinished=Game.objects.filter(player=player, finished_at__isnull=True)
        .order_by("-started_at")
        .first(),
    )


@dataclass(frozen=True)
class RoundOutcome:
    """What the result page shows and the game page asks for after the bell.

    ``status`` is the drawing's prediction status ("pending", "done", "failed"), or
    "empty" (the round ended with an empty canvas), "timeout" (the clock ran out with no
    drawing), "playing". A drawing the model calls "not a digit" has ``not_digit`` true,
    ``digit`` None and ``message`` the sentence the page shows instead of a digit.

    While the drawing waits for the model, ``model_busy`` turns true after
    MODEL_BUSY_SECONDS: no worker answered yet, and the page says so plainly. Once
    predicted, ``earlier_pending`` is true while an earlier round still waits: this
    round's streak bonus is counted when that one is scored, so the page keeps asking.
    """

    round: int
    target: int
    scored: bool
    points: int
    game_score: int
    game_finished: bool
    is_last: bool
    status: str
    model_busy: bool
    late: bool
    drawing_id: int | None
    earlier_pending: bool = False
    digit: int | None = None
    not_digit: bool = False
    message: str | None = None
    confidence: float | None = None
    probabilities: list[float] | None = None
    recognised: bool = False
    breakdown: dict[str, int] | None = None
    """Where the points came from (base, speed, streak), when the stored points are the
    ones the scoring rules give (a staff re-prediction keeps the points as they were)."""


def round_outcome(*, round: Round, now: datetime | None = None) -> RoundOutcome:
    drawing = Drawing.objects.filter(round=round).first()
    game = round.game
    is_last = game.is_finished or not game.rounds.filter(number__gt=round.number).exists()
    waited = ((now or timezone.now()) - drawing.created_at).total_seconds() if drawing else 0.0
    pending = drawing is not None and drawing.prediction_status == Drawing.Prediction.PENDING
    if drawing is not None:
        status = drawing.prediction_status
    elif round.scored and round.submitted_at is not None:
        status = "empty"
    else:
        status = "timeout" if round.scored else "playing"
    common = {
        "round": round.number,
        "target": round.target,
        "scored": round.scored,
        "points": round.points,
        "game_score": game.score,
        "game_finished": game.is_finished,
        "is_last": is_last,
        "status": status,
        "model_busy": pending and waited >= constants.MODEL_BUSY_SECONDS,
        "late": bool(drawing and drawing.late),
        "drawing_id": drawing.pk if drawing else None,
    }
    if drawing is None or drawing.prediction_status != Drawing.Prediction.DONE:
        return RoundOutcome(**common)
    result = game_round_scores(game=game)[round.pk]
    breakdown = None
    if result.total == round.points and result.recognised:
        breakdown = {"base": result.base, "speed": result.speed, "streak": result.streak}
    return RoundOutcome(
        **common,
        digit=drawing.predicted_digit,
        not_digit=drawing.not_digit,
        message=words.NOT_A_DIGIT if drawing.not_digit else None,
        confidence=drawing.confidence,
        probabilities=drawing.probabilities,
        recognised=round.points > 0,
        earlier_pending=Drawing.objects.pending_prediction()
        .filter(round__game=game, round__number__lt=round.number)
        .exists(),
        breakdown=breakdown,
    )
