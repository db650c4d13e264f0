"""Accuracy on the PNGs other programs send: the same digits, encoded ten ways.

The API is judged on drawings from canvases other than the game's. This takes MNIST
*test* digits (never trained on) and encodes each one as the PNGs other tools write:
MNIST's own 28x28 grey, dark ink on white paper with no alpha channel, ink in the alpha
channel, a grey paper scan, 16-bit grey, 1-bit, a palette, a small digit in a corner of a
large image. Each goes through the live preprocessing (``inference.preprocess``) and the
shipped model (LiteRT), beside the demo's preprocessing (the alpha channel squashed to
28x28) with the same model, so the difference is the preprocessing alone.

    .venv/bin/python bench/bench_formats.py [--digits 2000]

Prints a table and writes ``bench/results/formats.json``.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from tqdm import tqdm  # noqa: E402

from bench.bench_inference import DEFAULT_DIR, demo_pixels  # noqa: E402
from bench.reports import write_report  # noqa: E402
from inference.contract import to_uint8  # noqa: E402
from inference.preprocess import preprocess_png  # noqa: E402
from inference.runtime import LiteRTModel  # noqa: E402
from training import evaluate  # noqa: E402
from training.data import load_mnist  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "formats.json"
SIDE = 280  # a typical drawing pad


def enlarged(digit: np.ndarray, side: int = SIDE) -> np.ndarray:
    """The 28x28 digit drawn large (bicubic), ink in [0, 1]."""
    image = Image.fromarray(to_uint8(digit)).resize((side, side), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float32) / 255


def png(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", **options)
    return out.getvalue()


def alpha_ink(ink: np.ndarray) -> bytes:
    """Black ink whose coverage is the alpha channel, on transparent paper (a web canvas)."""
    black = Image.new("L", ink.shape[::-1], 0)
    return png(Image.merge("RGBA", (black, black, black, Image.fromarray(to_uint8(ink)))))


def small_in_corner(digit: np.ndarray) -> bytes:
    """The 28-px digit, dark on white, in the lower-left of a 400x400 page."""
    page = np.full((400, 400), 255, dtype=np.uint8)
    page[300:328, 40:68] = 255 - to_uint8(digit)
    return png(Image.fromarray(page))


FORMATS: dict[str, Callable[[np.ndarray], bytes]] = {
    "MNIST's own: 28x28 grey, white on black": lambda d: png(Image.fromarray(to_uint8(d))),
    "28x28 grey, black on white": lambda d: png(Image.fromarray(255 - to_uint8(d))),
    "280x280 RGB, black on white, no alpha": lambda d: png(
        Image.fromarray(255 - to_uint8(enlarged(d))).convert("RGB")
    ),
    "280x280 RGBA, ink in the alpha channel": lambda d: alpha_ink(enlarged(d)),
    "280x280 grey paper scan (paper 80%, ink 10%)": lambda d: png(
        Image.fromarray(to_uint8(0.8 - 0.7 * enlarged(d)))
    ),
    "280x280 16-bit grey, black on white": lambda d: png(
        Image.fromarray((255 - to_uint8(enlarged(d))).astype(np.uint16) * 257)
    ),
    "280x280 1-bit, black on white": lambda d: png(
        Image.fromarray(255 - to_uint8(enlarged(d))).convert("1")
    ),
    "280x280 palette (P), black on white": lambda d: png(
        Image.fromarray(255 - to_uint8(enlarged(d))).convert("RGB").convert("P", palette=1)
    ),
    "400x400, a 28-px digit in a corner": small_in_corner,
}


def accuracy(model: LiteRTModel, pixels: list[np.ndarray], labels: np.ndarray) -> float:
    guesses = np.array([int(np.argmax(model.predict(p)[0])) for p in pixels])
    return round(float((guesses == labels).mean()), 4)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digits", type=int, default=2000, help="MNIST test digits per format")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    test = load_mnist().test
    digits, labels = test.images[: args.digits], test.labels[: args.digits]
    model = LiteRTModel(args.model_dir / "model.tflite")
    formats = {"the game's canvas (RGBA, 14 px pen)": None, **FORMATS}
    game_pngs = evaluate.canvas_drawings(digits)

    rows = []
    for name, encode in formats.items():
        pngs = game_pngs if encode is None else [encode(d) for d in digits]
        ours, demo, blanks = [], [], 0
        for data in tqdm(pngs, desc=name[:40], unit="digit", leave=False):
            drawing = preprocess_png(data)
            blanks += drawing.blank
            ours.append(drawing.pixels)
            demo.append(demo_pixels(data).astype(np.float32))
        row = {
            "format": name,
            "bytes_median": int(np.median([len(p) for p in pngs])),
            "ours": accuracy(model, ours, labels),
            "ours_blank": blanks,
            "demo_preprocessing": accuracy(model, demo, labels),
        }
        rows.append(row)
        print(
            f"{name:46s} ours {row['ours']:.2%} (blank {blanks})"
            f"   demo's preprocessing {row['demo_preprocessing']:.2%}"
        )

    result = {"model": args.model_dir.name, "digits": len(labels), "formats": rows}
    write_report(args.out, result)
    return result


if __name__ == "__main__":
    main()
