"""Retrain the model on MNIST plus the players' reviewed drawings, and decide whether it ships.

The steps, in this process (the web and the workers keep serving the active version;
they switch when the new one is activated, at their next prediction, because they ask
the database which version is active):

1. export the players' drawings (``guessgame.review.export``, never rejected or blank);
2. hold out a stratified slice of them (``HOLDOUT_SHARE`` of each digit) for judging;
3. repeat the rest so they weigh as about ``PLAYERS_TARGET`` training digits, and train
   with ``training.train.run`` (MNIST + these, augmented);
4. evaluate the new model and the active one on MNIST test, the canvas benchmark and the
   held-out players' drawings;
5. store the new version (``MODEL_DIR/<version>``: model, metrics.json, plots) and
   activate it by the rule (``activation_decision``): under ``auto``, only when it is
   not worse than the active model on the held-out players' drawings, MNIST test and
   the canvas benchmark (the last two within ``MNIST_TOLERANCE`` and
   ``CANVAS_TOLERANCE``). The activation is recorded as a ``ModelActivation``.

TensorFlow and matplotlib are imported inside the functions that need them, never at import.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.conf import settings

from guessgame.review import export
from inference.preprocess import from_uint8

log = logging.getLogger(__name__)

HOLDOUT_SHARE = 0.2
"""Share of each digit's players' drawings kept out of training, to judge the models on."""

PLAYERS_TARGET = 3000
"""The players' training drawings are repeated to weigh as about this many digits."""

MAX_REPEATS = 30
"""...but no drawing is repeated more than this many times (a handful must not dominate)."""

MNIST_TOLERANCE = 0.002
"""auto: the new model may be at most 0.2 percentage points worse on MNIST test."""

CANVAS_TOLERANCE = 0.005
"""auto: ...and at most 0.5 percentage points worse on the canvas benchmark. Its error
rate is about twice MNIST's (strokes redrawn at random sizes, places and angles), so two
equally good models differ more on it from run to run."""

NONDIGIT_TOLERANCE = 0.02
"""auto: ...and may name at most 2 percentage points more of the non-digit benchmark's
drawings as digits (a model that stops saying "not a digit" lets scribbles score)."""

ACTIVATE_RULES = ("auto", "always", "never")
ACTIVATION_RULE_TEXT = (
    "auto activates the new model when there is no active one, or when it is not worse "
    "than the active one on the held-out players' drawings AND not more than "
    f"{MNIST_TOLERANCE * 100:.1f} percentage points worse on MNIST test AND not more than "
    f"{CANVAS_TOLERANCE * 100:.1f} percentage points worse on the canvas benchmark AND "
    f"naming not more than {NONDIGIT_TOLERANCE * 100:.1f} percentage points more non-digits "
    "as digits; "
    "always activates it; never only records it."
)

Say = Callable[[str], None]


class RetrainError(RuntimeError):
    """A retrain that cannot go on; ``str(error)`` says why in a sentence."""


# --- pure parts ----------------------------------------------------------------------


def stratified_holdout(
    labels: np.ndarray, *, share: float = HOLDOUT_SHARE, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held out): ``share`` of each digit held out, at least one of any
    digit with two or more drawings, none of a digit with one. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for digit in np.unique(labels):
        members = np.flatnonzero(labels == digit)
        members = members[rng.permutation(len(members))]
        n_held = math.floor(share * len(members))
        if n_held == 0 and len(members) >= 2:
            n_held = 1
        held.extend(members[:n_held])
        train.extend(members[n_held:])
    return np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(held, dtype=np.int64))


def player_repeats(n: int, *, target: int = PLAYERS_TARGET, max_repeats: int = MAX_REPEATS) -> int:
    """How many times each players' training drawing goes into the training set."""
    if n <= 0:
        return 0
    return int(min(max(math.ceil(target / n), 1), max_repeats))


