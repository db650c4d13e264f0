"""How good is a model: MNIST test accuracy, and accuracy on digits drawn on the game's canvas.

The **canvas benchmark** redraws each MNIST *test* digit the way a player would draw it:
the digit is thinned to its skeleton, the skeleton becomes pen strokes at a random size
(30%-90% of the canvas), place and slight rotation, the strokes are rendered by
``inference.canvas`` into the RGBA PNG the browser sends, and that PNG goes through
``inference.preprocess.preprocess_png`` exactly as in the game. Deterministic for a seed.

    python -m training.evaluate --model-dir var/models/default-...
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from skimage.morphology import skeletonize

from inference.canvas import CANVAS_PX, PEN_PX, render_strokes
from inference.preprocess import preprocess_png

Predict = Callable[[np.ndarray], np.ndarray]
"""Takes (N, 28, 28) float32 in [0, 1], returns (N, 10) probabilities."""

N_CLASSES = 10
CANVAS_SEED = 2024
SIZE_RANGE = (0.30, 0.90)
"""The digit's longer side, as a share of the canvas side."""
MAX_TILT_DEG = 8.0
MS_PER_SEGMENT = 12


# --- accuracy ------------------------------------------------------------------------


def classification_stats(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, per-digit accuracy and the confusion matrix (rows: true, columns: guessed)."""
    guesses = np.argmax(probabilities, axis=1)
    confusion = np.zeros((N_CLASSES, N_CLASSES), dtype=np.int64)
    np.add.at(confusion, (labels, guesses), 1)
    per_digit = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "accuracy": float(np.mean(guesses == labels)) if len(labels) else 0.0,
        "per_digit_accuracy": {str(d): round(float(a), 5) for d, a in enumerate(per_digit)},
        "confusion_matrix": confusion.tolist(),
    }


# --- canvas benchmark ----------------------------------------------------------------


def skeleton_segments(image: np.ndarray) -> np.ndarray:
    """The digit's skeleton as line segments between 8-connected pixels, (S, 2, 2) (y, x).

    A lone skeleton pixel becomes a zero-length segment (a dot).
    """
    skeleton = skeletonize(image > 0.5)
    if not skeleton.any():
        skeleton = image >= image.max() * 0.5
    ys, xs = np.nonzero(skeleton)
    segments = []
    height, width = skeleton.shape
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        y2, x2 = ys + dy, xs + dx
        inside = (y2 < height) & (x2 >= 0) & (x2 < width)
        linked = np.zeros_like(inside)
        linked[inside] = skeleton[y2[inside], x2[inside]]
        for y, x, yy, xx in zip(ys[linked], xs[linked], y2[linked], x2[linked], strict=True):
            segments.append(((y, x), (yy, xx)))
    connected = np.zeros(skeleton.shape, dtype=bool)
    for (y, x), (yy, xx) in segments:
        connected[y, x] = connected[yy, xx] = True
    for y, x in zip(ys, xs, strict=True):
        if not connected[y, x]:
            segments.append(((y, x), (y, x)))
    return np.asarray(segments, dtype=np.float64).reshape(-1, 2, 2)


def digit_as_strokes(
    image: np.ndarray, rng: np.random.Generator, *, size: int = CANVAS_PX, pen_px: float = PEN_PX
) -> list[list[list[float]]]:
    """Strokes a player might draw for this 28x28 digit, in canvas CSS pixels."""
    segments = skeleton_segments(image)
    points = segments.reshape(-1, 2)
    tilt = np.deg2rad(rng.uniform(-MAX_TILT_DEG, MAX_TILT_DEG))
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    rotated = (points - centre) @ rotation.T
    extent = max(float(np.ptp(rotated, axis=0).max()), 1.0)
    target = rng.uniform(*SIZE_RANGE) * size  # the drawn digit's longer side, pen included
    scale = max(target - pen_px, 1.0) / extent
    placed = rotated * scale
    low, high = placed.min(axis=0), placed.max(axis=0)
    margin = pen_px / 2 + 1
    offset = np.array(
        [
            rng.uniform(margin - low[k], max(margin - low[k], size - margin - high[k]))
            for k in (0, 1)
        ]
    )
    placed = (placed + offset).reshape(-1, 2, 2)
    strokes = []
    for i, ((y0, x0), (y1, x1)) in enumerate(placed):
        t0 = i * MS_PER_SEGMENT
        strokes.append([[round(x0, 1), round(x1, 1)], [round(y0, 1), round(y1, 1)], [t0, t0 + 8]])
    return strokes


def canvas_drawings(
    images: np.ndarray, *, seed: int = CANVAS_SEED, limit: int | None = None
) -> list[bytes]:
    """The RGBA PNGs a player's browser would send for these digits (deterministic)."""
    rng = np.random.default_rng(seed)
    images = images if limit is None else images[:limit]
    return [render_strokes(digit_as_strokes(image, rng)) for image in images]


def canvas_pixels(pngs: list[bytes]) -> np.ndarray:
    """The game's preprocessing of each PNG, (N, 28, 28) float32."""
    return np.stack([preprocess_png(png).pixels for png in pngs]) if pngs else np.zeros((0, 28, 28))


# --- models --------------------------------------------------------------------------


def keras_predict(model) -> Predict:
    def predict(images: np.ndarray) -> np.ndarray:
        return model.predict(images[..., None], batch_size=1000, verbose=0)

    return predict


def tflite_predict(path: str | Path, *, num_threads: int = 2) -> Predict:
    """Predict with the LiteRT interpreter, resizing its batch dimension as needed."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    batch_size = 1000
    state = {"batch": None}

    def predict(images: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(images), batch_size):
            batch = np.ascontiguousarray(images[start : start + batch_size, ..., None], np.float32)
            if state["batch"] != len(batch):
                interpreter.resize_tensor_input(input_index, list(batch.shape))
                interpreter.allocate_tensors()
                state["batch"] = len(batch)
            interpreter.set_tensor(input_index, batch)
            interpreter.invoke()
            out.append(interpreter.get_tensor(output_index).copy())
        return np.concatenate(out) if out else np.zeros((0, N_CLASSES), np.float32)

    return predict


def evaluate(
    predict: Predict,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    canvas_limit: int | None = None,
    canvas_seed: int = CANVAS_SEED,
) -> dict:
    """MNIST test accuracy and canvas-benchmark accuracy of one model."""
    mnist_probs = predict(test_images)
    mnist = classification_stats(test_labels, mnist_probs)
    pngs = canvas_drawings(test_images, seed=canvas_seed, limit=canvas_limit)
    canvas_labels = test_labels[: len(pngs)]
    canvas = classification_stats(canvas_labels, predict(canvas_pixels(pngs)))
    return {
        "mnist_test_accuracy": mnist["accuracy"],
        "per_digit_accuracy": mnist["per_digit_accuracy"],
        "confusion_matrix": mnist["confusion_matrix"],
        "mnist_probabilities": mnist_probs,
        "canvas_accuracy": canvas["accuracy"],
        "canvas_per_digit_accuracy": canvas["per_digit_accuracy"],
        "canvas_confusion_matrix": canvas["confusion_matrix"],
        "canvas_size": len(pngs),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", required=True, help="folder with model.tflite")
    parser.add_argument("--canvas-limit", type=int, default=None, help="canvas digits (all)")
    args = parser.parse_args(argv)

    from training.data import load_mnist

    test = load_mnist().test
    model_dir = Path(args.model_dir)
    predict = tflite_predict(model_dir / "model.tflite")
    stats = evaluate(predict, test.images, test.labels, canvas_limit=args.canvas_limit)
    print(f"model:                    {model_dir}")
    print(f"MNIST test accuracy:      {stats['mnist_test_accuracy']:.4%}")
    canvas = f"{stats['canvas_accuracy']:.4%} ({stats['canvas_size']} digits)"
    print(f"canvas benchmark accuracy: {canvas}")
    print("per-digit accuracy (MNIST):", json.dumps(stats["per_digit_accuracy"]))


if __name__ == "__main__":
    main()
