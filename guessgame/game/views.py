"""Thin views: read the request, call a service or selector, render or answer JSON."""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from guessgame import errors
from guessgame.errors import json_error, rate_or_none
from guessgame.game import constants, scoring, selectors, services, words
from guessgame.game.models import Drawing, Game, Round, is_guest
from guessgame.inputs import BadInput, parse_json
from inference.preprocess import MAX_BYTES, DrawingError

log = logging.getLogger(__name__)


def _api_rate(group: str, request: HttpRequest) -> str | None:
    """The live guess shares the API's rate (None = no limit)."""
    return rate_or_none(settings.API_RATE)


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


@require_POST
@ratelimit(key="ip", rate=_api_rate, method="POST", block=False)
def live_guess(request: HttpRequest) -> JsonResponse:
    """The model's guess for the canvas as it is now: never stored, never scored."""
    from inference.client import PredictionFailed, WorkerUnavailable, predict_png

    if getattr(request, "limited", False):
        return json_error("Too many guesses: please slow down a little.", 429)
    upload = request.FILES.get("image")
    if upload is None:
        return json_error("Send the drawing as a PNG file named 'image'.", 400)
    if upload.size > MAX_BYTES:
        return json_error(f"The drawing is too large: the limit is {MAX_BYTES:,} bytes.", 413)
    try:
        prediction = predict_png(upload.read())
    except DrawingError as exc:
        return json_error(str(exc), exc.status)
    except (WorkerUnavailable, PredictionFailed):
        return json_error("The model is busy right now; your guess will come back shortly.", 503)
    if prediction.blank:
        log.info("event=live_guess blank=true")
        return JsonResponse({"blank": True, "message": "Draw something first."})
    log.info(
        "event=live_guess digit=%s not_digit=%s confidence=%.2f model=%s",
        prediction.digit,
        prediction.not_digit,
        prediction.confidence,
        prediction.model_version,
    )
    answer = {
        "blank": False,
        "digit": prediction.digit,
        "not_digit": prediction.not_digit,
        "confidence": prediction.confidence,
        "probabilities": [float(p) for p in prediction.probabilities],
        "model_version": prediction.model_version,
    }
    if prediction.not_digit:
        answer["message"] = words.NOT_A_DIGIT
    return JsonResponse(answer)


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


def _own_game(request: HttpRequest, game_id: int) -> Game:
    return get_object_or_404(Game, pk=game_id, player=request.user)


def _own_round(request: HttpRequest, round_id: int) -> Round:
    return get_object_or_404(
        Round.objects.select_related("game"), pk=round_id, game__player=request.user
    )


def _revealed_round(request: HttpRequest, round_id: int) -> Round:
    """The player's round, if its target may be seen: a round not started is a 404."""
    round = _own_round(request, round_id)
    if not round.is_revealed:
        raise Http404("No such round yet.")
    return round


@never_cache
@require_GET
@login_required
def play(request: HttpRequest, game_id: int) -> HttpResponse:
    """The game's one page. Showing it starts nothing: the player starts each round."""
    game = _own_game(request, game_id)
    if services.game_current_round(game=game) is None:
        return redirect("game_summary", game_id=game.pk)
    numbers = range(1, constants.ROUNDS_PER_GAME + 1)
    return render(request, "game/play.html", {"game": game, "round_numbers": numbers})


def _round_state(current: Round, *, now) -> dict:
    """A round as the page needs it; its target only once its clock runs."""
    state = {
        "id": current.pk,
        "number": current.number,
        "started": current.started_at is not None,
        "seconds_left": round(current.seconds_left(now), 3),
        "start_url": reverse("round_begin", args=[current.pk]),
        "guess_url": reverse("round_guess", args=[current.pk]),
        "submit_url": reverse("round_submit", args=[current.pk]),
        "result_url": reverse("round_result_json", args=[current.pk]),
    }
    if current.started_at is not None:
        state["target"] = current.target
    return state


