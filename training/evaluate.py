"""How good is a model: MNIST test accuracy, and accuracy on digits drawn on the game's canvas.

The **canvas benchmark** redraws each MNIST *test* digit the way a player would draw it:
the digit is thinned to its skeleton, the skeleton is drawn with the round pen (one dot
per skeleton pixel, which makes a smooth stroke) at a random size
(30%-90% of the canvas), place and slight rotation, the strokes are rendered by
``inference.canvas`` into the RGBA PNG the browser sends, and that PNG goes through
``inference.preprocess.preprocess_png`` exactly as in the game. Deterministic for a seed.

    python -m training.evaluate --model-dir var/models/default-...
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from inference.canvas import CANVAS_PX, PEN_PX, render_strokes
from inference.contract import DIGITS, NOT_DIGIT_CLASS, from_uint8, to_uint8
from inference.preprocess import preprocess_png

Predict = Callable[[np.ndarray], np.ndarray]
"""Takes (N, 28, 28) float32 in [0, 1], returns (N, 10) probabilities, or (N, 11) for a
model that can say "not a digit" (column 10)."""

GAME_THRESHOLD = 0.6
"""The game's default threshold: a guess counts at or above it (guessgame.game.constants)."""
CANVAS_SEED = 2024
SIZE_RANGE = (0.30, 0.90)
"""The digit's longer side, as a share of the canvas side."""
MAX_TILT_DEG = 8.0
MS_PER_POINT = 4
SKELETON_UPSCALE = 3


# --- accuracy ------------------------------------------------------------------------


