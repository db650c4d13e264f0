"""Retrain the model on MNIST plus the players' trusted drawings, and let the gate decide.

The steps, in this process (the web and the workers keep serving the active version;
they switch when the new one is activated, at their next prediction, because they ask
the database which version is active):

1. choose the data (:func:`plan_data`): the drawings of a fixed share of players (the
   players' hold-out, ``guessgame.review.gate.is_holdout_player``) are never trained on;
   the other players' drawings are trained on when trusted (``--data``: reviewed, or
   agreed with the model; see ``DrawingQuerySet.trusted``);
2. export both sets (``guessgame.review.export``, never rejected or blank);
3. repeat the training drawings so they weigh as about ``PLAYERS_TARGET`` digits, and
   train with ``training.train.run`` (MNIST + these, augmented);
4. score the new model and the active one on the same drawings: MNIST test, the canvas
   benchmark, the non-digit benchmark and the players' hold-out (paired, with a
   bootstrap interval over players);
5. store the new version (``MODEL_DIR/<version>``: model, metrics.json with the gate's
   record, plots) and activate it by ``--activate``: ``auto`` only when the gate
   accepts it (``guessgame.review.gate.decide``). The activation is recorded as a
   ``ModelActivation``.

An interrupted or failed run removes its unfinished version folder, so the same
``--name`` can be run again. TensorFlow and matplotlib are imported inside the functions
that need them, never at import.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count

from guessgame.game.models import TRUST_CONFIDENCE, Drawing
from guessgame.review import export, gate
from inference.contract import NOT_DIGIT_CLASS, from_uint8
from inference.lifecycle import OVERRIDE_REASON_MIN_CHARS

log = logging.getLogger(__name__)

PLAYERS_TARGET = 3000
"""The players' training drawings are repeated to weigh as about this many digits."""

MAX_REPEATS = 30
"""...but no drawing is repeated more than this many times (a handful must not dominate)."""

DATA_POLICIES = {
    "trusted": "reviewed drawings, plus unreviewed ones where the model named the round's "
    "target with confidence (default)",
    "reviewed": "only drawings staff approved or relabelled",
    "all": "every drawing not rejected, unreviewed ones with the round's target as label",
}

ACTIVATE_RULES = ("auto", "always", "never")
ACTIVATION_RULE_TEXT = (
    "auto activates the new model only when the gate accepts it; always activates it even "
    "so, as an override that needs a typed --reason; never only records it. " + gate.RULE_TEXT
)

Say = Callable[[str], None]


class RetrainError(RuntimeError):
    """A retrain that cannot go on; ``str(error)`` says why in a sentence."""


# --- the data ------------------------------------------------------------------------


@dataclass
class DataPlan:
    """Which players' drawings train and which judge, counted (the dry run prints it)."""

    policy: str
    min_confidence: float
    training: int = 0
    reviewed: int = 0
    agreed: int = 0
    waiting: int = 0
    holdout: int = 0
    holdout_players: int = 0
    training_players: int = 0
    no_player: int = 0

    def lines(self) -> list[str]:
        return [
            f"Training data (--data {self.policy}: {DATA_POLICIES[self.policy]}"
            + (f", confidence >= {self.min_confidence:g}" if self.policy == "trusted" else "")
            + f"): {self.training} drawings from {self.training_players} players "
            f"({self.reviewed} reviewed, {self.agreed} unreviewed"
            + (" where player and model agree" if self.policy == "trusted" else "")
            + f"); {self.waiting} wait for review.",
            f"Players' hold-out (never trained on): {self.holdout} drawings from "
            f"{self.holdout_players} players ({gate.HOLDOUT_SHARE:.0%} of players, fixed).",
        ] + (
            [f"Left out: {self.no_player} drawings whose player account is gone."]
            if self.no_player
            else []
        )


