"""The gate: may a candidate model replace the active one? An answer with its evidence.

Pure functions (NumPy only), so the rule is tested without a model or a database.

* **The players' hold-out** is a fixed set of players, chosen once by a stable hash of
  their id (:func:`is_holdout_player`, about :data:`HOLDOUT_SHARE` of them): their
  drawings are never trained on, by any version, so every version is judged on drawings
  no model has seen, and the set only grows.
* **The comparison** is paired: both models answer the same held-out drawings. The
  difference in accuracy gets a bootstrap interval that resamples *players* (a player's
  drawings look alike, so they are not independent evidence).
* **The verdict** is one of :data:`ACCEPT`, :data:`REFUSE` or :data:`NOT_ENOUGH_EVIDENCE`,
  with a sentence and every comparison (which set, how many drawings, both scores).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

import numpy as np

ACCEPT, REFUSE, NOT_ENOUGH_EVIDENCE = "accept", "refuse", "not enough evidence yet"
VERDICTS = (ACCEPT, REFUSE, NOT_ENOUGH_EVIDENCE)

HOLDOUT_SHARE = 0.15
"""Share of players (not drawings) whose drawings are kept to judge models on."""
HOLDOUT_SALT = b"guessgame-players-holdout-v1"
"""Changing it would move players between training and hold-out: never do."""

MIN_HOLDOUT_PLAYERS = 5
MIN_HOLDOUT_DRAWINGS = 50
"""Below either, the hold-out cannot tell two models apart: no verdict from it."""

NONINFERIORITY_MARGIN = 0.01
"""The candidate is accepted when, with 95% confidence, it is at most 1 point worse
than the active model on the players' hold-out (and typically it is better)."""

BOOTSTRAP_RESAMPLES = 2000
INTERVAL = 0.95
BOOTSTRAP_SEED = 0
"""Seeded: the same predictions give the same interval."""

MNIST_TOLERANCE = 0.002
"""The candidate may be at most 0.2 percentage points worse on MNIST test (10,000 digits)."""

CANVAS_TOLERANCE = 0.005
"""...and at most 0.5 points worse on the canvas benchmark. Its error rate is about
twice MNIST's (strokes redrawn at random sizes, places and angles), so two equally good
models differ more on it from run to run."""

NONDIGIT_TOLERANCE = 0.02
"""...and may name at most 2 points more of the non-digit benchmark's drawings as digits
(a model that stops saying "not a digit" lets scribbles score)."""

RULE_TEXT = (
    "The gate accepts a candidate when it is not more than "
    f"{MNIST_TOLERANCE * 100:.1f} points worse than the active model on MNIST test, "
    f"{CANVAS_TOLERANCE * 100:.1f} on the canvas benchmark, names not more than "
    f"{NONDIGIT_TOLERANCE * 100:.1f} points more non-digits as digits, AND on the players' "
    f"hold-out (a fixed {HOLDOUT_SHARE:.0%} of players, never trained on) the "
    f"{INTERVAL:.0%} bootstrap interval of its accuracy minus the active model's lies "
    f"above -{NONINFERIORITY_MARGIN * 100:.0f} point. It refuses one that is worse on a "
    "benchmark or whose interval lies below 0; otherwise (or with fewer than "
    f"{MIN_HOLDOUT_DRAWINGS} held-out drawings from {MIN_HOLDOUT_PLAYERS} players) it says "
    "not enough evidence yet."
)


