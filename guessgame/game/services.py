"""The game's flows: start a game, start/guess/submit/time out a round, score, flag.

Everything here runs on the server's clock and the server's prediction. The browser
sends only strokes with their timings; the server checks that a person could have drawn
them in the round's time, draws them itself (``inference.canvas``, the renderer the
browser's canvas matches) and never trusts a picture from the client. A round ends the
moment a live guess names its target at the threshold (recognised once, stored with its
prediction), or at the bell with the last drawing, predicted by the worker. Rows are
written inside ``transaction.atomic()`` and a prediction is queued on commit, so the
worker never looks for a row that is not there.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from guessgame import metrics
from guessgame.db import lock_row
from guessgame.errors import Refusal
from guessgame.game import constants
from guessgame.game.models import GUEST_PREFIX, Drawing, Game, Guest, Round
from guessgame.game.scoring import RoundPlay, RoundScore, score_game
from inference.canvas import png_of_ink
from inference.contract import pixels_to_bytes
from inference.prediction import Prediction
from inference.preprocess import Preprocessed, preprocess_strokes

log = logging.getLogger(__name__)

RoundRow = tuple[Round, Drawing | None]
"""A round of a game and its drawing, if it has one (:func:`rounds_with_drawings`)."""

MAX_STROKES = 200
MAX_POINTS = 5_000
MAX_COORDINATE = 4 * constants.CANVAS_PX
"""Canvas CSS pixels, either way from the canvas's corner: the canvas is CANVAS_PX wide,
this leaves room for a drawing moved partly off it (what is off the canvas is not drawn)."""
MAX_STROKE_MS = 10 * 60 * 1000
"""A drawing's timings stop here, in milliseconds."""


class GameError(Refusal):
    """The game refuses a move: a sentence for the player and the HTTP status."""


class AlreadySubmitted(GameError):
    """The round already has its drawing (a second tab, a retry, a guess that won first)."""

    status = 409


class InvalidStrokes(GameError):
    """Not ``[[x...], [y...], [t...]]`` strokes of numbers, or more than a drawing holds."""


class NotYourRound(GameError):
    status = 404


class NotDrawnByHand(GameError):
    """Strokes timed beyond the round's clock, or faster than a person can draw."""


class RoundOver(GameError):
    """The round was recognised, sent or timed out: nothing more is taken for it."""

    status = 409


# ---------------------------------------------------------------------------
# Games and rounds
# ---------------------------------------------------------------------------


def game_start(*, player: AbstractBaseUser, rng: random.Random | None = None) -> Game:
    """A new game of ten rounds, each digit once, in random order; no clock runs yet."""
    digits = list(range(10))
    (rng or random.SystemRandom()).shuffle(digits)
    with transaction.atomic():
        game = Game.objects.create(player=player)
        Round.objects.bulk_create(
            Round(game=game, number=number, target=target)
            for number, target in enumerate(digits[: constants.ROUNDS_PER_GAME], start=1)
        )
    log.info("event=game_started game=%s player=%s", game.pk, player.pk)
    return game


def round_start(*, round: Round, now: datetime | None = None) -> Round:
    """Start the round's clock once; a second start (another tab) keeps the first clock."""
    if round.started_at is None:
        now = now or timezone.now()
        # The filter makes a second tab's start a no-op instead of a clock reset.
        if Round.objects.filter(pk=round.pk, started_at__isnull=True).update(started_at=now):
            round.started_at = now
        else:  # another tab started it first: its clock
            round.refresh_from_db(fields=["started_at"])
    return round


def game_current_round(
    *, game: Game, now: datetime | None = None, rows: list[RoundRow] | None = None
) -> Round | None:
    """The round to play now, after timing out the one whose clock ran out.

    None when every round has a drawing or was timed out. ``rows`` (the game's
    :func:`rounds_with_drawings`, read once by a caller that needs them too) are kept
    up to date with what this writes; ``game`` is read again when its score changed.
    """
    now = now or timezone.now()
    if rows is None:
        rows = rounds_with_drawings(game.pk)
    if game_finish_if_abandoned(game=game, now=now, rows=rows):
        rows[:] = rounds_with_drawings(game.pk)
        return None
    current, timed_out = None, False
    for round, drawing in rows:
        if round.scored or drawing is not None:
            continue
        if not round.is_late(now):
            current = round
            break
        # Its clock ran out with no drawing (or a tab sent one just now: then it is
        # played, and the next round is the one to play either way).
        if round_timeout(round=round, now=now):
            round.scored, round.points, timed_out = True, 0, True
        else:
            round.refresh_from_db(fields=["scored", "points", "submitted_at"])
    if timed_out:
        game.refresh_from_db(fields=["score", "finished_at"])
    return current