def _game_state(game: Game) -> dict:
    """The game for its page: score, the rounds played so far, and the one to play."""
    now = timezone.now()
    current = services.game_current_round(game=game, now=now)
    game.refresh_from_db()
    drawings = {
        d.round_id: d
        for d in Drawing.objects.filter(round__game=game).only(
            "round_id", "prediction_status", "predicted_digit", "not_digit"
        )
    }
    played = [
        {
            "number": r.number,
            "target": r.target,
            "points": r.points,
            "scored": r.scored,
            "recognised": r.points > 0,
        }
        for r in game.rounds.order_by("number")
        if r.is_played and r.started_at is not None
    ]
    return {
        "game": {
            "id": game.pk,
            "score": game.score,
            "finished": game.is_finished,
            "pending": any(
                d.prediction_status == Drawing.Prediction.PENDING for d in drawings.values()
            ),
            "summary_url": reverse("game_summary", args=[game.pk]),
        },
        "played": played,
        "round": None if current is None else _round_state(current, now=now),
    }


@never_cache
@require_GET
@login_required
def game_state(request: HttpRequest, game_id: int) -> JsonResponse:
    return JsonResponse(_game_state(_own_game(request, game_id)))


@require_POST
@login_required
def round_begin(request: HttpRequest, round_id: int) -> JsonResponse:
    """Start the round's clock (the player tapped Start) and reveal its target."""
    round = _own_round(request, round_id)
    try:
        round = services.round_begin(round=round, player=request.user)
    except services.GameError as exc:
        return json_error(str(exc), exc.status)
    return JsonResponse(_round_state(round, now=timezone.now()))


STROKES_MAX_BYTES = 512 * 1024
"""A round's strokes as JSON, in bytes: MAX_POINTS points of three numbers fit in 200 KB."""

STROKES_DEPTH = 4
"""``{"strokes": [[[x...], [y...], [t...]], ...]}``: the body, strokes, axes, numbers."""


