"""manage.py retrain: a new model from MNIST plus the players' trusted drawings, gated.

The gate (``guessgame.review.gate``) compares it with the active model on the same
drawings; ``--activate auto`` puts it live only when the gate accepts it.
"""

from __future__ import annotations

import importlib.util

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guessgame.game.models import TRUST_CONFIDENCE
from guessgame.review import gate, retrain

TRAINING_EXTRA_MISSING = (
    "Training needs the [train] extra (TensorFlow), not installed here: run "
    "`make install-train` (or `.venv/bin/pip install -r requirements/train.txt`)."
)


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a whole number.") from exc
    if number < 1:
        raise CommandError(f"{value} must be at least 1.")
    return number


def share(value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a number.") from exc
    if not 0 <= number <= 1:
        raise CommandError(f"{value} must be between 0 and 1.")
    return number


class Command(BaseCommand):
    help = (
        "Fine-tune the active model (or, --from-scratch, train a new one) on the players' "
        "trusted drawings (--data) and a replay of MNIST, score it "
        "and the active model on the same drawings (MNIST test, the canvas benchmark, the "
        f"non-digit benchmark and the players' hold-out: a fixed {gate.HOLDOUT_SHARE:.0%} "
        "of players whose drawings are never trained on), store it as a new model version "
        "under MODEL_DIR with its metrics, plots and the gate's verdict, and activate it "
        f"by --activate. {retrain.ACTIVATION_RULE_TEXT} Runs offline, in this process; the "
        "game keeps playing and the workers switch at their next prediction. Ctrl-C stops "
        "it and removes the unfinished version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--activate",
            choices=retrain.ACTIVATE_RULES,
            default="auto",
            help="auto (default): activate only when the gate accepts; always: activate "
            "even so, an audited override that needs --reason; never: record only.",
        )
        parser.add_argument(
            "--reason",
            default="",
            help="Why --activate always overrides the gate (recorded with the activation).",
        )
        parser.add_argument(
            "--data",
            choices=tuple(retrain.DATA_POLICIES),
            default="trusted",
            help="Which players' drawings to train on: "
            + "; ".join(f"{k}: {v}" for k, v in retrain.DATA_POLICIES.items())
            + ". Held-out players' drawings never are.",
        )
        parser.add_argument(
            "--trust-confidence",
            type=share,
            default=TRUST_CONFIDENCE,
            help="--data trusted: how sure (0-1) the model must have been of the round's "
            f"target for an unreviewed drawing to count (default {TRUST_CONFIDENCE}).",
        )
        parser.add_argument(
            "--model",
            choices=("default", "seed"),
            default="default",
            help="Architecture from training.models (default: default).",
        )
        parser.add_argument(
            "--from-scratch",
            action="store_true",
            help="Train a new model from scratch (the default recipe, 12-26 minutes on 2 "
            "cores) instead of fine-tuning the active one (minutes).",
        )
        parser.add_argument(
            "--epochs",
            type=positive_int,
            default=None,
            help="Epochs (default: 2 for a fine-tune, the model's own from scratch).",
        )
        parser.add_argument(
            "--limit",
            type=positive_int,
            default=None,
            help="Use only the first N MNIST training and test digits (quick runs, tests); "
            "the players' drawings then weigh as at most N.",
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="Random seed: the same data gives the same model."
        )
        parser.add_argument(
            "--name", default=None, help="Version name (default: retrain-<UTC time>)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say which drawings would train and which judge; train nothing.",
        )

    def handle(self, *args, **options) -> None:
        from tqdm import tqdm

        # Web and worker install without TensorFlow (pyproject.toml's base); say how to
        # get it rather than fail deep inside training with an ImportError.
        if not options["dry_run"] and importlib.util.find_spec("tensorflow") is None:
            raise CommandError(TRAINING_EXTRA_MISSING)

        def progress(rows, total):
            return tqdm(rows, total=total, desc="export", unit="drawing", file=self.stderr)

        try:
            result = retrain.retrain(
                model_name=options["model"],
                epochs=options["epochs"],
                limit=options["limit"],
                seed=options["seed"],
                activate=options["activate"],
                reason=options["reason"],
                data=options["data"],
                min_confidence=options["trust_confidence"],
                from_scratch=options["from_scratch"],
                dry_run=options["dry_run"],
                say=self.stdout.write,
                progress=progress,
                name=options["name"],
            )
        except retrain.RetrainError as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted: the unfinished version folder was removed; nothing was recorded.",
                returncode=130,
            ) from None

        per_label = ", ".join(f"{k}: {v}" for k, v in result.per_label.items()) or "none"
        self.stdout.write(f"Training drawings per label: {per_label}")
        if options["dry_run"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dry run: would train {result.version_name} on {result.exported} "
                    f"players' drawings (x{result.repeats}) and judge it on "
                    f"{result.held_out} held-out ones."
                )
            )
            return
        for comparison in result.gate.comparisons:
            self.stdout.write(comparison.sentence())
        self.stdout.write(f"Gate: {result.gate.reason}")
        self.stdout.write(f"--activate {options['activate']}: {result.decision}")
        style = self.style.SUCCESS if result.activated else self.style.WARNING
        state = "active" if result.activated else "recorded, not active"
        self.stdout.write(
            style(f"Model version {result.version_name} ({state}) in {result.directory}.")
        )
