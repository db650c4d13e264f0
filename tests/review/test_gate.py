"""The gate: a fixed players' hold-out, a paired interval, and a verdict with its numbers."""

from __future__ import annotations

import numpy as np
import pytest

from guessgame.review import gate

ACTIVE = "v1"


def benchmarks(mnist=(0.99, 0.99), canvas=(0.98, 0.98), nondigit=(0.97, 0.97)):
    """The fixed benchmarks as (candidate, active) pairs, each with its tolerance."""
    return [
        (gate.Comparison("MNIST test", 10_000, *mnist), gate.MNIST_TOLERANCE),
        (gate.Comparison("canvas benchmark", 10_000, *canvas), gate.CANVAS_TOLERANCE),
        (
            gate.Comparison("non-digit benchmark, called not a digit", 2_000, *nondigit),
            gate.NONDIGIT_TOLERANCE,
        ),
    ]


def holdout(candidate_rate: float, active_rate: float, *, players=40, per_player=10, seed=0):
    """Both models on a players' hold-out where each is right at about the given rate."""
    rng = np.random.default_rng(seed)
    n = players * per_player
    labels = rng.integers(0, 10, n)
    player_ids = np.repeat(np.arange(1, players + 1), per_player)
    candidate = np.where(rng.random(n) < candidate_rate, labels, (labels + 1) % 10)
    active = np.where(rng.random(n) < active_rate, labels, (labels + 1) % 10)
    return gate.compare_on_holdout(labels, candidate, active, player_ids)


def test_players_are_held_out_by_a_stable_hash_of_about_15_percent():
    ids = np.arange(1, 20_001)

    mask = gate.holdout_mask(ids)

    assert 0.14 < mask.mean() < 0.16
    assert np.array_equal(mask, gate.holdout_mask(ids)), "the same players every time"
    assert gate.is_holdout_player(int(ids[mask][0])) is True
    assert not gate.holdout_mask(np.array([-1]))[0], "a deleted account is never held out"


def test_the_interval_is_paired_and_resamples_players():
    labels = np.arange(200) % 10
    players = np.repeat(np.arange(20), 10)

    same = gate.paired_bootstrap(labels == labels, labels == labels, players)
    better = gate.paired_bootstrap(np.ones(200, bool), labels % 2 == 0, players)

    assert same == (0.0, 0.0), "identical answers: no difference at all"
    assert better[0] > 0.3 and better[1] <= 0.65


def test_a_candidate_clearly_better_on_the_players_hold_out_is_accepted_with_its_numbers():
    result = gate.decide(
        benchmarks=benchmarks(), holdout=holdout(0.95, 0.80), active_version=ACTIVE
    )

    assert result.verdict == gate.ACCEPT
    assert "players' hold-out (400 drawings from 40 players)" in result.reason
    assert "interval" in result.reason
    record = result.record()
    assert [c["set"] for c in record["comparisons"]] == [
        "MNIST test",
        "canvas benchmark",
        "non-digit benchmark, called not a digit",
        "players' hold-out",
    ]
    assert all(c["size"] > 0 for c in record["comparisons"])


def test_a_candidate_clearly_worse_on_the_players_hold_out_is_refused():
    result = gate.decide(
        benchmarks=benchmarks(), holdout=holdout(0.60, 0.90), active_version=ACTIVE
    )

    assert result.verdict == gate.REFUSE
    assert result.reason.startswith("refuse: worse on the players' hold-out (400 drawings")


def test_a_small_hold_out_gives_no_verdict_instead_of_a_coin_toss():
    # One drawing is 4 points of 24: a "better" candidate proves nothing.
    small = holdout(1.0, 0.9, players=3, per_player=8)

    result = gate.decide(benchmarks=benchmarks(), holdout=small, active_version=ACTIVE)

    assert result.verdict == gate.NOT_ENOUGH_EVIDENCE
    assert "24 drawings from 3 players" in result.reason
    assert f"at least {gate.MIN_HOLDOUT_DRAWINGS} drawings" in result.reason


def test_two_equal_models_on_a_noisy_hold_out_are_not_enough_evidence_yet():
    # About equal, 10 players: the interval is wider than the margin either side.
    result = gate.decide(
        benchmarks=benchmarks(),
        holdout=holdout(0.80, 0.80, players=10, per_player=6, seed=3),
        active_version=ACTIVE,
    )

    assert result.verdict == gate.NOT_ENOUGH_EVIDENCE
    assert "too wide to tell" in result.reason


def test_without_a_hold_out_there_is_no_verdict_from_the_players():
    result = gate.decide(benchmarks=benchmarks(), holdout=None, active_version=ACTIVE)

    assert result.verdict == gate.NOT_ENOUGH_EVIDENCE


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"mnist": (0.987, 0.990)}, "0.30 points worse on MNIST test (10,000 drawings)"),
        ({"canvas": (0.950, 0.980)}, "3.00 points worse on canvas benchmark (10,000 drawings)"),
        ({"nondigit": (0.60, 0.97)}, "37.00 points worse on non-digit benchmark"),
    ],
)
def test_a_candidate_worse_on_a_fixed_benchmark_is_refused_whatever_the_players_say(kwargs, reason):
    result = gate.decide(
        benchmarks=benchmarks(**kwargs), holdout=holdout(0.99, 0.70), active_version=ACTIVE
    )

    assert result.verdict == gate.REFUSE
    assert reason in result.reason


def test_small_drops_within_the_tolerances_pass():
    result = gate.decide(
        benchmarks=benchmarks(mnist=(0.989, 0.990), canvas=(0.976, 0.980), nondigit=(0.96, 0.97)),
        holdout=holdout(0.95, 0.80),
        active_version=ACTIVE,
    )

    assert result.verdict == gate.ACCEPT


def test_with_no_active_model_the_candidate_is_accepted():
    result = gate.decide(benchmarks=benchmarks(), holdout=None, active_version=None)

    assert result.verdict == gate.ACCEPT
    assert "no active model" in result.reason


def test_the_verdict_strings_match_what_model_versions_read():
    from inference.models import ACCEPTED

    assert gate.ACCEPT == ACCEPTED