def plan_data(*, policy: str = "trusted", min_confidence: float = TRUST_CONFIDENCE):
    """The plan and the two querysets (training, hold-out) a retrain exports.

    A drawing without a player (the account was deleted) is in neither: it may have been
    trained on before, so it cannot judge, and its player's side is unknown.
    """
    if policy not in DATA_POLICIES:
        raise RetrainError(f"--data must be one of {', '.join(DATA_POLICIES)}.")
    if not 0 <= min_confidence <= 1:
        raise RetrainError(f"--trust-confidence must be between 0 and 1, not {min_confidence}.")
    candidates = Drawing.objects.exportable()
    players = set(
        candidates.exclude(player=None).order_by().values_list("player_id", flat=True).distinct()
    )
    held_players = {pk for pk in players if gate.is_holdout_player(pk)}
    holdout = candidates.filter(player_id__in=held_players)
    playing = candidates.exclude(player=None).exclude(player_id__in=held_players)
    if policy == "trusted":
        training = playing.trusted(min_confidence=min_confidence)
    elif policy == "reviewed":
        training = playing.reviewed()
    else:
        training = playing
    plan = DataPlan(policy=policy, min_confidence=min_confidence)
    plan.training = training.count()
    plan.reviewed = training.reviewed().count()
    plan.agreed = plan.training - plan.reviewed
    plan.waiting = playing.count() - plan.training
    plan.holdout = holdout.count()
    plan.holdout_players = len(held_players)
    plan.training_players = len(players) - len(held_players)
    plan.no_player = candidates.filter(player=None).count()
    return plan, training, holdout


# --- pure parts ----------------------------------------------------------------------


def player_repeats(n: int, *, target: int = PLAYERS_TARGET, max_repeats: int = MAX_REPEATS) -> int:
    """How many times each players' training drawing goes into the training set."""
    if n <= 0:
        return 0
    return int(min(max(math.ceil(target / n), 1), max_repeats))


