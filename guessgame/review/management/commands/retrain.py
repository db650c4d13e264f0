"""manage.py retrain: a new model from MNIST plus the players' drawings, activated by a rule.

The rule (``retrain.activation_decision``, ``--activate auto``): not worse than the active
model on the held-out players' drawings, MNIST test and the canvas benchmark.
"""

from __future__ import annotations

import importlib.util

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guessgame.review import retrain

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


class Command(BaseCommand):
    help = (
        "Train a new model on MNIST plus the players' exported drawings (rejected and blank "
        f"ones never; {retrain.HOLDOUT_SHARE:.0%} of each digit held out to judge on; the "
        f"rest repeated to weigh as about {retrain.PLAYERS_TARGET:,} digits, at most "
        f"{retrain.MAX_REPEATS}x), evaluate it and the active model on MNIST test, the canvas "
        "benchmark and the held-out players' drawings, store it as a new model version "
        "under MODEL_DIR with its metrics and plots, and activate it by --activate. "
        f"Activation rule: {retrain.ACTIVATION_RULE_TEXT} Runs offline, in this process; "
        "the game keeps playing and the workers switch at their next prediction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--activate",
            choices=retrain.ACTIVATE_RULES,
            default="auto",
            help="auto (default): activate only when not worse on held-out players' drawings, "
            "MNIST test and the canvas benchmark (the rule above); always; never (record only).",
        )
        parser.add_argument(
            "--model",
            choices=("default", "seed"),
            default="default",
            help="Architecture from training.models (default: default).",
        )
        parser.add_argument(
            "--epochs", type=positive_int, default=None, help="Epochs (the model's default)."
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
            help="Count the players' drawings and the held-out slice; train nothing.",
        )

    def handle(self, *args, **options) -> None:
        from tqdm import tqdm

        # Web and worker install without TensorFlow (pyproject.toml's base); say how to
        # get it rather than fail deep inside training with an ImportError.
        if not options["dry_run"] and importlib.util.find_spec("tensorflow") is None:
            raise CommandError(TRAINING_EXTRA_MISSING)

        def progress(rows, total):
            return tqdm(rows, total=total, desc="retrain", file=self.stderr)

        try:
            result = retrain.retrain(
                model_name=options["model"],
                epochs=options["epochs"],
                limit=options["limit"],
                seed=options["seed"],
                activate=options["activate"],
                dry_run=options["dry_run"],
                say=self.stdout.write,
                progress=progress,
                name=options["name"],
            )
        except retrain.RetrainError as exc:
            raise CommandError(str(exc)) from exc

        per_label = ", ".join(f"{k}: {v}" for k, v in result.per_label.items()) or "none"
        self.stdout.write(f"Players' drawings per label: {per_label}")
        if options["dry_run"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dry run: would train {result.version_name} with {result.exported} "
                    f"players' drawings ({result.held_out} held out, the rest x{result.repeats})."
                )
            )
            return
        for label, scores in (("new", result.new), (result.active_name, result.active)):
            if scores is None:
                continue
            players = scores["players_accuracy"]
            self.stdout.write(
                f"{label}: MNIST test {scores['mnist_test_accuracy']:.4f}, canvas "
                f"{scores['canvas_accuracy']:.4f}, held-out players "
                + ("-" if players is None else f"{players:.4f}")
            )
        self.stdout.write(f"Rule --activate {options['activate']}: {result.decision}")
        style = self.style.SUCCESS if result.activated else self.style.WARNING
        state = "active" if result.activated else "recorded, not active"
        self.stdout.write(
            style(f"Model version {result.version_name} ({state}) in {result.directory}.")
        )