def _read_strokes(request: HttpRequest) -> object:
    """The strokes of ``{"strokes": [[[x...], [y...], [t...]], ...]}``, the JSON body the
    game page sends. A picture is never taken: the server draws the strokes itself."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > STROKES_MAX_BYTES:
        raise services.GameError(
            f"The strokes are too large: the limit is {STROKES_MAX_BYTES:,} bytes.", status=413
        )
    if request.content_type != "application/json":
        raise services.GameError(
            'Send the drawing as JSON, {"strokes": [[[x...], [y...], [t ms...]], ...]}: '
            "the server draws your strokes itself and takes no picture.",
            status=415,
        )
    try:
        body = parse_json(
            request.body, what="The strokes", max_bytes=STROKES_MAX_BYTES, max_depth=STROKES_DEPTH
        )
    except RequestDataTooBig as exc:
        raise services.GameError("The strokes are too large to store.", status=413) from exc
    except BadInput as exc:
        raise services.GameError(str(exc), status=exc.status) from exc
    if not isinstance(body, dict) or "strokes" not in body:
        raise services.GameError('Send the drawing as {"strokes": [...]}.')
    return body["strokes"]


def _points(guess: services.RoundGuess) -> dict:
    """The recognised round's points, the game's total, and where the points came from."""
    score = guess.score
    breakdown = {"base": score.base, "speed": score.speed, "streak": score.streak}
    return {"points": score.total, "game_score": guess.game_score, "breakdown": breakdown}


@require_POST
@login_required
@ratelimit(key="user_or_ip", rate=_api_rate, method="POST", block=False)
def round_guess(request: HttpRequest, round_id: int) -> JsonResponse:
    """The model's live guess of the round's drawing; names the target, ends the round."""
    from inference.client import PredictionFailed, WorkerUnavailable

    if getattr(request, "limited", False):
        return json_error("Too many guesses: please slow down a little.", 429)
    try:
        guess = services.round_guess(
            round=_own_round(request, round_id), player=request.user,
            strokes=_read_strokes(request),
        )  # fmt: skip
    except (services.GameError, DrawingError) as exc:
        return json_error(str(exc), exc.status)
    except (WorkerUnavailable, PredictionFailed):
        return json_error("The model is busy right now; asking again in a moment.", 503)
    prediction = guess.prediction
    answer = {
        "blank": prediction.blank,
        "digit": prediction.digit,
        "not_digit": prediction.not_digit,
        "confidence": prediction.confidence,
        "probabilities": [float(p) for p in prediction.probabilities],
        "recognised": guess.recognised,
        "seconds_left": round(guess.round.seconds_left(), 3),
    }
    if prediction.not_digit:
        answer["message"] = words.NOT_A_DIGIT
    if guess.recognised:
        answer.update(_points(guess))
    return JsonResponse(answer)


@require_POST
@login_required
def round_submit(request: HttpRequest, round_id: int) -> JsonResponse:
    """End the round with its last drawing (the bell, or the player is done); the worker
    scores it. An empty canvas ends the round with no points."""
    round = _own_round(request, round_id)
    result_url = reverse("round_result_json", args=[round.pk])
    try:
        drawing = services.round_submit(
            round=round, player=request.user, strokes=_read_strokes(request)
        )
    except services.AlreadySubmitted as exc:
        return JsonResponse({"error": str(exc), "result_url": result_url}, status=exc.status)
    except (services.GameError, DrawingError) as exc:
        return json_error(str(exc), exc.status)
    if drawing is None:
        return JsonResponse({"drawing": None, "late": False, "result_url": result_url})
    return JsonResponse(
        {"drawing": drawing.pk, "late": drawing.late, "result_url": result_url}, status=201
    )


def _round_outcome(round: Round) -> dict:
    """The round's outcome as the result page and the game page read it (JSON)."""
    outcome = selectors.round_outcome(round=round)
    answer = dataclasses.asdict(outcome)
    del answer["drawing_id"]
    answer["next_url"] = reverse(
        "game_summary" if outcome.is_last else "play", args=[round.game_id]
    )
    answer["image_url"] = (
        reverse("drawing_png", args=[outcome.drawing_id]) if outcome.drawing_id else None
    )
    return answer


@never_cache
@require_GET
@login_required
def round_result(request: HttpRequest, round_id: int) -> HttpResponse:
    return _render_result(request, _revealed_round(request, round_id))


def _render_result(request: HttpRequest, round: Round, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "game/round_result.html",
        {
            "round": round,
            "game": round.game,
            "outcome": _round_outcome(round),
            "drawing": Drawing.objects.filter(round=round).first(),
            "flags": [c for c in Drawing.Flag.choices if c[0]],
        },
        status=status,
    )


@never_cache
@require_GET
@login_required
def round_result_json(request: HttpRequest, round_id: int) -> JsonResponse:
    return JsonResponse(_round_outcome(_revealed_round(request, round_id)))


@require_POST
@login_required
def round_flag(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _revealed_round(request, round_id)
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
    game = _own_game(request, game_id)
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
    drawing = get_object_or_404(Drawing, pk=drawing_id)
    if drawing.player_id != request.user.pk and not request.user.is_staff:
        raise Http404("No such drawing.")
    response = HttpResponse(bytes(drawing.image_png), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
@login_required
def drawing_seen_png(request: HttpRequest, drawing_id: int) -> HttpResponse:
    """What the model saw of a stored drawing: its 28x28 input, white ink on black."""
    drawing = get_object_or_404(Drawing, pk=drawing_id)
    if drawing.player_id != request.user.pk and not request.user.is_staff:
        raise Http404("No such drawing.")
    png = drawing.pixels_png()
    if png is None:
        raise Http404("The model has not seen this drawing.")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response