def round_begin(*, round: Round, player: AbstractBaseUser, now: datetime | None = None) -> Round:
    """The player starts the current round: its clock runs from now and its target is
    theirs to see. Rounds start in order, only when asked (never by showing a page), and
    a running round's start is answered with its clock as it is."""
    now = now or timezone.now()
    if round.game.player_id != player.pk:
        raise NotYourRound("This round is not yours.")
    current = game_current_round(game=round.game, now=now)
    if current is None or current.pk != round.pk:
        raise RoundOver("This round cannot start now: it is over, or an earlier one is not.")
    return round_start(round=current, now=now)


def round_timeout(*, round: Round, now: datetime | None = None) -> bool:
    """Score 0 for a round whose clock ran out with no drawing; True if it did that."""
    now = now or timezone.now()
    with transaction.atomic():
        game = lock_row(Game, round.game_id)
        locked = lock_row(Round, round.pk)
        if locked.scored or locked.started_at is None or not locked.is_late(now):
            return False
        if Drawing.objects.filter(round=locked).exists():
            return False
        locked.scored = True
        locked.points = 0
        locked.save(update_fields=["scored", "points"])
        _update_game_total(game, now=now)
    log.info("event=round_timed_out round=%s game=%s", round.pk, round.game_id)
    return True


def last_activity(game: Game, rows: Sequence[RoundRow] | None = None) -> datetime:
    """When the player last did something in the game: started it, a round, or a drawing
    (``rows``: the game's rounds as already read, else they are read)."""
    if rows is None:
        rounds = game.rounds.values_list("started_at", "submitted_at")
    else:
        rounds = [(round.started_at, round.submitted_at) for round, _ in rows]
    times = [game.started_at]
    for started, submitted in rounds:
        times += [t for t in (started, submitted) if t is not None]
    return max(times)


def game_finish_if_abandoned(
    *, game: Game, now: datetime | None = None, rows: Sequence[RoundRow] | None = None
) -> bool:
    """Finish a game left alone for ABANDONED_AFTER (a player coming back to it): every
    round not played scores 0 (see :func:`_close_abandoned`). True if this call ended
    its rounds."""
    now = now or timezone.now()
    if game.finished_at is not None or (
        now - last_activity(game, rows) < constants.ABANDONED_AFTER
    ):
        return False
    closed = _close_abandoned([game.pk], now=now)
    if closed:
        game.refresh_from_db()
    return bool(closed)


SWEEP_GAMES = 100
"""Abandoned games one sweep task closes; it queues another for the rest. The worker
predicts live guesses one task at a time (the solo pool) and SQLite has one writer: a
task is a handful of statements whatever its size, where a game at a time kept guesses
waiting for seconds after a hundred players left at once (README, "Players at once")."""


def abandoned_games(*, now: datetime) -> QuerySet[Game]:
    """The unfinished games with nothing done for ABANDONED_AFTER (the game's start, and
    its rounds' starts and ends, as :func:`last_activity` reads them), in id order: one
    query, however many games are being played."""
    cutoff = now - constants.ABANDONED_AFTER
    idle = Q(last_start__isnull=True) | Q(last_start__lte=cutoff)
    sent = Q(last_end__isnull=True) | Q(last_end__lte=cutoff)
    return (
        Game.objects.filter(finished_at__isnull=True, started_at__lte=cutoff)
        .annotate(last_start=Max("rounds__started_at"), last_end=Max("rounds__submitted_at"))
        .filter(idle & sent)
        .order_by("pk")
    )


