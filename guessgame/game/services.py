"""The game's flows: start a game, start/submit/time out a round, score, flag.

Everything here runs on the server's clock and the server's prediction; the browser
only sends the drawing. Rows are written inside ``transaction.atomic()`` and the
prediction is queued on commit, so the worker never looks for a row that is not there.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone

from guessgame import metrics
from guessgame.game import constants
from guessgame.game.models import Drawing, Game, Round
from guessgame.game.scoring import RoundPlay, RoundScore, score_game
from inference.prediction import Prediction
from inference.preprocess import preprocess_png, to_uint8

log = logging.getLogger(__name__)

MAX_STROKES = 200
MAX_POINTS = 5_000
MAX_COORDINATE = 4 * constants.CANVAS_PX
"""Canvas CSS pixels; the canvas is CANVAS_PX wide, this leaves room for a moved drawing."""
MAX_STROKE_MS = 10 * 60 * 1000
"""A drawing's timings stop here, in milliseconds."""


class GameError(Exception):
    """A refusal with a sentence for the player and the HTTP status to answer."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class AlreadySubmitted(GameError):
    status = 409


class BlankDrawing(GameError):
    status = 400


class InvalidStrokes(GameError):
    status = 400


class NotYourRound(GameError):
    status = 404


# ---------------------------------------------------------------------------
# Row locks
# ---------------------------------------------------------------------------


def _lock(model: type[models.Model], pk: int) -> models.Model:
    """The row, locked until the transaction ends (call inside ``transaction.atomic()``).

    PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite ignores FOR UPDATE, and two
    transactions that both read before writing deadlock there ("database is locked");
    a no-op UPDATE first takes SQLite's write lock, waiting for it like any write.
    """
    if connection.vendor == "sqlite":
        model.objects.filter(pk=pk).update(**{model._meta.pk.attname: F("pk")})
    return model.objects.select_for_update().get(pk=pk)


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
    """Start the round's clock when the round is first shown; later views keep it."""
    if round.started_at is None:
        now = now or timezone.now()
        # The filter makes a second tab's start a no-op instead of a clock reset.
        Round.objects.filter(pk=round.pk, started_at__isnull=True).update(started_at=now)
        round.refresh_from_db(fields=["started_at"])
    return round


def game_current_round(*, game: Game, now: datetime | None = None) -> Round | None:
    """The round to play now, after timing out the one whose clock ran out.

    None when every round has a drawing or was timed out.
    """
    now = now or timezone.now()
    for _ in range(constants.ROUNDS_PER_GAME + 1):
        current = game.rounds.filter(scored=False, drawing__isnull=True).order_by("number").first()
        if current is None:
            return None
        if current.started_at is not None and current.is_late(now):
            round_timeout(round=current, now=now)
            continue
        return current
    return None


def round_timeout(*, round: Round, now: datetime | None = None) -> bool:
    """Score 0 for a round whose clock ran out with no drawing; True if it did that."""
    now = now or timezone.now()
    with transaction.atomic():
        game = _lock(Game, round.game_id)
        locked = _lock(Round, round.pk)
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


# ---------------------------------------------------------------------------
# Submitting a drawing
# ---------------------------------------------------------------------------


def clean_strokes(strokes: object) -> list:
    """Check the Quick, Draw! strokes ``[[x...], [y...], [t ms...]]`` and return them.

    Bounded so a request cannot store megabytes of JSON: at most MAX_STROKES strokes and
    MAX_POINTS points, finite non-negative numbers, coordinates within MAX_COORDINATE.
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
        for axis, limit in ((xs, MAX_COORDINATE), (ys, MAX_COORDINATE), (ts, MAX_STROKE_MS)):
            for value in axis:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise InvalidStrokes(f"Stroke {number} holds something that is not a number.")
                # Compared before isfinite(): an int beyond a float's range overflows there.
                if value < 0 or value > limit or not math.isfinite(value):
                    raise InvalidStrokes(
                        f"Stroke {number} has a value out of range (0 to {limit:,})."
                    )
        cleaned.append([[round(float(v), 2) for v in axis] for axis in stroke])
    return cleaned


def pixels_to_bytes(pixels: np.ndarray) -> bytes:
    """The model's 28x28 float input in [0, 1] as 784 uint8 bytes."""
    return to_uint8(pixels).tobytes()