def activation_decision(*, rule: str, new: dict, active: dict | None) -> tuple[bool, str]:
    """Whether the new model becomes active, and why (see ``ACTIVATION_RULE_TEXT``).

    ``new`` and ``active`` hold ``mnist_test_accuracy``, ``canvas_accuracy`` and
    ``players_accuracy`` (0-1; players' is None when no drawings were held out, and a
    score missing on either side is not compared); ``active`` is None without an active
    model. Every criterion must pass: a model better on MNIST but worse on the canvas,
    where players draw, is refused.
    """
    if rule not in ACTIVATE_RULES:
        raise ValueError(f"--activate must be one of {', '.join(ACTIVATE_RULES)}.")
    if rule == "always":
        return True, "activated: --activate always"
    if rule == "never":
        return False, "not activated: --activate never"
    if active is None:
        return True, "activated: there was no active model to compare with"
    for key, benchmark, tolerance in (
        ("mnist_test_accuracy", "MNIST test", MNIST_TOLERANCE),
        ("canvas_accuracy", "the canvas benchmark", CANVAS_TOLERANCE),
    ):
        if new.get(key) is None or active.get(key) is None:
            continue
        drop = active[key] - new[key]
        if drop > tolerance:
            return False, (
                f"not activated: {drop * 100:.2f} points worse on {benchmark} "
                f"(the limit is {tolerance * 100:.1f})"
            )
    new_junk, active_junk = (
        new.get("nondigit_named_as_digit"),
        active.get("nondigit_named_as_digit"),
    )
    if (
        new_junk is not None
        and active_junk is not None
        and new_junk - active_junk > (NONDIGIT_TOLERANCE)
    ):
        return False, (
            f"not activated: names {(new_junk - active_junk) * 100:.2f} points more non-digits "
            f"as digits (the limit is {NONDIGIT_TOLERANCE * 100:.1f})"
        )
    if new.get("players_accuracy") is not None and active.get("players_accuracy") is not None:
        if new["players_accuracy"] < active["players_accuracy"]:
            return False, (
                "not activated: worse on the held-out players' drawings "
                f"({new['players_accuracy']:.4f} < {active['players_accuracy']:.4f})"
            )
    return True, (
        f"activated: not worse on players' drawings, within {MNIST_TOLERANCE * 100:.1f} "
        f"points on MNIST test and {CANVAS_TOLERANCE * 100:.1f} on the canvas benchmark"
    )