def finish_abandoned_games(
    *, now: datetime | None = None, after: int = 0, limit: int | None = None
) -> tuple[int, int | None]:
    """Close at most ``limit`` (SWEEP_GAMES) abandoned games with ids above ``after``
    (the beat sweep). Returns how many it closed and, when more are waiting, the id to
    go on after."""
    now = now or timezone.now()
    limit = SWEEP_GAMES if limit is None else limit
    ids = list(
        abandoned_games(now=now).filter(pk__gt=after).values_list("pk", flat=True)[: limit + 1]
    )
    closed = _close_abandoned(ids[:limit], now=now)
    return len(closed), (ids[limit - 1] if len(ids) > limit else None)


def _close_abandoned(game_ids: Sequence[int], *, now: datetime) -> list[int]:
    """End the rounds of the abandoned games among ``game_ids``: every round neither
    played nor running scores 0, and each game gets its total; a game whose rounds are
    all scored is finished (one with a drawing still waiting for the model is finished
    when the model answers). The same few statements for one game or a hundred; the
    games are locked (in id order) and checked again. Returns the ids it closed."""
    if not game_ids:
        return []
    with transaction.atomic():
        list(Game.objects.select_for_update().filter(pk__in=game_ids).order_by("pk"))
        still = list(abandoned_games(now=now).filter(pk__in=game_ids))
        if not still:
            return []
        late = now - constants.ROUND_DURATION - constants.SUBMIT_GRACE
        Round.objects.filter(
            Q(started_at__isnull=True) | Q(started_at__lt=late),
            game__in=still, scored=False, drawing__isnull=True,
        ).update(scored=True, points=0)  # fmt: skip
        totals = {
            row["game_id"]: row
            for row in Round.objects.filter(game__in=still)
            .values("game_id")
            .annotate(total=Sum("points"), open=Count("pk", filter=Q(scored=False)))
        }
        for game in still:
            game.score = totals[game.pk]["total"] or 0
            if totals[game.pk]["open"] == 0:
                game.finished_at = now
        Game.objects.bulk_update(still, ["score", "finished_at"])
    for game in still:
        if game.finished_at is not None:
            log.info("event=game_abandoned game=%s score=%s", game.pk, game.score)
    return [game.pk for game in still]


# ---------------------------------------------------------------------------
# Guests
# ---------------------------------------------------------------------------


def guest_create() -> AbstractBaseUser:
    """A guest's account: a name nobody can sign up with, no usable password."""
    user = get_user_model().objects.create_user(username=GUEST_PREFIX + secrets.token_hex(6))
    user.set_unusable_password()
    user.save(update_fields=["password"])
    Guest.objects.create(user=user)
    log.info("event=guest_created player=%s", user.pk)
    return user


def guest_claimed(*, user: AbstractBaseUser) -> None:
    """The guest signed up (the sign-up form renamed the account and set its password):
    their games are theirs and count on the leaderboard from now on."""
    Guest.objects.filter(user=user).delete()
    log.info("event=guest_signed_up player=%s", user.pk)


# ---------------------------------------------------------------------------
# Submitting a drawing
# ---------------------------------------------------------------------------


def clean_strokes(strokes: object) -> list:
    """Check the Quick, Draw! strokes ``[[x...], [y...], [t ms...]]`` and return them.

    Bounded so a request cannot store megabytes of JSON: at most MAX_STROKES strokes and
    MAX_POINTS points, finite numbers, coordinates within MAX_COORDINATE of the canvas's
    corner either way, times from 0 to MAX_STROKE_MS.
    """
    if not isinstance(strokes, list):
        raise InvalidStrokes("The strokes must be a list of [[x...], [y...], [t...]].")
    if len(strokes) > MAX_STROKES:
        raise InvalidStrokes(f"Too many strokes: at most {MAX_STROKES}.")
    total = 0
    cleaned = []
    for number, stroke in enumerate(strokes, start=1):
        if not (isinstance(stroke, list) and len(stroke) == 3):
            raise InvalidStrokes(f"Stroke {number} must be [[x...], [y...], [t...]].")
        if not all(isinstance(axis, list) for axis in stroke):
            raise InvalidStrokes(f"Stroke {number} must hold three lists of numbers.")
        xs, ys, ts = stroke
        if not (len(xs) == len(ys) == len(ts)) or not xs:
            raise InvalidStrokes(f"Stroke {number} needs as many x, y and t values, at least 1.")
        total += len(xs)
        if total > MAX_POINTS:
            raise InvalidStrokes(f"Too many points: at most {MAX_POINTS} in a drawing.")
        coordinate = (-MAX_COORDINATE, MAX_COORDINATE)
        for axis, (low, limit) in ((xs, coordinate), (ys, coordinate), (ts, (0, MAX_STROKE_MS))):
            for value in axis:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise InvalidStrokes(f"Stroke {number} holds something that is not a number.")
                # Compared before isfinite(): an int beyond a float's range overflows there.
                if value < low or value > limit or not math.isfinite(value):
                    raise InvalidStrokes(
                        f"Stroke {number} has a value out of range ({low:,} to {limit:,})."
                    )
        cleaned.append([[round(float(v), 2) for v in axis] for axis in stroke])
    return cleaned


