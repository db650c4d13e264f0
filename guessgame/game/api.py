"""The game's JSON: free draw's live guess (a PNG, never stored) and the one-page game's
calls (its state, a round's start, live guesses from strokes, the bell, the outcome).
Thin like the pages: read the request, call a service or selector, answer JSON; a refusal
(``guessgame.errors.Refusal``, raised here or below) is answered by ``guessgame.errors``."""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from guessgame.errors import Refusal, answers_json, rate_or_none
from guessgame.game import access, selectors, services, words
from guessgame.game.models import Drawing, Game, Round
from guessgame.inputs import parse_json
from inference.preprocess import MAX_BYTES

log = logging.getLogger(__name__)


def _api_rate(group: str, request: HttpRequest) -> str | None:
    """The live guess shares the API's rate (None = no limit)."""
    return rate_or_none(settings.API_RATE)


class TooManyGuesses(Refusal):
    status = 429

    def __init__(self) -> None:
        super().__init__("Too many guesses: please slow down a little.")


@answers_json
@require_POST
@ratelimit(key="ip", rate=_api_rate, method="POST", block=False)
def live_guess(request: HttpRequest) -> JsonResponse:
    """The model's guess for the canvas as it is now: never stored, never scored."""
    from inference.client import predict_png

    if getattr(request, "limited", False):
        raise TooManyGuesses()
    upload = request.FILES.get("image")
    if upload is None:
        raise Refusal("Send the drawing as a PNG file named 'image'.")
    if upload.size > MAX_BYTES:
        raise Refusal(f"The drawing is too large: the limit is {MAX_BYTES:,} bytes.", status=413)
    prediction = predict_png(upload.read())
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


def _game_state(game: Game, rows: list[services.RoundRow] | None = None) -> dict:
    """The game for its page: score, the rounds played so far, and the one to play
    (``rows``: its rounds with their drawings, when the caller has just read them)."""
    now = timezone.now()
    if rows is None:
        rows = services.rounds_with_drawings(game.pk)
    current = services.game_current_round(game=game, now=now, rows=rows)
    played = [
        {
            "number": r.number,
            "target": r.target,
            "points": r.points,
            "scored": r.scored,
            "recognised": r.points > 0,
        }
        for r, _ in rows
        if r.is_played and r.started_at is not None
    ]
    return {
        "game": {
            "id": game.pk,
            "score": game.score,
            "finished": game.is_finished,
            "pending": any(
                d is not None and d.prediction_status == Drawing.Prediction.PENDING for _, d in rows
            ),
            "summary_url": reverse("game_summary", args=[game.pk]),
        },
        "played": played,
        "round": None if current is None else _round_state(current, now=now),
    }


@answers_json
@never_cache
@require_GET
@login_required
def game_state(request: HttpRequest, game_id: int) -> JsonResponse:
    return JsonResponse(_game_state(access.own_game(request, game_id)))


@answers_json
@require_POST
@login_required
def round_begin(request: HttpRequest, round_id: int) -> JsonResponse:
    """Start the round's clock (the player tapped Start) and reveal its target."""
    round = services.round_begin(round=access.own_round(request, round_id), player=request.user)
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
        raise Refusal(
            f"The strokes are too large: the limit is {STROKES_MAX_BYTES:,} bytes.", status=413
        )
    if request.content_type != "application/json":
        raise Refusal(
            'Send the drawing as JSON, {"strokes": [[[x...], [y...], [t ms...]], ...]}: '
            "the server draws your strokes itself and takes no picture.",
            status=415,
        )
    try:
        body = parse_json(
            request.body, what="The strokes", max_bytes=STROKES_MAX_BYTES, max_depth=STROKES_DEPTH
        )
    except RequestDataTooBig as exc:
        raise Refusal("The strokes are too large to store.", status=413) from exc
    if not isinstance(body, dict) or "strokes" not in body:
        raise Refusal('Send the drawing as {"strokes": [...]}.')
    return body["strokes"]


def _points(guess: services.RoundGuess) -> dict:
    """The recognised round's points, the game's total, where the points came from, and
    the game as it goes on (``next``: what ``state.json`` would answer now), so the page
    shows the next card without asking for it."""
    score = guess.score
    breakdown = {"base": score.base, "speed": score.speed, "streak": score.streak}
    return {
        "points": score.total,
        "game_score": guess.game.score,
        "breakdown": breakdown,
        "next": _game_state(guess.game, guess.rows),
    }


@answers_json
@require_POST
@login_required
@ratelimit(key="user_or_ip", rate=_api_rate, method="POST", block=False)
def round_guess(request: HttpRequest, round_id: int) -> JsonResponse:
    """The model's live guess of the round's drawing; names the target, ends the round."""
    if getattr(request, "limited", False):
        raise TooManyGuesses()
    guess = services.round_guess(
        round=access.own_round(request, round_id), player=request.user,
        strokes=_read_strokes(request),
    )  # fmt: skip
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


@answers_json
@require_POST
@login_required
def round_submit(request: HttpRequest, round_id: int) -> JsonResponse:
    """End the round with its last drawing (the bell, or the player is done); the worker
    scores it. An empty canvas ends the round with no points."""
    round = access.own_round(request, round_id)
    result_url = reverse("round_result_json", args=[round.pk])
    try:
        drawing = services.round_submit(
            round=round, player=request.user, strokes=_read_strokes(request)
        )
    except services.AlreadySubmitted as exc:
        raise services.AlreadySubmitted(str(exc), fields={"result_url": result_url}) from exc
    if drawing is None:
        return JsonResponse({"drawing": None, "late": False, "result_url": result_url})
    return JsonResponse(
        {"drawing": drawing.pk, "late": drawing.late, "result_url": result_url}, status=201
    )


def round_outcome_json(round: Round) -> dict:
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


@answers_json
@never_cache
@require_GET
@login_required
def round_result_json(request: HttpRequest, round_id: int) -> JsonResponse:
    return JsonResponse(round_outcome_json(access.revealed_round(request, round_id)))
