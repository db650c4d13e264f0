"""Points for one round: a pure function, the only place that knows the rules.

The "How scoring works" page reads the same constants, so what players read is what
the server computes. All inputs come from the server (its prediction, its clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from guessgame.game import constants

BASE_POINTS = 100
"""For a correct guess at or above the threshold."""

CONFIDENCE_POINTS = 100
"""At most this many more, rising linearly from the threshold (0) to certainty (all)."""

SPEED_POINTS = 100
"""At most this many more, falling linearly from an instant drawing (all) to the bell (0)."""

STREAK_POINTS = 25
"""For each correct round in a row just before this one..."""

STREAK_CAP = 4
"""...counting at most this many (so at most 100 streak points)."""

MAX_ROUND_POINTS = BASE_POINTS + CONFIDENCE_POINTS + SPEED_POINTS + STREAK_POINTS * STREAK_CAP


@dataclass(frozen=True)
class RoundScore:
    """Points and where they came from, for the result page."""

    recognised: bool
    base: int = 0
    confidence: int = 0
    speed: int = 0
    streak: int = 0

    @property
    def total(self) -> int:
        return self.base + self.confidence + self.speed + self.streak


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
    time from the round's start to the submission; ``streak`` is how many rounds in a
    row just before this one scored. A late drawing, a wrong guess or a guess below the
    threshold scores nothing.
    """
    if late or predicted is None or confidence is None or predicted != target:
        return RoundScore(recognised=False)
    if not confidence >= threshold:  # also refuses NaN
        return RoundScore(recognised=False)
    confidence = min(1.0, float(confidence))
    sureness = (confidence - threshold) / (1.0 - threshold) if threshold < 1 else 1.0
    seconds = min(max(0.0, float(seconds)), round_seconds)
    quickness = 1.0 - seconds / round_seconds if round_seconds > 0 else 0.0
    return RoundScore(
        recognised=True,
        base=BASE_POINTS,
        confidence=round(CONFIDENCE_POINTS * sureness),
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