def check_pace(strokes: list, *, elapsed_ms: float) -> None:
    """Refuse strokes no person drew in this round: timed past the server's clock (plus
    CLOCK_TOLERANCE), out of order, or faster than MAX_PEN_SPEED.

    Times are milliseconds since the round started, on the clock the server gave the
    page; a script must take as long as a hand would to draw what it sends.
    """
    ahead = elapsed_ms + constants.CLOCK_TOLERANCE.total_seconds() * 1000
    previous_end = 0.0
    for number, (xs, ys, ts) in enumerate(strokes, start=1):
        if ts[0] < previous_end or any(b < a for a, b in zip(ts, ts[1:], strict=False)):
            raise NotDrawnByHand(f"Stroke {number}'s times go backwards.")
        if ts[-1] > ahead:
            raise NotDrawnByHand(
                f"Stroke {number} is timed {ts[-1] / 1000:.1f} s into the round, "
                f"but only {elapsed_ms / 1000:.1f} s have passed."
            )
        length = sum(
            math.hypot(x1 - x0, y1 - y0)
            for x0, y0, x1, y1 in zip(xs, ys, xs[1:], ys[1:], strict=False)
        )
        allowed = constants.MAX_PEN_SPEED * (ts[-1] - ts[0]) + constants.PEN_SPEED_SLACK_PX
        if length > allowed:
            raise NotDrawnByHand(
                f"Stroke {number} was drawn faster than a hand can move: "
                f"{length:.0f} px in {ts[-1] - ts[0]:.0f} ms."
            )
        previous_end = ts[-1]


def _drawn_in_round(round: Round, player: AbstractBaseUser, strokes: object, now: datetime):
    """The strokes, checked as the player's, for this round while it is open, drawn by hand."""
    if round.game.player_id != player.pk:
        raise NotYourRound("This round is not yours.")
    if round.started_at is None:
        raise GameError("This round has not started yet.", status=409)
    if round.is_played:
        raise RoundOver("This round is over.")
    strokes = clean_strokes(strokes)
    check_pace(strokes, elapsed_ms=(now - round.started_at).total_seconds() * 1000)
    return strokes


@dataclass(frozen=True)
class RoundGuess:
    """A live guess in a round: the model's answer and whether it ended the round."""

    prediction: Prediction
    recognised: bool
    round: Round
    drawing: Drawing | None = None
    score: RoundScore | None = None
    """Where a recognised round's points came from, as they were written."""
    game: Game | None = None
    """A recognised round's game as its scoring left it (new total; finished or not)."""
    rows: list[RoundRow] | None = None
    """That game's rounds with their drawings, as written (:func:`rounds_with_drawings`)."""


def recognises(prediction: Prediction, target: int) -> bool:
    """The model names the target at the threshold: the round is won."""
    return (
        not prediction.blank
        and prediction.digit == target
        and prediction.confidence >= constants.SCORE_THRESHOLD
    )