def is_holdout_player(player_id: int, *, share: float = HOLDOUT_SHARE) -> bool:
    """Whether this player's drawings belong to the hold-out: a hash, so it never changes."""
    digest = hashlib.sha256(HOLDOUT_SALT + str(int(player_id)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def holdout_mask(player_ids: np.ndarray, *, share: float = HOLDOUT_SHARE) -> np.ndarray:
    """``is_holdout_player`` for an array of ids (-1, a deleted account, is never held out)."""
    return np.asarray(
        [pid >= 0 and is_holdout_player(pid, share=share) for pid in np.asarray(player_ids)],
        dtype=bool,
    )


@dataclass(frozen=True)
class Comparison:
    """One set both models were scored on: what it is, how big, both accuracies (0-1)."""

    set: str
    size: int
    candidate: float | None
    active: float | None
    players: int | None = None
    interval: tuple[float, float] | None = None
    """``INTERVAL`` bootstrap interval of candidate minus active (paired sets only)."""

    @property
    def difference(self) -> float | None:
        if self.candidate is None or self.active is None:
            return None
        return self.candidate - self.active

    def sentence(self) -> str:
        """ "canvas benchmark (10,000 drawings): 0.9712 vs 0.9690 active"."""
        players = f" from {self.players} players" if self.players is not None else ""
        text = f"{self.set} ({self.size:,} drawings{players}): "
        if self.candidate is None:
            return text + "not scored"
        text += f"{self.candidate:.4f}"
        if self.active is not None:
            text += f" vs {self.active:.4f} active"
        if self.interval is not None:
            low, high = self.interval
            text += (
                f", difference {self.difference * 100:+.1f} points "
                f"[{INTERVAL:.0%} interval {low * 100:+.1f} to {high * 100:+.1f}]"
            )
        return text


def paired_bootstrap(
    candidate_right: np.ndarray,
    active_right: np.ndarray,
    groups: np.ndarray,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """The ``INTERVAL`` percentile interval of mean(candidate) - mean(active), resampling
    whole groups (players) with replacement; both models always see the same resample."""
    candidate_right = np.asarray(candidate_right, dtype=np.float64)
    active_right = np.asarray(active_right, dtype=np.float64)
    _, group_index = np.unique(np.asarray(groups), return_inverse=True)
    n_groups = int(group_index.max()) + 1
    wins = np.bincount(group_index, weights=candidate_right - active_right, minlength=n_groups)
    sizes = np.bincount(group_index, minlength=n_groups).astype(np.float64)
    rng = np.random.default_rng(seed)
    # How often each group is drawn in each resample: a resample is then two weighted sums.
    counts = rng.multinomial(n_groups, np.full(n_groups, 1 / n_groups), size=resamples)
    differences = (counts @ wins) / np.maximum(counts @ sizes, 1)
    tail = (1 - INTERVAL) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return float(low), float(high)


def compare_on_holdout(
    labels: np.ndarray,
    candidate_guesses: np.ndarray,
    active_guesses: np.ndarray,
    player_ids: np.ndarray,
    *,
    seed: int = BOOTSTRAP_SEED,
) -> Comparison:
    """Both models on the players' hold-out: accuracies and the paired interval."""
    labels = np.asarray(labels)
    candidate_right = np.asarray(candidate_guesses) == labels
    active_right = np.asarray(active_guesses) == labels
    size, players = len(labels), len(np.unique(player_ids))
    if size == 0:
        return Comparison("players' hold-out", 0, None, None, players=0)
    interval = paired_bootstrap(candidate_right, active_right, player_ids, seed=seed)
    return Comparison(
        "players' hold-out",
        size,
        float(candidate_right.mean()),
        float(active_right.mean()),
        players=players,
        interval=interval,
    )


@dataclass
class GateResult:
    verdict: str
    reason: str
    comparisons: list[Comparison] = field(default_factory=list)
    active_version: str | None = None

    @property
    def accepted(self) -> bool:
        return self.verdict == ACCEPT

    def record(self) -> dict:
        """JSON for ``metrics.json``'s ``gate`` (what the models page and /readyz show)."""
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "active_version": self.active_version,
            "rule": RULE_TEXT,
            "comparisons": [
                {**asdict(c), "interval": list(c.interval) if c.interval else None}
                for c in self.comparisons
            ],
        }


def decide(
    *,
    benchmarks: list[tuple[Comparison, float]],
    holdout: Comparison | None,
    active_version: str | None,
) -> GateResult:
    """The verdict on a candidate (see :data:`RULE_TEXT`).

    ``benchmarks`` pairs each fixed benchmark's comparison with the drop it tolerates;
    a comparison where either score is missing is listed but not judged. Every score is
    "higher is better" (for the non-digit benchmark: the share called "not a digit").
    """
    shown = [c for c, _ in benchmarks] + ([holdout] if holdout is not None else [])
    if active_version is None:
        return GateResult(ACCEPT, "accept: there was no active model to compare with", shown)
    for comparison, tolerance in benchmarks:
        if comparison.difference is None:
            continue
        if -comparison.difference > tolerance:
            return GateResult(
                REFUSE,
                f"refuse: {-comparison.difference * 100:.2f} points worse on "
                f"{comparison.sentence()} (the limit is {tolerance * 100:.1f})",
                shown,
                active_version,
            )
    if holdout is None or holdout.interval is None:
        return GateResult(
            NOT_ENOUGH_EVIDENCE,
            "not enough evidence yet: no players' hold-out drawings to compare on",
            shown,
            active_version,
        )
    low, high = holdout.interval
    if high < 0:
        return GateResult(
            REFUSE, f"refuse: worse on the {holdout.sentence()}", shown, active_version
        )
    too_small = holdout.size < MIN_HOLDOUT_DRAWINGS or (holdout.players or 0) < MIN_HOLDOUT_PLAYERS
    if too_small:
        return GateResult(
            NOT_ENOUGH_EVIDENCE,
            f"not enough evidence yet: the {holdout.sentence()}; at least "
            f"{MIN_HOLDOUT_DRAWINGS} drawings from {MIN_HOLDOUT_PLAYERS} players are needed",
            shown,
            active_version,
        )
    if low > -NONINFERIORITY_MARGIN:
        return GateResult(
            ACCEPT,
            f"accept: within the benchmarks' limits and, on the {holdout.sentence()}, "
            f"at most {NONINFERIORITY_MARGIN * 100:.0f} point worse with {INTERVAL:.0%} "
            "confidence",
            shown,
            active_version,
        )
    return GateResult(
        NOT_ENOUGH_EVIDENCE,
        f"not enough evidence yet: on the {holdout.sentence()} the interval is too wide "
        "to tell; more held-out players' drawings will decide",
        shown,
        active_version,
    )
