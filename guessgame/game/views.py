"""The game's pages. Thin: read the request, call a service or selector, render (the
JSON the pages call is in ``api.py``, who may open what in ``access.py``)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from guessgame import errors
from guessgame.errors import rate_or_none
from guessgame.game import access, api, constants, scoring, selectors, services
from guessgame.game.models import Drawing, Game, Round, is_guest

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Pages anyone may see
# ---------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    _, top = selectors.leaderboard(period="all", page=1, viewer=request.user, page_size=5)
    unfinished = None
    if request.user.is_authenticated:
        unfinished = (
            Game.objects.filter(player=request.user, finished_at__isnull=True)
            .order_by("-started_at")
            .first()
        )
    return render(request, "game/home.html", {"top": top, "unfinished": unfinished})


@require_GET
def scoring_rules(request: HttpRequest) -> HttpResponse:
    example_seconds = 6
    example = scoring.score_round(
        target=7, predicted=7, confidence=0.9, seconds=example_seconds, streak=2
    )
    return render(
        request,
        "game/scoring.html",
        {
            "rules": scoring,
            "example": example,
            "example_seconds": example_seconds,
            "abandoned_seconds": round(constants.ABANDONED_AFTER.total_seconds()),
            "threshold_percent": round(constants.SCORE_THRESHOLD * 100),
            "max_streak": scoring.STREAK_POINTS * scoring.STREAK_CAP,
        },
    )


@require_GET
def free_draw(request: HttpRequest) -> HttpResponse:
    return render(request, "game/free_draw.html")


@require_GET
def leaderboard(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "all")
    if period not in selectors.PERIODS:
        period = "all"
    page, rows = selectors.leaderboard(
        period=period, page=request.GET.get("page", 1), viewer=request.user
    )
    my_rank = my_page = None
    if request.user.is_authenticated:
        my_rank = selectors.player_rank(player=request.user, period=period)
        if my_rank is not None:
            my_page = (my_rank - 1) // selectors.PAGE_SIZE + 1
    return render(
        request,
        "game/leaderboard.html",
        {
            "page": page,
            "rows": rows,
            "period": period,
            "periods": selectors.PERIODS,
            "my_rank": my_rank,
            "my_page": my_page,
        },
    )


@require_GET
def profile(request: HttpRequest, username: str) -> HttpResponse:
    player = get_object_or_404(
        get_user_model(), username=username, is_active=True, guest__isnull=True
    )
    stats = selectors.profile_stats(player=player)
    return render(
        request,
        "game/profile.html",
        {"player": player, "stats": stats, "is_me": request.user == player},
    )


@login_required
def my_profile(request: HttpRequest) -> HttpResponse:
    if is_guest(request.user):
        return redirect("signup")
    return redirect("profile", username=request.user.get_username())


@require_GET
@login_required
def my_drawings(request: HttpRequest) -> HttpResponse:
    """All of the player's drawings as a zip (ndjson + the PNGs), to take away."""
    archive = services.player_drawings_archive(player=request.user)
    response = HttpResponse(archive, content_type="application/zip")
    name = f"guessgame-{request.user.pk}-drawings.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------
# A scored game: one page, driven by JSON
# ---------------------------------------------------------------------------


def _guest_rate(group: str, request: HttpRequest) -> str | None:
    return rate_or_none(settings.GUEST_RATE)


@require_POST
@ratelimit(key="ip", rate=_guest_rate, method="POST", block=False)
def game_new(request: HttpRequest) -> HttpResponse:
    """A new game; someone not signed in plays it as a guest, no form to fill in."""
    if not request.user.is_authenticated:
        if getattr(request, "limited", False):
            return errors.rate_limited(request)
        guest = services.guest_create()
        login(request, guest, backend="django.contrib.auth.backends.ModelBackend")
    game = services.game_start(player=request.user)
    return redirect("play", game_id=game.pk)


@never_cache
@require_GET
@login_required
def play(request: HttpRequest, game_id: int) -> HttpResponse:
    """The game's one page. Showing it starts nothing: the player starts each round."""
    game = access.own_game(request, game_id)
    if services.game_current_round(game=game) is None:
        return redirect("game_summary", game_id=game.pk)
    numbers = range(1, constants.ROUNDS_PER_GAME + 1)
    return render(request, "game/play.html", {"game": game, "round_numbers": numbers})


@never_cache
@require_GET
@login_required
def round_result(request: HttpRequest, round_id: int) -> HttpResponse:
    return _render_result(request, access.revealed_round(request, round_id))


def _render_result(request: HttpRequest, round: Round, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "game/round_result.html",
        {
            "round": round,
            "game": round.game,
            "outcome": api.round_outcome_json(round),
            "drawing": Drawing.objects.filter(round=round).first(),
            "flags": [c for c in Drawing.Flag.choices if c[0]],
        },
        status=status,
    )


@require_POST
@login_required
def round_flag(request: HttpRequest, round_id: int) -> HttpResponse:
    round = access.revealed_round(request, round_id)
    drawing = Drawing.objects.filter(round=round).first()
    if drawing is None:
        raise Http404("This round has no drawing to flag.")
    try:
        services.round_flag(drawing=drawing, player=request.user, flag=request.POST.get("flag", ""))
    except services.GameError as exc:
        # The page again with the error, as for any form sent with a mistake.
        messages.error(request, str(exc))
        return _render_result(request, round, status=exc.status)
    messages.success(request, "Thank you: a member of staff will look at this drawing.")
    return HttpResponseRedirect(reverse("round_result", args=[round.pk]) + "#flag")


@never_cache
@require_GET
@login_required
def game_summary(request: HttpRequest, game_id: int) -> HttpResponse:
    """The gallery: every drawing, what the model saw, its top guesses and the points.

    An unfinished game shows only the rounds played: a later round's target is unknown
    until the player starts it.
    """
    game = access.own_game(request, game_id)
    playable = False
    if game.finished_at is None:
        playable = services.game_current_round(game=game) is not None
        game.refresh_from_db()
    rounds = list(game.rounds.order_by("number"))
    if not game.is_finished:
        rounds = [r for r in rounds if r.is_played and r.started_at is not None]
    drawings = {d.round_id: d for d in Drawing.objects.filter(round__game=game)}
    rows = [(r, drawings.get(r.pk)) for r in rounds]
    pending = any(d is not None and d.prediction_status == "pending" for _, d in rows)
    guest = is_guest(request.user)
    return render(
        request,
        "game/summary.html",
        {
            "game": game,
            "rows": rows,
            "pending": pending,
            "playable": playable,
            "guest": guest,
            "rank": selectors.player_rank(player=request.user)
            if game.is_finished and not guest
            else None,
        },
    )


@require_GET
@login_required
def drawing_png(request: HttpRequest, drawing_id: int) -> HttpResponse:
    """A stored drawing, for its player and for staff only."""
    return _private_png(bytes(access.own_drawing(request, drawing_id).image_png))


@require_GET
@login_required
def drawing_seen_png(request: HttpRequest, drawing_id: int) -> HttpResponse:
    """What the model saw of a stored drawing: its 28x28 input, white ink on black."""
    png = access.own_drawing(request, drawing_id).pixels_png()
    if png is None:
        raise Http404("The model has not seen this drawing.")
    return _private_png(png)


def _private_png(png: bytes) -> HttpResponse:
    """A player's picture: the browser may keep it an hour, no shared cache may."""
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response