def round_guess(
    *,
    round: Round,
    player: AbstractBaseUser,
    strokes: object,
    now: datetime | None = None,
) -> RoundGuess:
    """The model's guess for the round's drawing as it is now, drawn by the server.

    When it names the target at the threshold before the bell, the round ends there:
    the drawing is stored with its prediction and the round scored at once, by the time
    to recognition. Raises GameError subclasses (refused strokes, round over, not
    yours), and the inference client's WorkerUnavailable/PredictionFailed.
    """
    from inference.client import predict_strokes

    now = now or timezone.now()
    strokes = _drawn_in_round(round, player, strokes, now)
    prepared, prediction = predict_strokes(strokes)
    if round.is_late(now) or not recognises(prediction, round.target):
        return RoundGuess(prediction=prediction, recognised=False, round=round)
    try:
        drawing, score, game, rows = _record_recognition(
            round=round, player=player, strokes=strokes, prepared=prepared,
            prediction=prediction, now=now,
        )  # fmt: skip
    except AlreadySubmitted:  # a guess racing this one won the round first
        return RoundGuess(prediction=prediction, recognised=False, round=round)
    round.submitted_at, round.scored, round.points = now, True, score.total
    return RoundGuess(
        prediction=prediction, recognised=True, round=round, drawing=drawing,
        score=score, game=game, rows=rows,
    )  # fmt: skip


def _record_recognition(
    *,
    round: Round,
    player: AbstractBaseUser,
    strokes: list,
    prepared: Preprocessed,
    prediction: Prediction,
    now: datetime,
) -> tuple[Drawing, RoundScore, Game, list[RoundRow]]:
    """Store the recognised drawing with its prediction and score the round, once.

    Returns the drawing, the round's score, the game with its new total and its rounds
    as written."""
    from inference.models import ModelVersion

    version = (
        ModelVersion.objects.filter(name=prediction.model_version)
        .values_list("pk", flat=True)
        .first()
    )
    png = png_of_ink(prepared.canvas)
    try:
        with transaction.atomic():
            game, locked = _lock_open_round(round, already="This round is already over.")
            drawing = Drawing.objects.create(
                round=locked,
                player=player,
                label=locked.target,
                image_png=png,
                strokes=strokes,
                pixels=pixels_to_bytes(prepared.pixels),
                created_at=now,
                prediction_status=Drawing.Prediction.DONE,
                predicted_digit=prediction.digit,
                confidence=prediction.confidence,
                probabilities=prediction.probabilities,
                model_version_id=version,
                predicted_at=now,
            )
            locked.submitted_at = now  # written with its points
            rows = rounds_with_drawings(game.pk)
            score = _score_from(locked, game=game, now=now, ending=locked, every=rows)
    except IntegrityError as exc:
        raise AlreadySubmitted("This round is already over.") from exc
    metrics.ROUNDS_PLAYED.inc()
    log.info("event=round_recognised round=%s drawing=%s", round.pk, drawing.pk)
    return drawing, score, game, rows


def round_submit(
    *,
    round: Round,
    player: AbstractBaseUser,
    strokes: object,
    now: datetime | None = None,
) -> Drawing | None:
    """End the round with its last drawing (at the bell, or the player is done): store
    it once, drawn by the server, then queue its prediction on commit.

    An empty canvas ends the round with no points and returns None. Raises
    NotDrawnByHand, InvalidStrokes, NotYourRound, or AlreadySubmitted (a second tab,
    a double click, or the round was recognised first: the first one counts).
    """
    now = now or timezone.now()
    try:
        strokes = _drawn_in_round(round, player, strokes, now)
    except RoundOver as exc:
        raise AlreadySubmitted("This round was already sent.") from exc
    prepared = preprocess_strokes(strokes)
    try:
        with transaction.atomic():
            game, locked = _lock_open_round(round, already="This round was already sent.")
            locked.submitted_at = now
            if prepared.blank:  # nothing drawn: the round ends, no points
                locked.scored, locked.points = True, 0
                locked.save(update_fields=["submitted_at", "scored", "points"])
                _update_game_total(game, now=now)
                log.info("event=round_ended_empty round=%s", round.pk)
                return None
            drawing = Drawing.objects.create(
                round=locked,
                player=player,
                label=locked.target,
                image_png=png_of_ink(prepared.canvas),
                strokes=strokes,
                pixels=pixels_to_bytes(prepared.pixels),
                blank=False,
                late=locked.is_late(now),
                created_at=now,
            )
            locked.save(update_fields=["submitted_at"])
            transaction.on_commit(lambda: queue_prediction(drawing.pk))
    except IntegrityError as exc:
        raise AlreadySubmitted("This round was already sent.") from exc
    metrics.ROUNDS_PLAYED.inc()
    log.info(
        "event=round_submitted round=%s drawing=%s late=%s", round.pk, drawing.pk, drawing.late
    )
    return drawing


