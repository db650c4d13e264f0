"""In-process cost and accuracy of guessing one drawing: ours against the original demo's.

* **ours**: ``inference.preprocess.preprocess_png`` (MNIST normalisation) + the shipped
  default model run by the LiteRT interpreter on one thread.
* **demo**: the Streamlit demo's path: the PNG's alpha channel squashed to 28x28 with
  scikit-image's ``resize`` (no cropping, no centring) + Keras ``model.predict`` on one
  image with the seed (demo) model.

Both start from the PNG bytes the browser sends (PNG decoding is included in both).
Latency is measured drawing by drawing, single process; accuracy on the canvas
benchmark (MNIST test digits redrawn on the game's canvas, ``training.evaluate``).

    .venv/bin/python bench/bench_inference.py [--drawings 300] [--canvas 10000]

Prints a table and writes ``bench/results/inference.json``.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage.transform import resize  # noqa: E402

from bench.reports import write_report  # noqa: E402
from inference.preprocess import preprocess_png  # noqa: E402
from inference.runtime import LiteRTModel  # noqa: E402
from training import evaluate  # noqa: E402
from training.data import load_mnist  # noqa: E402

DEFAULT_DIR = ROOT / "inference" / "shipped" / "default-v2"
SEED_DIR = ROOT / "var" / "models" / "seed-full"
RESULTS = ROOT / "bench" / "results" / "inference.json"
WARMUP = 20


def demo_pixels(png: bytes) -> np.ndarray:
    """The demo's preprocessing: alpha channel resized to 28x28, nothing else."""
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    return resize(rgba[:, :, 3], (28, 28))


def time_each(pngs: list[bytes], guess) -> np.ndarray:
    """Milliseconds per drawing."""
    for png in pngs[:WARMUP]:
        guess(png)
    times = np.empty(len(pngs))
    for i, png in enumerate(pngs):
        start = time.perf_counter()
        guess(png)
        times[i] = (time.perf_counter() - start) * 1000
    return times


def summary(times: np.ndarray) -> dict:
    return {
        "median_ms": round(float(np.median(times)), 4),
        "p95_ms": round(float(np.percentile(times, 95)), 4),
        "mean_ms": round(float(times.mean()), 4),
        "n": len(times),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drawings", type=int, default=300, help="drawings timed per path")
    parser.add_argument("--canvas", type=int, default=10_000, help="canvas benchmark digits")
    parser.add_argument("--default-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seed-dir", type=Path, default=SEED_DIR)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import keras

    test = load_mnist().test
    lite = LiteRTModel(args.default_dir / "model.tflite")  # the worker's: one thread
    seed_model = keras.models.load_model(args.seed_dir / "model.keras")
    default_keras = keras.models.load_model(args.default_dir / "model.keras")

    # --- latency -----------------------------------------------------------------
    pngs = evaluate.canvas_drawings(test.images, seed=7, limit=args.drawings)

    def ours(png: bytes) -> np.ndarray:
        drawing = preprocess_png(png)
        return lite.predict(drawing.pixels)[0]

    def demo(png: bytes) -> np.ndarray:
        return seed_model.predict(np.array([demo_pixels(png)])[..., None], verbose=0)

    def ours_preprocess_only(png: bytes):
        return preprocess_png(png)

    def decode_only(png: bytes):
        return Image.open(io.BytesIO(png)).load()

    pixels = [preprocess_png(png).pixels for png in pngs[:50]]
    model_only = np.array([0.0])
    for p in pixels[:WARMUP]:
        lite.predict(p)
    model_times = []
    for p in pixels * 4:
        start = time.perf_counter()
        lite.predict(p)
        model_times.append((time.perf_counter() - start) * 1000)
    model_only = np.array(model_times)

    latency = {
        "ours_total": summary(time_each(pngs, ours)),
        "ours_png_decode_only": summary(time_each(pngs, decode_only)),
        "ours_decode_and_preprocess": summary(time_each(pngs, ours_preprocess_only)),
        "ours_litert_model": summary(model_only),
        "demo_total": summary(time_each(pngs[: min(len(pngs), 150)], demo)),
    }
    latency["speedup_median"] = round(
        latency["demo_total"]["median_ms"] / latency["ours_total"]["median_ms"], 1
    )
    latency["speedup_p95"] = round(
        latency["demo_total"]["p95_ms"] / latency["ours_total"]["p95_ms"], 1
    )

    # --- canvas benchmark accuracy -------------------------------------------------
    canvas_pngs = evaluate.canvas_drawings(test.images, limit=args.canvas)
    labels = test.labels[: len(canvas_pngs)]
    ours_x = evaluate.canvas_pixels(canvas_pngs)
    demo_x = np.stack([demo_pixels(png) for png in canvas_pngs]).astype(np.float32)

    def accuracy(model, x) -> float:
        guesses = model.predict(x[..., None], batch_size=1000, verbose=0).argmax(axis=1)
        return round(float(np.mean(guesses == labels)), 5)

    canvas = {
        "digits": len(labels),
        "demo_preprocess+seed_model (the demo)": accuracy(seed_model, demo_x),
        "demo_preprocess+default_model": accuracy(default_keras, demo_x),
        "our_preprocess+seed_model": accuracy(seed_model, ours_x),
        "our_preprocess+default_model (ours)": accuracy(default_keras, ours_x),
    }
    results = {
        "latency": latency,
        "canvas_accuracy": canvas,
        "models": {"default": str(args.default_dir.relative_to(ROOT)), "seed": str(args.seed_dir)},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "command": "python bench/bench_inference.py " + " ".join(argv or sys.argv[1:]),
    }

    print(f"{'one drawing, in process':<34}{'median ms':>12}{'p95 ms':>10}")
    for name, row in latency.items():
        if isinstance(row, dict):
            print(f"{name:<34}{row['median_ms']:>12.3f}{row['p95_ms']:>10.3f}")
    print(f"{'demo / ours':<34}{latency['speedup_median']:>11.1f}x{latency['speedup_p95']:>9.1f}x")
    print()
    print(f"{'canvas benchmark accuracy':<44}{'':>4}({canvas['digits']} digits)")
    for name, value in canvas.items():
        if name != "digits":
            print(f"{name:<44}{value:>10.2%}")
    write_report(args.out, results)
    return results


if __name__ == "__main__":
    main()