def version_name(now: datetime | None = None) -> str:
    return "retrain-" + (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


# --- the run -------------------------------------------------------------------------


@dataclass
class RetrainResult:
    version_name: str
    directory: Path
    plan: DataPlan | None = None
    exported: int = 0
    held_out: int = 0
    repeats: int = 0
    per_label: dict = field(default_factory=dict)
    gate: gate.GateResult | None = None
    active_name: str | None = None
    activated: bool = False
    decision: str = ""
    version: object | None = None


def _write_npz(path: Path, images: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> Path:
    path.write_bytes(
        export.npz_bytes(
            {
                "images": images.astype(np.uint8),
                "labels": labels.astype(np.int64),
                "ids": ids.astype(np.int64),
            }
        )
    )
    return path


def benchmark_comparisons(
    new: dict, active: dict | None, *, mnist_size: int
) -> list[tuple[gate.Comparison, float]]:
    """The fixed benchmarks as gate comparisons, each with the drop it tolerates
    (``new`` and ``active``: ``training.evaluate`` stats on the same drawings)."""
    active = active or {}

    def said_not_digit(stats: dict) -> float | None:
        rate = (stats.get("nondigit") or {}).get("named_as_digit_rate")
        return None if rate is None else 1 - rate

    nondigit_size = (new.get("nondigit") or {}).get("count", 0)
    return [
        (
            gate.Comparison(
                "MNIST test",
                mnist_size,
                new["mnist_test_accuracy"],
                active.get("mnist_test_accuracy"),
            ),
            gate.MNIST_TOLERANCE,
        ),
        (
            gate.Comparison(
                "canvas benchmark",
                int(new["canvas_size"]),
                new["canvas_accuracy"],
                active.get("canvas_accuracy"),
            ),
            gate.CANVAS_TOLERANCE,
        ),
        (
            gate.Comparison(
                "non-digit benchmark, called not a digit",
                int(nondigit_size),
                said_not_digit(new),
                said_not_digit(active),
            ),
            gate.NONDIGIT_TOLERANCE,
        ),
    ]


def _load_export(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in ("images", "labels", "ids", "player_ids")}


def _remove_unfinished(directory: Path, name: str) -> None:
    """A run that stops leaves nothing behind: its folder would block the same --name."""
    from inference.models import ModelVersion

    if ModelVersion.objects.filter(name=name).exists():
        return  # registered: the run had finished
    shutil.rmtree(directory, ignore_errors=True)


def retrain(
    *,
    model_name: str = "default",
    epochs: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    activate: str = "auto",
    reason: str = "",
    data: str = "trusted",
    min_confidence: float = TRUST_CONFIDENCE,
    from_scratch: bool = False,
    dry_run: bool = False,
    say: Say = print,
    progress: export.Progress | None = None,
    name: str | None = None,
) -> RetrainResult:
    """Choose the data, export, train, compare, store and maybe activate (module docstring).

    The version folder is removed when the run stops before the end (an error, Ctrl-C).
    """
    from inference.models import ModelVersion

    if activate not in ACTIVATE_RULES:
        raise RetrainError(f"--activate must be one of {', '.join(ACTIVATE_RULES)}.")
    if activate == "always" and len(reason.strip()) < OVERRIDE_REASON_MIN_CHARS:
        raise RetrainError(
            "--activate always overrides the gate: say why with --reason "
            f"(at least {OVERRIDE_REASON_MIN_CHARS} characters); it is recorded."
        )
    name = name or version_name()
    directory = Path(settings.MODEL_DIR) / name
    if directory.exists() and any(directory.iterdir()):
        raise RetrainError(f"{directory} already exists; it is another run's version.")
    if ModelVersion.objects.filter(name=name).exists():
        raise RetrainError(f"A model version named {name} already exists.")
    result = RetrainResult(version_name=name, directory=directory)
    plan, training_drawings, holdout_drawings = plan_data(
        policy=data, min_confidence=min_confidence
    )
    result.plan = plan
    for line in plan.lines():
        say(line)
    target = PLAYERS_TARGET if limit is None else min(PLAYERS_TARGET, limit)
    result.exported, result.held_out = plan.training, plan.holdout
    result.repeats = player_repeats(plan.training, target=target)
    if dry_run:
        result.per_label = {
            row["truth"]: row["n"]
            for row in training_drawings.with_truth()
            .values("truth")
            .annotate(n=Count("pk"))
            .order_by("truth")
        }
        return result
    if plan.training == 0:
        raise RetrainError(
            f"No players' drawings to train on with --data {data} ({plan.waiting} wait for "
            "review, held-out players' drawings are never trained on). Review some at "
            "/staff/review/, or widen with --data all."
        )
    try:
        return _train_and_decide(
            result,
            training_drawings=training_drawings,
            holdout_drawings=holdout_drawings,
            model_name=model_name,
            epochs=epochs,
            limit=limit,
            target=target,
            seed=seed,
            activate=activate,
            reason=reason,
            from_scratch=from_scratch,
            say=say,
            progress=progress,
        )
    except BaseException:
        _remove_unfinished(directory, name)
        raise


def _train_and_decide(
    result: RetrainResult,
    *,
    training_drawings,
    holdout_drawings,
    model_name: str,
    epochs: int | None,
    limit: int | None,
    target: int,
    seed: int,
    activate: str,
    reason: str,
    from_scratch: bool,
    say: Say,
    progress: export.Progress | None,
) -> RetrainResult:
    from inference.models import ModelVersion

    directory, name = result.directory, result.version_name
    # --- 2. export ---
    data_dir = directory / "data"
    data_dir.mkdir(parents=True)
    exported = export.export_drawings(
        out_dir=data_dir / "train", drawings=training_drawings, progress=progress
    )
    train = _load_export(data_dir / "train" / export.NPZ_NAME)
    held = {key: value[:0] for key, value in train.items()}  # none held out yet
    if result.plan.holdout:
        export.export_drawings(out_dir=data_dir / "holdout", drawings=holdout_drawings)
        held = _load_export(data_dir / "holdout" / export.NPZ_NAME)
    leaked = gate.holdout_mask(train["player_ids"])
    if leaked.any():  # plan_data keeps them apart; a player must never be on both sides
        raise RetrainError(f"{int(leaked.sum())} hold-out players' drawings in training.")
    result.exported = len(train["labels"])
    result.held_out = len(held["labels"])
    result.per_label = dict(sorted(exported.per_label.items()))

    # --- 3. weigh and train ---
    result.repeats = player_repeats(result.exported, target=target)
    repeated = np.tile(np.arange(result.exported), result.repeats)
    player_data = _write_npz(
        data_dir / "players-train.npz",
        train["images"][repeated],
        train["labels"][repeated],
        train["ids"][repeated],
    )
    say(
        f"Players' drawings: {result.exported} x {result.repeats} in training, "
        f"{result.held_out} held out."
    )

    from training import data as training_data
    from training import evaluate
    from training import train as training_train

    active_version = ModelVersion.active()
    init_from = None if from_scratch else fine_tune_source(active_version, model_name)
    say(
        f"Fine-tuning {active_version.name} ({training_train.FINE_TUNE_EPOCHS} epochs unless "
        "--epochs) on the players' drawings and a replay of MNIST."
        if init_from
        else "Training from scratch (MNIST and the players' drawings)."
    )
    test = training_data.load_mnist().test.take(limit)
    say("Benchmarks (drawn once, then cached on disk)...")
    benchmarks = evaluate.cached_benchmark_inputs(
        test.images,
        test.labels,
        cache_dir=training_train.CACHE_DIR,
        canvas_limit=limit,
        nondigit_n=limit,
        style_n=limit,
    )
    metrics = training_train.run(
        model_name,
        epochs=epochs,
        limit=limit,
        out_dir=directory,
        player_data=player_data,
        seed=seed,
        command=None,
        init_from=init_from,
        benchmarks=benchmarks,
    )

    # --- 4. score both models on the same drawings ---
    held_images = from_uint8(held["images"])
    new_predict = evaluate.tflite_predict(directory / "model.tflite")
    new_held = new_predict(held_images)
    active_scores, holdout = None, None
    if active_version is not None and active_version.tflite_path.exists():
        result.active_name = active_version.name
        say(f"Scoring the active model {active_version.name} on the same drawings...")
        active_predict = evaluate.tflite_predict(active_version.tflite_path)
        active_scores = evaluate.score(active_predict, benchmarks)
        holdout = gate.compare_on_holdout(
            held["labels"],
            new_held.argmax(axis=1),
            active_predict(held_images).argmax(axis=1),
            held["player_ids"],
        )
    result.gate = gate.decide(
        benchmarks=benchmark_comparisons(metrics, active_scores, mnist_size=len(test)),
        holdout=holdout,
        active_version=result.active_name,
    )

    # --- 5. store and decide ---
    if activate == "auto":
        result.activated = result.gate.accepted
    else:
        result.activated = activate == "always"
    result.decision = _decision_sentence(activate, result, reason=reason)
    metrics["gate"] = result.gate.record()
    metrics["retrain"] = {
        "rule": activate,
        "rule_text": ACTIVATION_RULE_TEXT,
        "decision": result.decision,
        "activated": result.activated,
        "data": asdict(result.plan),
        "players_trained_on": result.exported,
        "holdout_size": result.held_out,
        "holdout_share_of_players": gate.HOLDOUT_SHARE,
        "player_repeats": result.repeats,
        "fine_tuned_from": active_version.name if init_from else None,
        "players_per_label": {str(k): int(v) for k, v in result.per_label.items()},
        "active_version": result.active_name,
    }
    from training import report

    report.plot_model_comparison(
        directory / "retrain_comparison.png",
        [
            (c.set, c.size, c.candidate, c.active)
            for c in result.gate.comparisons
            if c.candidate is not None
        ],
        active_name=result.gate.active_version,
        verdict=result.gate.verdict,
    )
    if result.held_out:
        confusion = evaluate.classification_stats(held["labels"], new_held)["confusion_matrix"]
        report.plot_confusion_matrix(
            confusion, directory / "players_confusion_matrix.png",
            title="Players' hold-out: new model",
        )  # fmt: skip
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    from inference.lifecycle import activate_by_retrain
    from inference.registry import register_model_dir

    version = register_model_dir(directory, name=name)
    if result.activated:
        activate_by_retrain(
            version=version, decision=result.decision, override=not result.gate.accepted
        )
    result.version = version
    log.info(
        "event=retrained version=%s verdict=%r activated=%s",
        name,
        result.gate.verdict,
        result.activated,
    )
    return result


def fine_tune_source(active, model_name: str) -> Path | None:
    """The active model's folder when a fine-tune can start from it (the default
    architecture with the "not a digit" output, its ``model.keras`` at hand), else None:
    train from scratch."""
    if active is None or model_name != "default" or active.architecture != "default":
        return None
    if (active.metrics or {}).get("outputs") != NOT_DIGIT_CLASS + 1:
        return None  # an older 10-output model: its head cannot learn "not a digit"
    keras_file = active.directory / "model.keras"
    return active.directory if keras_file.exists() else None


def _decision_sentence(activate: str, result: RetrainResult, *, reason: str) -> str:
    verdict = result.gate.reason
    if activate == "never":
        return f"not activated: --activate never (gate: {verdict})"
    if activate == "always":
        return f"activated: --activate always, reason: {reason.strip()} (gate: {verdict})"
    state = "activated" if result.activated else "not activated"
    return f"{state}: gate: {verdict}"