def _lock_open_round(round: Round, *, already: str) -> tuple[Game, Round]:
    """The round's game and the round, locked, or AlreadySubmitted(``already``) when the
    round has ended. The row locks serialise two endings of one round on PostgreSQL (a
    recognising guess and a submit, two tabs); the one-to-one constraint settles it on
    any database. Call inside ``transaction.atomic()``."""
    game = lock_row(Game, round.game_id)
    locked = lock_row(Round, round.pk)
    if locked.is_played:  # a drawing is stored with its round's submitted_at, at once
        raise AlreadySubmitted(already)
    return game, locked


def queue_prediction(drawing_id: int) -> bool:
    """Queue the worker's prediction; with the broker down, leave it pending for the sweep."""
    from guessgame.game.tasks import predict_drawing

    try:
        predict_drawing.delay(drawing_id)
    except Exception:  # any broker failure: the drawing stays pending, the sweep re-queues it
        log.warning("event=prediction_not_queued drawing=%s", drawing_id, exc_info=True)
        return False
    return True


# ---------------------------------------------------------------------------
# The worker's result
# ---------------------------------------------------------------------------


def streak_before(rounds: Sequence[Round], *, number: int) -> int:
    """How many rounds in a row just before round ``number`` scored points (as stored);
    ``rounds`` are the game's rounds in play order."""
    streak = 0
    for previous in reversed([r for r in rounds if r.number < number]):
        if not (previous.scored and previous.points > 0):
            break
        streak += 1
    return streak


def seconds_taken(round: Round) -> float:
    if round.started_at is None or round.submitted_at is None:
        return float(constants.ROUND_SECONDS)
    return max(0.0, (round.submitted_at - round.started_at).total_seconds())


def _play(round: Round, drawing: Drawing | None) -> RoundPlay | None:
    if drawing is None or drawing.prediction_status != Drawing.Prediction.DONE:
        return None
    return RoundPlay(
        target=round.target,
        predicted=drawing.predicted_digit,
        confidence=drawing.confidence,
        seconds=seconds_taken(round),
        late=drawing.late,
    )


def rounds_with_drawings(game_id: int) -> list[RoundRow]:
    """The game's rounds in play order, each with its drawing (its prediction, no
    picture, no strokes): one query, what every step of a round reads."""
    rounds = (
        Round.objects.filter(game_id=game_id)
        .select_related("drawing")
        .only(*ROUND_FIELDS, *(f"drawing__{name}" for name in DRAWING_FIELDS))
        .order_by("number")
    )
    return [(round, _drawing_of(round)) for round in rounds]


ROUND_FIELDS = ("game_id", "number", "target", "started_at", "submitted_at", "points", "scored")
DRAWING_FIELDS = (
    "round_id", "prediction_status", "predicted_digit", "not_digit", "confidence", "late"
)  # fmt: skip
"""What a round's play and score read of its drawing."""


def _drawing_of(round: Round) -> Drawing | None:
    try:
        return round.drawing
    except Drawing.DoesNotExist:
        return None


def game_round_scores(*, game: Game) -> dict[int, RoundScore]:
    """Each round's points and their parts (by round id), from the stored predictions.

    The computation that wrote the rounds' points, so a result page can show where the
    stored points came from. After a staff re-prediction (which keeps the points) the
    two may differ; the page then shows the stored total alone.
    """
    rows = rounds_with_drawings(game.pk)
    scores = score_game([_play(round, drawing) for round, drawing in rows])
    return {round.pk: result for (round, _), result in zip(rows, scores, strict=True)}