def version_name(now: datetime | None = None) -> str:
    return "retrain-" + (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


# --- the run -------------------------------------------------------------------------


@dataclass
class RetrainResult:
    version_name: str
    directory: Path
    exported: int = 0
    held_out: int = 0
    repeats: int = 0
    per_label: dict = field(default_factory=dict)
    new: dict | None = None
    active: dict | None = None
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


def _scores(stats: dict, players: dict | None) -> dict:
    return {
        "mnist_test_accuracy": stats["mnist_test_accuracy"],
        "canvas_accuracy": stats["canvas_accuracy"],
        "nondigit_named_as_digit": (stats.get("nondigit") or {}).get("named_as_digit_rate"),
        "players_accuracy": None if players is None else players["accuracy"],
        "players_confusion_matrix": None if players is None else players["confusion_matrix"],
    }


def plot_comparison(path: Path, *, new: dict, active: dict | None, active_name: str | None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["MNIST test", "canvas benchmark", "held-out players"]
    keys = ["mnist_test_accuracy", "canvas_accuracy", "players_accuracy"]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 4))
    rows = [("new", new)] + ([(f"active ({active_name})", active)] if active else [])
    width = 0.8 / len(rows)
    for i, (label, scores) in enumerate(rows):
        values = [scores.get(k) or 0.0 for k in keys]
        bars = ax.bar(x + i * width, values, width, label=label)
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_xticks(x + width * (len(rows) - 1) / 2, names)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    ax.set_title("New model against the active one")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_players_confusion(path: Path, confusion: list[list[int]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(np.where(np.eye(*matrix.shape, dtype=bool), 0, matrix), cmap="Reds")
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, str(count), ha="center", va="center", fontsize=7)
    from training.report import class_name

    ax.set_xticks(range(matrix.shape[1]), [class_name(c) for c in range(matrix.shape[1])])
    ax.set_yticks(range(10))
    ax.set_xlabel("guessed digit")
    ax.set_ylabel("true digit")
    ax.set_title("Held-out players' drawings: new model")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def retrain(
    *,
    model_name: str = "default",
    epochs: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    activate: str = "auto",
    dry_run: bool = False,
    say: Say = print,
    progress: export.Progress | None = None,
    name: str | None = None,
) -> RetrainResult:
    """Export, train, evaluate, store and maybe activate; see the module docstring."""
    from inference.models import ModelVersion

    if activate not in ACTIVATE_RULES:
        raise RetrainError(f"--activate must be one of {', '.join(ACTIVATE_RULES)}.")
    name = name or version_name()
    directory = Path(settings.MODEL_DIR) / name
    if directory.exists() and any(directory.iterdir()):
        raise RetrainError(f"{directory} already exists; it is another run's version.")
    if ModelVersion.objects.filter(name=name).exists():
        raise RetrainError(f"A model version named {name} already exists.")
    result = RetrainResult(version_name=name, directory=directory)
    target = PLAYERS_TARGET if limit is None else min(PLAYERS_TARGET, limit)

    # --- 1. export ---
    data_dir = directory / "data"
    exported = export.export_drawings(
        out_dir=data_dir, formats=("npz",), dry_run=dry_run, progress=progress
    )
    result.exported = exported.count
    result.per_label = dict(sorted(exported.per_label.items()))
    if dry_run:
        labels = np.repeat(
            list(exported.per_label.keys()), list(exported.per_label.values())
        ).astype(np.int64)
        train_idx, held_idx = stratified_holdout(labels, seed=seed)
        result.held_out = len(held_idx)
        result.repeats = player_repeats(len(train_idx), target=target)
        return result

    # --- 2. hold out, 3. weigh ---
    with np.load(data_dir / export.NPZ_NAME, allow_pickle=False) as archive:
        images, labels, ids = archive["images"], archive["labels"], archive["ids"]
    train_idx, held_idx = stratified_holdout(labels, seed=seed)
    result.held_out = len(held_idx)
    result.repeats = player_repeats(len(train_idx), target=target)
    player_data = None
    if len(train_idx):
        repeated = np.tile(train_idx, result.repeats)
        player_data = _write_npz(
            data_dir / "players-train.npz", images[repeated], labels[repeated], ids[repeated]
        )
    if len(held_idx):
        _write_npz(
            data_dir / "players-holdout.npz", images[held_idx], labels[held_idx], ids[held_idx]
        )
    say(
        f"Players' drawings: {len(labels)} exported, {len(held_idx)} held out, "
        f"{len(train_idx)} x {result.repeats} in training."
    )

    # --- train (TensorFlow from here on) ---
    from training import data as training_data
    from training import evaluate
    from training import train as training_train

    metrics = training_train.run(
        model_name,
        epochs=epochs,
        limit=limit,
        out_dir=directory,
        player_data=player_data,
        seed=seed,
        command=None,
    )

    # --- 4. evaluate both models ---
    test = training_data.load_mnist().test.take(limit)
    held_images = from_uint8(images[held_idx])
    held_labels = labels[held_idx]

    def on_players(predict) -> dict | None:
        if not len(held_idx):
            return None
        return evaluate.classification_stats(held_labels, predict(held_images))

    active_version = ModelVersion.active()
    stages = ["new model on held-out players"]
    if active_version is not None and active_version.tflite_path.exists():
        stages.append(f"active model {active_version.name}")
    stage_iter = progress(stages, len(stages)) if progress else stages
    for stage in stage_iter:
        if stage.startswith("new"):
            new_predict = evaluate.tflite_predict(directory / "model.tflite")
            result.new = _scores(metrics, on_players(new_predict))
        else:
            active_predict = evaluate.tflite_predict(active_version.tflite_path)
            active_stats = evaluate.evaluate(active_predict, test.images, test.labels)
            result.active = _scores(active_stats, on_players(active_predict))
            result.active_name = active_version.name

    # --- 5. store and decide ---
    result.activated, result.decision = activation_decision(
        rule=activate, new=result.new, active=result.active
    )
    metrics["retrain"] = {
        "rule": activate,
        "rule_text": ACTIVATION_RULE_TEXT,
        "decision": result.decision,
        "activated": result.activated,
        "players_exported": int(len(labels)),
        "holdout_size": int(len(held_idx)),
        "holdout_share": HOLDOUT_SHARE,
        "player_repeats": result.repeats,
        "players_per_label": {str(k): int(v) for k, v in result.per_label.items()},
        "new": result.new,
        "active": result.active,
        "active_version": result.active_name,
        "evaluated_on": {"mnist_test": len(test), "canvas": int(metrics["canvas_size"])},
    }
    plot_comparison(
        directory / "retrain_comparison.png",
        new=result.new,
        active=result.active,
        active_name=result.active_name,
    )
    if result.new["players_confusion_matrix"] is not None:
        plot_players_confusion(
            directory / "players_confusion_matrix.png", result.new["players_confusion_matrix"]
        )
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    from guessgame.review.services import model_activate_by_retrain
    from inference.registry import register_model_dir

    version = register_model_dir(directory, name=name)
    if result.activated:
        model_activate_by_retrain(version=version, decision=result.decision)
    result.version = version
    log.info(
        "event=retrained version=%s activated=%s decision=%r",
        name,
        result.activated,
        result.decision,
    )
    return result