def round_submit(
    *,
    round: Round,
    player: AbstractBaseUser,
    png: bytes,
    strokes: list,
    now: datetime | None = None,
) -> Drawing:
    """Store the round's drawing once, then queue its prediction on commit.

    Raises DrawingError (unreadable PNG), BlankDrawing, InvalidStrokes, NotYourRound,
    or AlreadySubmitted (a second tab or a double click: the first one counts).
    """
    now = now or timezone.now()
    if round.game.player_id != player.pk:
        raise NotYourRound("This round is not yours.")
    if round.started_at is None:
        raise GameError("This round has not started yet.", status=409)
    strokes = clean_strokes(strokes)
    prepared = preprocess_png(png)
    if prepared.blank:
        raise BlankDrawing("Draw something first: the canvas is empty.")
    try:
        with transaction.atomic():
            # The row lock serialises two submissions of one round on PostgreSQL; the
            # one-to-one constraint settles it on any database.
            locked = _lock(Round, round.pk)
            if locked.scored or Drawing.objects.filter(round=locked).exists():
                raise AlreadySubmitted("This round was already submitted.")
            drawing = Drawing.objects.create(
                round=locked,
                player=player,
                label=locked.target,
                image_png=bytes(png),
                strokes=strokes,
                pixels=pixels_to_bytes(prepared.pixels),
                blank=False,
                late=locked.is_late(now),
                created_at=now,
            )
            locked.submitted_at = now
            locked.save(update_fields=["submitted_at"])
            transaction.on_commit(lambda: queue_prediction(drawing.pk))
    except IntegrityError as exc:
        raise AlreadySubmitted("This round was already submitted.") from exc
    metrics.ROUNDS_PLAYED.inc()
    log.info(
        "event=round_submitted round=%s drawing=%s late=%s", round.pk, drawing.pk, drawing.late
    )
    return drawing


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


def streak_before(*, round: Round) -> int:
    """How many rounds in a row just before this one scored points (as stored)."""
    streak = 0
    earlier = Round.objects.filter(game_id=round.game_id, number__lt=round.number).order_by(
        "-number"
    )
    for previous in earlier.only("points", "scored"):
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


def _rounds_with_drawings(game_id: int) -> list[tuple[Round, Drawing | None]]:
    """The game's rounds in play order, each with its drawing (its prediction, no image)."""
    rounds = list(Round.objects.filter(game_id=game_id).order_by("number"))
    drawings = {
        d.round_id: d
        for d in Drawing.objects.filter(round__game_id=game_id).only(
            "round_id", "prediction_status", "predicted_digit", "confidence", "late"
        )
    }
    return [(round, drawings.get(round.pk)) for round in rounds]


def game_round_scores(*, game: Game) -> dict[int, RoundScore]:
    """Each round's points and their parts (by round id), from the stored predictions.

    The computation that wrote the rounds' points, so a result page can show where the
    stored points came from. After a staff re-prediction (which keeps the points) the
    two may differ; the page then shows the stored total alone.
    """
    rows = _rounds_with_drawings(game.pk)
    scores = score_game([_play(round, drawing) for round, drawing in rows])
    return {round.pk: result for (round, _), result in zip(rows, scores, strict=True)}


def _score_from(round: Round, *, game: Game, now: datetime) -> None:
    """Score the round and every later round of its game already predicted, in play order.

    A round predicted while an earlier one was still waiting for the model (the worker
    was busy and the player moved on) counted that round as a broken streak; when the
    earlier prediction arrives, the later rounds are scored again, so every streak runs
    over the rounds in order whatever order the predictions came in. Earlier rounds
    keep their points. Call with the game row locked: one game is scored at a time.
    """
    rows = [(r, d) for r, d in _rounds_with_drawings(game.pk) if r.number >= round.number]
    scores = score_game([_play(r, d) for r, d in rows], streak=streak_before(round=round))
    for (later, drawing), result in zip(rows, scores, strict=True):
        if drawing is None or drawing.prediction_status != Drawing.Prediction.DONE:
            continue  # not played, timed out, unreadable or still waiting: left as it is
        if not later.scored and result.total > 0:
            metrics.ROUNDS_RECOGNISED.inc()
        if not later.scored or later.points != result.total:
            later.scored, later.points = True, result.total
            later.save(update_fields=["scored", "points"])
    _update_game_total(game, now=now)


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
        game = _lock(Game, game_id) if game_id is not None else None
        locked = _lock(Drawing, drawing.pk)
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
        game = _lock(Game, game_id) if game_id is not None else None
        locked = _lock(Drawing, drawing.pk)
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


def _update_game_total(game: Game, *, now: datetime) -> None:
    """The game's score is the sum of its rounds; it ends when every round is scored.

    Called with the game row locked, so two rounds scored at once cannot lose a total.
    """
    rounds = list(game.rounds.values_list("points", "scored"))
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

    from guessgame.review.export import quickdraw_record

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