def _score_from(
    round: Round,
    *,
    game: Game,
    now: datetime,
    ending: Round | None = None,
    every: list[RoundRow] | None = None,
) -> RoundScore:
    """Score the round and every later round of its game already predicted, in play order.

    A round predicted while an earlier one was still waiting for the model (the worker
    was busy and the player moved on) counted that round as a broken streak; when the
    earlier prediction arrives, the later rounds are scored again, so every streak runs
    over the rounds in order whatever order the predictions came in. Earlier rounds
    keep their points. Call with the game row locked: one game is scored at a time.
    ``ending`` is a round this call ends (its ``submitted_at`` set, not yet written):
    scored as it is and written with its points, in one UPDATE. ``every`` (the game's
    :func:`rounds_with_drawings`, read by the caller inside its transaction) is scored
    in place, so the caller holds the game as written. Returns the round's own score.
    """
    if every is None:
        every = rounds_with_drawings(game.pk)
    if ending is not None:
        every[:] = [(ending if r.pk == ending.pk else r, d) for r, d in every]
    rows = [(r, d) for r, d in every if r.number >= round.number]
    streak = streak_before([r for r, _ in every], number=round.number)
    scores = score_game([_play(r, d) for r, d in rows], streak=streak)
    for (later, drawing), result in zip(rows, scores, strict=True):
        if drawing is None or drawing.prediction_status != Drawing.Prediction.DONE:
            continue  # not played, timed out, unreadable or still waiting: left as it is
        if not later.scored and result.total > 0:
            metrics.ROUNDS_RECOGNISED.inc()
        if later is ending:
            later.scored, later.points = True, result.total
            later.save(update_fields=["submitted_at", "scored", "points"])
        elif not later.scored or later.points != result.total:
            later.scored, later.points = True, result.total
            later.save(update_fields=["scored", "points"])
    _update_game_total(game, now=now, rounds=[r for r, _ in every])
    return scores[0]


def record_prediction(
    *,
    drawing: Drawing,
    probabilities: Sequence[float],
    model_version: str | None,
    now: datetime | None = None,
) -> bool:
    """Write the model's answer on the drawing, once, and score its round and later ones.

    ``probabilities`` is the model's row: 10 digits, or 11 with "not a digit" last; the
    answer is read by :class:`~inference.prediction.Prediction`, the one owner of that
    rule. A drawing that is not a digit keeps the 10 digit probabilities, gets no
    predicted digit and scores nothing. Idempotent: a drawing already predicted is left
    as it is (a re-queued task or two workers racing). Returns True when this call
    recorded the prediction.
    """
    from inference.models import ModelVersion

    now = now or timezone.now()
    try:
        answer = Prediction.from_probabilities(probabilities, model_version=model_version or "")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"probabilities must be 10 or 11 finite numbers: {exc}") from exc
    version = ModelVersion.objects.filter(name=model_version).first() if model_version else None
    game_id = Round.objects.filter(pk=drawing.round_id).values_list("game_id", flat=True).first()
    with transaction.atomic():
        # Lock order everywhere: game, round, drawing. The game's lock also means its
        # rounds are scored by one prediction at a time.
        game = lock_row(Game, game_id) if game_id is not None else None
        locked = lock_row(Drawing, drawing.pk)
        if locked.prediction_status == Drawing.Prediction.DONE:
            return False
        locked.prediction_status = Drawing.Prediction.DONE
        locked.predicted_digit = answer.digit
        locked.not_digit = answer.not_digit
        locked.confidence = answer.confidence
        locked.probabilities = answer.probabilities
        locked.model_version = version
        locked.predicted_at = now
        locked.save(
            update_fields=[
                "prediction_status",
                "predicted_digit",
                "not_digit",
                "confidence",
                "probabilities",
                "model_version",
                "predicted_at",
            ]
        )
        # A re-prediction (staff asked the model again) leaves the points as they are.
        round = locked.round
        if game is not None and round is not None and not round.scored:
            _score_from(round, game=game, now=now)
    metrics.count_prediction(answer, path="round")
    log.info(
        "event=prediction_recorded drawing=%s digit=%s not_digit=%s confidence=%.3f",
        drawing.pk,
        answer.digit,
        answer.not_digit,
        answer.confidence,
    )
    return True


