"""python manage.py predict FILE.png [...]: the model's guess for each drawing, in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from inference.active_model import NoActiveModel, active_version
from inference.prediction import Prediction
from inference.preprocess import DrawingError, preprocess_png
from inference.runtime import load_model


class Command(BaseCommand):
    help = (
        "Print the digit (or not-a-digit), confidence and the 10 digit probabilities for each "
        "PNG drawing, using the active model version in this process (no worker needed)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="PNG drawings to predict.")
        parser.add_argument(
            "--model",
            type=Path,
            help="A model.tflite to use instead of the active version (no database needed).",
        )

    def handle(self, *args, files: list[Path], model: Path | None, **options) -> None:
        if model is not None:
            if not model.is_file():
                raise CommandError(f"No model file at {model}.")
            version, path = model.parent.name or model.name, model
        else:
            try:
                version, path = active_version()
            except NoActiveModel as exc:
                raise CommandError(str(exc)) from exc
        runtime = load_model(version, path)

        failed = 0
        for file in files:
            try:
                drawing = preprocess_png(file.read_bytes())
            except OSError as exc:
                failed += 1
                self.stderr.write(self.style.ERROR(f"{file}: cannot read: {exc.strerror}"))
                continue
            except DrawingError as exc:
                failed += 1
                self.stderr.write(self.style.ERROR(f"{file}: {exc}"))
                continue
            if drawing.blank:
                prediction = Prediction.blank_drawing(model_version=version)
            else:
                probabilities = runtime.predict(drawing.pixels[np.newaxis])[0]
                prediction = Prediction.from_probabilities(probabilities, model_version=version)
            self.stdout.write(self._line(file, prediction))

        if failed:
            raise CommandError(f"{failed} of {len(files)} file(s) could not be predicted.")

    @staticmethod
    def _line(file: Path, prediction: Prediction) -> str:
        probabilities = " ".join(f"{p:.4f}" for p in prediction.probabilities)
        if prediction.blank:
            digit = "blank"
        elif prediction.not_digit:
            digit = "not-a-digit"
        else:
            digit = str(prediction.digit)
        return (
            f"{file}: digit={digit} confidence={prediction.confidence:.4f} "
            f"probabilities=[{probabilities}] model={prediction.model_version}"
        )
