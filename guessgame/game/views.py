"""Thin views: read the request, call a service or selector, render or answer JSON."""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import IntegrityError, transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from guessgame.game import constants, scoring, selectors, services, words
from guessgame.game.forms import SignupForm
from guessgame.game.models import Drawing, Game, Round
from guessgame.inputs import BadInput, parse_json
from inference.preprocess import MAX_BYTES, DrawingError

log = logging.getLogger(__name__)


def _api_rate(group: str, request: HttpRequest) -> str | None:
    """The live guess shares the API's rate; "off" turns it off (None = no limit)."""
    return None if settings.API_RATE == "off" else settings.API_RATE


def _signup_rate(group: str, request: HttpRequest) -> str:
    return settings.SIGNUP_RATE


def _login_rate(group: str, request: HttpRequest) -> str | None:
    return None if settings.LOGIN_RATE == "off" else settings.LOGIN_RATE


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """django-ratelimit's RATELIMIT_VIEW: a friendly 429, JSON for the game's scripts."""
    if request.headers.get("Accept", "").startswith("application/json"):
        return _error("Too many requests: please wait a little and try again.", 429)
    return render(request, "429.html", status=429)


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
    example = scoring.score_round(target=7, predicted=7, confidence=0.9, seconds=6, streak=2)
    return render(
        request,
        "game/scoring.html",
        {
            "rules": scoring,
            "example": example,
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
        return _error("Too many guesses: please slow down a little.", 429)
    upload = request.FILES.get("image")
    if upload is None:
        return _error("Send the drawing as a PNG file named 'image'.", 400)
    if upload.size > MAX_BYTES:
        return _error(f"The drawing is too large: the limit is {MAX_BYTES:,} bytes.", 413)
    try:
        prediction = predict_png(upload.read())
    except DrawingError as exc:
        return _error(str(exc), exc.status)
    except (WorkerUnavailable, PredictionFailed):
        return _error("The model is busy right now; your guess will come back shortly.", 503)
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
    player = get_object_or_404(get_user_model(), username=username, is_active=True)
    stats = selectors.profile_stats(player=player)
    return render(
        request,
        "game/profile.html",
        {"player": player, "stats": stats, "is_me": request.user == player},
    )


@login_required
def my_profile(request: HttpRequest) -> HttpResponse:
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


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autofocus": True})
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password: nothing was deleted.")
        return password


@never_cache
@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    """Ask for the password, then delete the account with every drawing it made."""
    form = AccountDeleteForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_bound and form.is_valid():
        count = services.account_delete(player=request.user)
        logout(request)
        messages.success(
            request, f"Your account and its {count} drawing{'s' * (count != 1)} are deleted."
        )
        return redirect("home")
    drawings = Drawing.objects.filter(player=request.user).count()
    return render(
        request,
        "registration/account_delete.html",
        {"form": form, "drawings": drawings},
        status=_form_status(form),
    )


# ---------------------------------------------------------------------------
# A scored game
# ---------------------------------------------------------------------------


@require_POST
@login_required
def game_new(request: HttpRequest) -> HttpResponse:
    game = services.game_start(player=request.user)
    return redirect("play", game_id=game.pk)


def _own_game(request: HttpRequest, game_id: int) -> Game:
    return get_object_or_404(Game, pk=game_id, player=request.user)


def _own_round(request: HttpRequest, round_id: int) -> Round:
    return get_object_or_404(
        Round.objects.select_related("game"), pk=round_id, game__player=request.user
    )


@never_cache
@require_GET
@login_required
def play(request: HttpRequest, game_id: int) -> HttpResponse:
    """Show the current round and start its clock; a finished game goes to its summary."""
    game = _own_game(request, game_id)
    current = services.game_current_round(game=game)
    if current is None:
        return redirect("game_summary", game_id=game.pk)
    services.round_start(round=current)
    game.refresh_from_db(fields=["score"])
    return render(
        request,
        "game/play.html",
        {
            "game": game,
            "round": current,
            "seconds_left": round(current.seconds_left(), 2),
        },
    )


STROKES_MAX_BYTES = 512 * 1024
"""The strokes' JSON, in characters: MAX_POINTS points of three numbers fit in 200 KB."""

STROKES_DEPTH = 3
"""``[[[x...], [y...], [t...]], ...]``: strokes, their three axes, the numbers."""


def _read_submission(request: HttpRequest) -> tuple[bytes, object]:
    """The PNG and the decoded strokes of a round, sent as play.js sends them.

    That is multipart/form-data with a file named "image" and a JSON field "strokes".
    Anything else raises GameError with the status to answer (400, 413 or 415), so a
    malformed body is a clear JSON error, never Django's HTML page or a 500.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.REQUEST_MAX_BYTES:  # guessgame.body_limit refuses it first
        raise services.GameError(
            f"The drawing is too large: the limit is {MAX_BYTES:,} bytes.", status=413
        )
    if request.content_type != "multipart/form-data":
        raise services.GameError(
            "Send the drawing as multipart/form-data: a PNG file named 'image' and "
            "its 'strokes' as JSON.",
            status=415,
        )
    try:
        upload = request.FILES.get("image")
        raw_strokes = request.POST.get("strokes")
    except RequestDataTooBig as exc:
        raise services.GameError("The strokes are too large to store.", status=413) from exc
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent) as exc:
        raise services.GameError("The form data is malformed and cannot be read.") from exc
    if upload is None:
        raise services.GameError("Send the drawing as a PNG file named 'image'.")
    if upload.size > MAX_BYTES:
        raise services.GameError(
            f"The drawing is too large: the limit is {MAX_BYTES:,} bytes.", status=413
        )
    if raw_strokes is None:
        raise services.GameError("Send the drawing's strokes as JSON in a field named 'strokes'.")
    try:
        strokes = parse_json(
            raw_strokes, what="The strokes", max_bytes=STROKES_MAX_BYTES, max_depth=STROKES_DEPTH
        )
    except BadInput as exc:
        raise services.GameError(str(exc), status=exc.status) from exc
    return upload.read(), strokes


@require_POST
@login_required
def round_submit(request: HttpRequest, round_id: int) -> JsonResponse:
    """Store the drawing once (JSON answer for play.js); the worker scores it."""
    round = _own_round(request, round_id)
    result_url = reverse("round_result", args=[round.pk])
    try:
        png, strokes = _read_submission(request)
        drawing = services.round_submit(round=round, player=request.user, png=png, strokes=strokes)
    except services.AlreadySubmitted as exc:
        return JsonResponse({"error": str(exc), "result_url": result_url}, status=exc.status)
    except (services.GameError, DrawingError) as exc:
        return _error(str(exc), exc.status)
    return JsonResponse(
        {"drawing": drawing.pk, "late": drawing.late, "result_url": result_url}, status=201
    )


def _round_outcome(round: Round) -> dict:
    """What the result page shows and result.js polls for.

    A drawing the model calls "not a digit" has ``not_digit`` true, ``digit`` null and
    ``message`` the sentence the page shows instead of a digit.

    While the drawing waits for the model, ``model_busy`` turns true after
    MODEL_BUSY_SECONDS: no worker answered yet, and the page says so plainly. Once
    predicted, ``earlier_pending`` is true while an earlier round still waits: this
    round's streak bonus is counted when that one is scored, so the page keeps asking.
    """
    drawing = Drawing.objects.filter(round=round).first()
    game = round.game
    is_last = game.is_finished or not game.rounds.filter(number__gt=round.number).exists()
    waited = (timezone.now() - drawing.created_at).total_seconds() if drawing else 0.0
    pending = drawing is not None and drawing.prediction_status == Drawing.Prediction.PENDING
    outcome = {
        "round": round.number,
        "target": round.target,
        "scored": round.scored,
        "points": round.points,
        "game_score": game.score,
        "game_finished": game.is_finished,
        "next_url": reverse("game_summary" if is_last else "play", args=[game.pk]),
        "is_last": is_last,
        "status": "timeout" if drawing is None else drawing.prediction_status,
        "model_busy": pending and waited >= constants.MODEL_BUSY_SECONDS,
        "earlier_pending": False,
        "late": bool(drawing and drawing.late),
        "image_url": reverse("drawing_png", args=[drawing.pk]) if drawing else None,
        "digit": None,
        "not_digit": False,
        "message": None,
        "confidence": None,
        "probabilities": None,
        "recognised": False,
        "breakdown": None,
    }
    if drawing is not None and drawing.prediction_status == Drawing.Prediction.DONE:
        result = services.game_round_scores(game=game)[round.pk]
        outcome.update(
            digit=drawing.predicted_digit,
            not_digit=drawing.not_digit,
            message=words.NOT_A_DIGIT if drawing.not_digit else None,
            confidence=drawing.confidence,
            probabilities=drawing.probabilities,
            recognised=round.points > 0,
            earlier_pending=Drawing.objects.pending_prediction()
            .filter(round__game=game, round__number__lt=round.number)
            .exists(),
        )
        if result.total == round.points and result.recognised:
            outcome["breakdown"] = {
                "base": result.base,
                "confidence": result.confidence,
                "speed": result.speed,
                "streak": result.streak,
            }
    return outcome


@never_cache
@require_GET
@login_required
def round_result(request: HttpRequest, round_id: int) -> HttpResponse:
    return _render_result(request, _own_round(request, round_id))


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
    return JsonResponse(_round_outcome(_own_round(request, round_id)))


@require_POST
@login_required
def round_flag(request: HttpRequest, round_id: int) -> HttpResponse:
    round = _own_round(request, round_id)
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
    game = _own_game(request, game_id)
    if game.finished_at is None:
        services.game_current_round(game=game)  # times out a round whose clock ran out
        game.refresh_from_db()
    rounds = list(game.rounds.order_by("number"))
    drawings = {d.round_id: d for d in Drawing.objects.filter(round__game=game)}
    rows = [(r, drawings.get(r.pk)) for r in rounds]
    pending = any(d is not None and d.prediction_status == "pending" for _, d in rows)
    playable = any(not r.scored and drawings.get(r.pk) is None for r in rounds)
    return render(
        request,
        "game/summary.html",
        {
            "game": game,
            "rows": rows,
            "pending": pending,
            "playable": playable,
            "rank": selectors.player_rank(player=request.user) if game.is_finished else None,
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


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------


def _form_status(form: forms.Form) -> int:
    """400 for a form sent with errors (shown on the page again), 200 for a fresh one."""
    return 400 if form.is_bound and form.errors else 200


@ratelimit(key="ip", rate=_signup_rate, method="POST", block=False)
def signup(request: HttpRequest) -> HttpResponse:
    if getattr(request, "limited", False):
        return rate_limited(request)
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:
            # Another sign-up took the name (in some case) after clean_username looked:
            # the unique index on LOWER(username) refused this one.
            form.add_error("username", SignupForm.NAME_TAKEN)
            return render(request, "registration/signup.html", {"form": form}, status=400)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}! Ready for a game?")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form}, status=_form_status(form))


class InvalidFormIs400:
    """For Django's auth form views: a form sent with errors answers 400, errors shown."""

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LoginView(InvalidFormIs400, auth_views.LoginView):
    pass


class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    pass


@ratelimit(key="ip", rate=_login_rate, method="POST", block=False)
def login_view(request: HttpRequest) -> HttpResponse:
    """Log in, at most settings.LOGIN_RATE attempts per client whatever the usernames.

    django-axes locks one username for one client after repeated failures; this limit
    stops one client from trying a password against many usernames.
    """
    if getattr(request, "limited", False):
        return rate_limited(request)
    return _login(request)


_login = LoginView.as_view()


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return render(request, "registration/logged_out.html")