def classification_stats(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, per-digit accuracy and the confusion matrix (rows: true, columns: guessed).

    With an 11th "not a digit" column, a digit the model refuses counts as an error; the
    matrix then has 11 columns and ``refused`` is the share of digits refused.
    """
    probabilities = np.asarray(probabilities)
    columns = probabilities.shape[1] if probabilities.ndim == 2 else DIGITS
    guesses = np.argmax(probabilities, axis=1) if len(probabilities) else np.zeros(0, int)
    confusion = np.zeros((DIGITS, columns), dtype=np.int64)
    np.add.at(confusion, (labels, guesses), 1)
    per_digit = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    stats = {
        "accuracy": float(np.mean(guesses == labels)) if len(labels) else 0.0,
        "per_digit_accuracy": {str(d): round(float(a), 5) for d, a in enumerate(per_digit)},
        "confusion_matrix": confusion.tolist(),
    }
    if columns > DIGITS:
        stats["refused"] = float(np.mean(guesses == NOT_DIGIT_CLASS)) if len(labels) else 0.0
    return stats


# --- canvas benchmark ----------------------------------------------------------------


def skeleton_points(image: np.ndarray) -> np.ndarray:
    """The digit's skeleton as points (P, 2) (y, x) in 28-px units.

    The digit is thinned on a grid SKELETON_UPSCALE times finer than 28 px: on the 28-px
    grid, thinning closes the small loops of thick MNIST digits (a 9 turns into a 7), which
    no player would draw.
    """
    fine = ndimage.zoom(np.asarray(image, dtype=np.float32), SKELETON_UPSCALE, order=1)
    skeleton = skeletonize(fine > 0.5)
    if not skeleton.any():
        skeleton = fine >= fine.max() * 0.5
    points = np.argwhere(skeleton).astype(np.float64)
    return points / SKELETON_UPSCALE


def digit_as_strokes(
    image: np.ndarray, rng: np.random.Generator, *, size: int = CANVAS_PX, pen_px: float = PEN_PX
) -> list[list[list[float]]]:
    """Strokes a player might draw for this 28x28 digit, in canvas CSS pixels."""
    points = skeleton_points(image)
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
    placed = placed + offset
    # Skeleton pixels lie at most ~2 canvas px apart, a seventh of the pen: dots of the
    # pen's width along them make the same smooth stroke a moving pen does.
    strokes = []
    for i, (y, x) in enumerate(placed):
        strokes.append([[round(float(x), 1)], [round(float(y), 1)], [i * MS_PER_POINT]])
    return strokes


def canvas_drawings(
    images: np.ndarray,
    *,
    seed: int = CANVAS_SEED,
    limit: int | None = None,
    pen_px: float = PEN_PX,
) -> list[bytes]:
    """The RGBA PNGs a player's browser would send for these digits (deterministic).

    ``pen_px`` other than the game's asks how the model copes with other canvases' pens.
    """
    rng = np.random.default_rng(seed)
    images = images if limit is None else images[:limit]
    return [
        render_strokes(digit_as_strokes(image, rng, pen_px=pen_px), pen_px=pen_px)
        for image in images
    ]


def canvas_pixels(pngs: list[bytes]) -> np.ndarray:
    """The game's preprocessing of each PNG, (N, 28, 28) float32, in the 256 grey levels
    a drawing has when it reaches the worker."""
    if not pngs:
        return np.zeros((0, 28, 28), dtype=np.float32)
    return from_uint8(np.stack([to_uint8(preprocess_png(png).pixels) for png in pngs]))


# --- models --------------------------------------------------------------------------


def keras_predict(model) -> Predict:
    def predict(images: np.ndarray) -> np.ndarray:
        return model.predict(images[..., None], batch_size=1000, verbose=0)

    return predict


def tflite_predict(path: str | Path, *, num_threads: int = 2) -> Predict:
    """Predict with the serving runtime (:class:`inference.runtime.LiteRTModel`), so
    what training measures is what the worker runs; 1,000 drawings per call."""
    from inference.runtime import LiteRTModel

    model = LiteRTModel(path, num_threads=num_threads)
    batch_size = 1000

    def predict(images: np.ndarray) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, model.outputs), np.float32)
        return np.concatenate(
            [model.predict(images[s : s + batch_size]) for s in range(0, len(images), batch_size)]
        )

    return predict


@dataclass(frozen=True)
class BenchmarkInputs:
    """Every benchmark's drawings, as the model sees them: made once, scored per model."""

    mnist_images: np.ndarray
    mnist_labels: np.ndarray
    canvas_pixels: np.ndarray
    canvas_labels: np.ndarray
    nondigit_pixels: np.ndarray
    nondigit_kinds: list[str]
    style_pixels: np.ndarray
    style_labels: np.ndarray
    style_variants: list[str]


def benchmark_inputs(
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    canvas_limit: int | None = None,
    canvas_seed: int = CANVAS_SEED,
    pen_px: float = PEN_PX,
    nondigit_n: int | None = None,
    style_n: int | None = None,
) -> BenchmarkInputs:
    """Draw the canvas, non-digit and style benchmarks (seconds to minutes: reuse it)."""
    from training import negatives, styles

    pngs = canvas_drawings(test_images, seed=canvas_seed, limit=canvas_limit, pen_px=pen_px)
    nondigit, kinds = negatives.negative_pixels(
        nondigit_n or negatives.NONDIGIT_BENCH_N, negatives.NONDIGIT_BENCH_SEED
    )
    styled, style_labels, variants = styles.style_pixels(
        style_n or styles.STYLE_BENCH_N, styles.STYLE_BENCH_SEED
    )
    return BenchmarkInputs(
        mnist_images=test_images,
        mnist_labels=test_labels,
        canvas_pixels=canvas_pixels(pngs),
        canvas_labels=test_labels[: len(pngs)],
        nondigit_pixels=from_uint8(nondigit),
        nondigit_kinds=kinds,
        style_pixels=from_uint8(styled),
        style_labels=np.asarray(style_labels),
        style_variants=variants,
    )


def cached_benchmark_inputs(
    test_images: np.ndarray, test_labels: np.ndarray, *, cache_dir: str | Path, **options
) -> BenchmarkInputs:
    """:func:`benchmark_inputs`, kept on disk keyed by the digits, the options and the
    source of every module that draws them: a retrain scores two models on the
    benchmarks in seconds instead of drawing 10,000 digits again. Every array is stored
    as the 256 grey levels it already is, so scores do not change."""
    import hashlib
    import json
    import os

    digest = hashlib.sha256(np.ascontiguousarray(test_images).tobytes())
    digest.update(np.ascontiguousarray(test_labels).tobytes())
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    here = Path(__file__).parent
    for module in (
        "evaluate.py",
        "negatives.py",
        "styles.py",
        "../inference/canvas.py",
        "../inference/preprocess.py",
    ):
        digest.update((here / module).read_bytes())
    path = Path(cache_dir) / f"benchmarks-{len(test_labels)}-{digest.hexdigest()[:16]}.npz"
    if path.exists():
        with np.load(path) as stored:
            return BenchmarkInputs(
                mnist_images=test_images,
                mnist_labels=test_labels,
                canvas_pixels=from_uint8(stored["canvas_pixels"]),
                canvas_labels=stored["canvas_labels"],
                nondigit_pixels=from_uint8(stored["nondigit_pixels"]),
                nondigit_kinds=[str(k) for k in stored["nondigit_kinds"]],
                style_pixels=from_uint8(stored["style_pixels"]),
                style_labels=stored["style_labels"],
                style_variants=[str(v) for v in stored["style_variants"]],
            )
    inputs = benchmark_inputs(test_images, test_labels, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(
        temporary,
        canvas_pixels=to_uint8(inputs.canvas_pixels),
        canvas_labels=inputs.canvas_labels,
        nondigit_pixels=to_uint8(inputs.nondigit_pixels),
        nondigit_kinds=np.asarray(inputs.nondigit_kinds, dtype=str),
        style_pixels=to_uint8(inputs.style_pixels),
        style_labels=inputs.style_labels,
        style_variants=np.asarray(inputs.style_variants, dtype=str),
    )
    temporary.replace(path)
    return inputs


def score(predict: Predict, inputs: BenchmarkInputs) -> dict:
    """One model on every benchmark: MNIST test, the canvas benchmark (with its
    calibration error), the non-digit benchmark and the style benchmark."""
    from training import calibration, negatives, styles

    mnist_probs = predict(inputs.mnist_images)
    mnist = classification_stats(inputs.mnist_labels, mnist_probs)
    canvas_probs = predict(inputs.canvas_pixels)
    canvas = classification_stats(inputs.canvas_labels, canvas_probs)
    return {
        "mnist_test_accuracy": mnist["accuracy"],
        "mnist_refused": mnist.get("refused", 0.0),
        "per_digit_accuracy": mnist["per_digit_accuracy"],
        "confusion_matrix": mnist["confusion_matrix"],
        "mnist_probabilities": mnist_probs,
        "canvas_accuracy": canvas["accuracy"],
        "canvas_refused": canvas.get("refused", 0.0),
        "canvas_per_digit_accuracy": canvas["per_digit_accuracy"],
        "canvas_confusion_matrix": canvas["confusion_matrix"],
        "canvas_size": len(inputs.canvas_labels),
        "canvas_ece": calibration.expected_calibration_error(canvas_probs, inputs.canvas_labels),
        "canvas_pixels": inputs.canvas_pixels,
        "canvas_labels": inputs.canvas_labels,
        "canvas_probabilities": canvas_probs,
        "nondigit": negatives.nondigit_rates(
            predict(inputs.nondigit_pixels), inputs.nondigit_kinds, GAME_THRESHOLD
        ),
        "style": styles.style_benchmark_stats(
            predict(inputs.style_pixels), inputs.style_labels, inputs.style_variants
        ),
    }


def evaluate(
    predict: Predict,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    **options,
) -> dict:
    """Every benchmark of one model (``options``: those of :func:`benchmark_inputs`)."""
    return score(predict, benchmark_inputs(test_images, test_labels, **options))


def public_stats(stats: dict) -> dict:
    """The figures of :func:`evaluate` without its arrays (for metrics.json)."""
    return {k: v for k, v in stats.items() if not isinstance(v, np.ndarray)}


def summary_lines(stats: dict) -> list[str]:
    """The benchmarks in a few lines a person reads (the CLI and training print them)."""
    nondigit, style = stats["nondigit"], stats["style"]
    return [
        f"MNIST test accuracy:       {stats['mnist_test_accuracy']:.2%}"
        f" (refused as not a digit: {stats['mnist_refused']:.2%})",
        f"canvas benchmark accuracy: {stats['canvas_accuracy']:.2%}"
        f" (refused: {stats['canvas_refused']:.2%}, {stats['canvas_size']} digits)",
        f"canvas calibration error:  ECE {stats['canvas_ece']:.2%}",
        f"non-digits named a digit:  {nondigit['named_as_digit_rate']:.2%} at threshold"
        f" {GAME_THRESHOLD} ({nondigit['count']} drawings)",
        f"style benchmark accuracy:  {style['accuracy']:.2%} ({style['size']} digits)",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", required=True, help="folder with model.tflite")
    parser.add_argument("--canvas-limit", type=int, default=None, help="canvas digits (all)")
    parser.add_argument(
        "--canvas-seed", type=int, default=CANVAS_SEED, help="another redraw of the digits"
    )
    parser.add_argument(
        "--pen-px", type=float, default=PEN_PX, help=f"pen width on the canvas ({PEN_PX} px)"
    )
    parser.add_argument(
        "--errors-png", default=None, help="draw the canvas benchmark's errors into this PNG"
    )
    parser.add_argument(
        "--nondigit-n", type=int, default=None, help="non-digit benchmark drawings (2000)"
    )
    parser.add_argument("--style-n", type=int, default=None, help="style benchmark digits (2000)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    from training.data import load_mnist

    test = load_mnist().test
    model_dir = Path(args.model_dir)
    predict = tflite_predict(model_dir / "model.tflite")
    stats = evaluate(
        predict,
        test.images,
        test.labels,
        canvas_limit=args.canvas_limit,
        canvas_seed=args.canvas_seed,
        pen_px=args.pen_px,
        nondigit_n=args.nondigit_n,
        style_n=args.style_n,
    )
    print(f"model: {model_dir} (canvas seed {args.canvas_seed}, {args.pen_px:g} px pen)")
    for line in summary_lines(stats):
        print(line)
    print("per-digit accuracy (MNIST):", json.dumps(stats["per_digit_accuracy"]))
    print("non-digits named a digit, by kind:", json.dumps(stats["nondigit"]["per_kind"]))
    if args.json:
        Path(args.json).write_text(json.dumps(public_stats(stats), indent=2) + "\n")
        print(f"written: {args.json}")
    if args.errors_png:
        from training import report

        report.plot_canvas_errors(
            test.images, test.labels, stats["canvas_pixels"], stats["canvas_probabilities"],
            Path(args.errors_png),
        )  # fmt: skip
        print(f"canvas errors:            {args.errors_png}")


if __name__ == "__main__":
    main()