def record_prediction_failure(*, drawing: Drawing, now: datetime | None = None) -> None:
    """A drawing the model cannot read: no points for its round, and the game goes on."""
    now = now or timezone.now()
    game_id = Round.objects.filter(pk=drawing.round_id).values_list("game_id", flat=True).first()
    with transaction.atomic():
        game = lock_row(Game, game_id) if game_id is not None else None
        locked = lock_row(Drawing, drawing.pk)
        if locked.prediction_status != Drawing.Prediction.PENDING:
            return
        locked.prediction_status = Drawing.Prediction.FAILED
        locked.save(update_fields=["prediction_status"])
        if locked.round is not None and not locked.round.scored:
            locked.round.scored = True
            locked.round.points = 0
            locked.round.save(update_fields=["scored", "points"])
            if game is not None:
                _update_game_total(game, now=now)


def _update_game_total(game: Game, *, now: datetime, rounds: Sequence[Round] | None = None) -> None:
    """The game's score is the sum of its rounds; it ends when every round is scored.

    Called with the game row locked, so two rounds scored at once cannot lose a total;
    ``rounds``, when the caller holds all of them as written, saves reading them again.
    """
    if rounds is None:
        rounds = list(game.rounds.values_list("points", "scored"))
    else:
        rounds = [(r.points, r.scored) for r in rounds]
    game.score = sum(points for points, _ in rounds)
    finished = len(rounds) == constants.ROUNDS_PER_GAME and all(s for _, s in rounds)
    fields = ["score"]
    if finished and game.finished_at is None:
        game.finished_at = now
        fields.append("finished_at")
        log.info("event=game_finished game=%s score=%s", game.pk, game.score)
    game.save(update_fields=fields)


# ---------------------------------------------------------------------------
# Flags for staff review
# ---------------------------------------------------------------------------


def round_flag(*, drawing: Drawing, player: AbstractBaseUser, flag: str) -> Drawing:
    """The player says the label or the drawing is wrong; staff review it later."""
    if drawing.player_id != player.pk:
        raise NotYourRound("This drawing is not yours.")
    if flag not in Drawing.Flag.values or flag == Drawing.Flag.NONE:
        raise GameError("Choose what is wrong with this round.")
    drawing.flag = flag
    drawing.flagged_at = timezone.now()
    drawing.save(update_fields=["flag", "flagged_at"])
    log.info("event=round_flagged drawing=%s flag=%s", drawing.pk, flag)
    return drawing


# ---------------------------------------------------------------------------
# A player's own data
# ---------------------------------------------------------------------------


def player_drawings_archive(*, player: AbstractBaseUser) -> bytes:
    """Every drawing of ``player`` as a zip: ``drawings.ndjson`` (one drawing a line:
    Quick, Draw!'s raw fields, the label, the model's answer) and the PNGs as sent."""
    import io
    import json
    import zipfile

    from guessgame.game.quickdraw import quickdraw_record

    buffer = io.BytesIO()
    lines = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        drawings = Drawing.objects.filter(player=player).select_related("model_version")
        for drawing in drawings.order_by("pk").iterator(chunk_size=200):
            record = quickdraw_record(drawing)
            record.update(
                drawing=drawing.strokes,  # as stored, not rounded like Quick, Draw!'s
                label=drawing.label,
                predicted_digit=drawing.predicted_digit,
                confidence=drawing.confidence,
                model_version=drawing.model_version.name if drawing.model_version else None,
                png=f"png/{drawing.pk}.png",
            )
            lines.append(json.dumps(record, separators=(",", ":")))
            archive.writestr(f"png/{drawing.pk}.png", bytes(drawing.image_png))
        archive.writestr("drawings.ndjson", "".join(line + "\n" for line in lines))
    return buffer.getvalue()


def account_delete(*, player: AbstractBaseUser) -> int:
    """Delete the account, its games and every drawing it made; return how many drawings.

    Drawings are deleted by player, not only through their games, so none stays behind
    without an owner (a drawing's player link would otherwise just be cleared).
    """
    with transaction.atomic():
        drawings = Drawing.objects.filter(player=player)
        count = drawings.count()
        drawings.delete()
        player.delete()
    log.info("event=account_deleted drawings=%s", count)
    return count
