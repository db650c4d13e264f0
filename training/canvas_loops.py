"""How many of the canvas benchmark's errors did the redrawing cause?

The benchmark thins each MNIST test digit to a skeleton and draws it again with the
game's pen (``training.evaluate``). Where that closes a loop (a thick 9's filled loop
becomes a line) or opens one, the drawing may no longer be the digit its label says, and
no model should be asked to read it. This counts the loops (holes) of each digit before
and after the redraw and scores the model on both groups, so the part of the error that
the model can still win back is measured, not guessed.

    python -m training.canvas_loops --model-dir inference/shipped/default-v3
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from skimage.measure import euler_number

INK = 0.5
"""A pixel is ink from this grey level on (both pictures are in [0, 1], ink = 1)."""


def loop_count(image: np.ndarray) -> int:
    """Holes in the ink of a 28x28 picture: 0 for a 1 or a 7, 1 for a 0, 2 for an 8.

    Euler number = pieces - holes (ink 8-connected, so paper is 4-connected); a stray
    piece of ink adds one, which counts as one hole fewer, like a broken loop."""
    return 1 - int(euler_number(np.asarray(image) > INK, connectivity=2))


def split_by_loops(originals: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """True where the redrawing changed the digit's number of loops."""
    return np.array([loop_count(a) != loop_count(b) for a, b in zip(originals, drawn, strict=True)])


def report(labels: np.ndarray, predicted: np.ndarray, changed: np.ndarray) -> dict:
    """Errors and accuracy of the digits whose loops the redrawing changed, and of the rest."""
    wrong = predicted != labels
    kept = ~changed
    return {
        "digits": len(labels),
        "errors": int(wrong.sum()),
        "loops_changed": int(changed.sum()),
        "errors_with_loops_changed": int((wrong & changed).sum()),
        "accuracy_loops_changed": float(1 - wrong[changed].mean()) if changed.any() else None,
        "accuracy_loops_kept": float(1 - wrong[kept].mean()) if kept.any() else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True, help="a version's directory (model.tflite)")
    args = parser.parse_args(argv)

    from training import data, evaluate

    test = data.load_mnist().test
    drawn = evaluate.canvas_pixels(evaluate.canvas_drawings(test.images))
    probabilities = evaluate.tflite_predict(Path(args.model_dir) / "model.tflite")(drawn)
    figures = report(test.labels, probabilities.argmax(axis=1), split_by_loops(test.images, drawn))
    print(
        f"canvas benchmark: {figures['errors']} errors in {figures['digits']} digits; "
        f"{figures['errors_with_loops_changed']} of them are digits whose loops the redrawing "
        f"changed ({figures['loops_changed']} digits, accuracy "
        f"{figures['accuracy_loops_changed']:.2%}); the other digits: "
        f"{figures['accuracy_loops_kept']:.2%}"
    )


if __name__ == "__main__":
    main()
