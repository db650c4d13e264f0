"""Points for one round: a pure function, the only place that knows the rules.

A round is a race against the clock: it ends the moment the server's model names the
target at the threshold, and the sooner that happens the more it scores. Confidence
earns nothing beyond the threshold (a calibrated model says "sure" for any clear
drawing, so it would only add the same points to every round). The "How scoring works"
page reads the same constants, so what players read is what the server computes. All
inputs come from the server (its prediction, its clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from guessgame.game import constants

BASE_POINTS = 100
"""For a drawing the model recognises: the target, at or above the threshold."""

SPEED_POINTS = 200
"""At most this many more, falling linearly with the time to recognition, from an
instant one (all) to one at the bell (0)."""

STREAK_POINTS = 25
"""For each correct round in a row just before this one..."""

STREAK_CAP = 4
"""...counting at most this many (so at most 100 streak points)."""

MAX_ROUND_POINTS = BASE_POINTS + SPEED_POINTS + STREAK_POINTS * STREAK_CAP


@dataclass(frozen=True)
class RoundScore:
    """Points and where they came from, for the result page."""

    recognised: bool
    base: int = 0
    speed: int = 0
    streak: int = 0

    @property
    def total(self) -> int:
        return self.base + self.speed + self.streak


def score_round(
    *,
    target: int,
    predicted: int | None,
    confidence: float | None,
    seconds: float,
    streak: int,
    late: bool = False,
    threshold: float = constants.SCORE_THRESHOLD,
    round_seconds: float = constants.ROUND_SECONDS,
) -> RoundScore:
    """Score one round.

    ``confidence`` is the model's probability (0-1) for ``predicted``; ``seconds`` is the
    time from the round's start to recognition (or to the drawing sent at the bell);
    ``streak`` is how many rounds in a row just before this one scored. A late drawing, a
    wrong guess or a guess below the threshold scores nothing.
    """
    if late or predicted is None or confidence is None or predicted != target:
        return RoundScore(recognised=False)
    if not confidence >= threshold:  # also refuses NaN
        return RoundScore(recognised=False)
    seconds = min(max(0.0, float(seconds)), round_seconds)
    quickness = 1.0 - seconds / round_seconds if round_seconds > 0 else 0.0
    return RoundScore(
        recognised=True,
        base=BASE_POINTS,
        speed=round(SPEED_POINTS * quickness),
        streak=STREAK_POINTS * min(max(0, int(streak)), STREAK_CAP),
    )


@dataclass(frozen=True)
class RoundPlay:
    """What the server knows of a predicted round: its target, the guess, the clock."""

    target: int
    predicted: int | None
    confidence: float | None
    seconds: float
    late: bool = False


def score_game(
    plays: Sequence[RoundPlay | None],
    *,
    streak: int = 0,
    threshold: float = constants.SCORE_THRESHOLD,
    round_seconds: float = constants.ROUND_SECONDS,
) -> list[RoundScore]:
    """Score rounds in play order, each with the streak of the rounds just before it.

    ``plays`` are consecutive rounds of one game; None is a round with no prediction
    (timed out, unreadable, or still waiting for the model): it scores nothing and
    breaks the streak. ``streak`` is how many rounds in a row just before the first one
    scored.
    """
    scores = []
    for play in plays:
        if play is None:
            result = RoundScore(recognised=False)
        else:
            result = score_round(
                target=play.target,
                predicted=play.predicted,
                confidence=play.confidence,
                seconds=play.seconds,
                streak=streak,
                late=play.late,
                threshold=threshold,
                round_seconds=round_seconds,
            )
        streak = streak + 1 if result.recognised else 0
        scores.append(result)
    return scores
