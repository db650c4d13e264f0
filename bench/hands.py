"""A hand the shipped model reads poorly: boxy digits, as on a calculator's display.

Some people write digits with straight strokes and square corners, the seven segments
of a display: a 0 is a slashed rectangle, an 8 a rectangle with a bar, a 6 a box with a tail.
MNIST has almost none of them, and the non-digit training set has rectangles, so the
shipped model calls a boxy 0 or 8 "not a digit" and confuses a boxy 6 with a 5. (The 0
is slashed, as such writers do to tell it from an O: a plain rectangle is one of the
non-digit benchmark's doodles, and teaching the model that it is a 0 would, rightly, make
the gate refuse the new model.) That
makes this hand the flywheel benchmark's players (bench/bench_flywheel.py): what the
model cannot read at first, and can after staff review the drawings and retrain.

The templates are drawn by ``training.styles.draw_template``, so these digits vary like
the style benchmark's (slant, aspect, size, place, wobble, pen, pointer timing). The
project trains on none of them: they reach a model only as players' drawings.

    .venv/bin/python bench/hands.py --model-dir inference/shipped/default-v3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.styles import StyleDrawing, Template, draw_template, line  # noqa: E402

WIDTH = 0.6
"""A boxy digit's width for a height of 1."""
_TL, _TR, _ML, _MR, _BL, _BR = (0, 0), (WIDTH, 0), (0, 0.5), (WIDTH, 0.5), (0, 1), (WIDTH, 1)


def _stroke(*corners) -> tuple:
    """One pen-down through the corners, sharp at each."""
    return tuple(line(a, b) for a, b in zip(corners, corners[1:], strict=False))


BOXY: dict[int, Template] = {
    0: (_stroke(_TR, _TL, _BL, _BR, _TR), _stroke(_TR, _BL)),  # slashed: not a letter O
    1: (_stroke(_TR, _BR),),
    2: (_stroke(_TL, _TR, _MR, _ML, _BL, _BR),),
    3: (_stroke(_TL, _TR, _BR, _BL), _stroke(_ML, _MR)),
    4: (_stroke(_TL, _ML, _MR), _stroke(_TR, _BR)),
    5: (_stroke(_TR, _TL, _ML, _MR, _BR, _BL),),
    6: (_stroke(_TR, _TL, _BL, _BR, _MR, _ML),),
    7: (_stroke(_TL, _TR, _BR),),
    8: (_stroke(_TR, _TL, _BL, _BR, _TR), _stroke(_ML, _MR)),
    9: (_stroke(_MR, _ML, _TL, _TR, _BR, _BL),),
}
"""Each digit as a boxy writer draws it: strokes in order, corners of a 0.6 x 1 box."""


def boxy_digit(digit: int, rng: np.random.Generator) -> StyleDrawing:
    """One boxy ``digit``: strokes in canvas px with pointer times from 0 ms."""
    return draw_template(BOXY[digit], digit, rng, variant="boxy")


def boxy_drawings(n: int, seed: int) -> list[StyleDrawing]:
    """``n`` boxy digits, 0-9 in turn; item ``i`` of a seed never depends on ``n``."""
    return [boxy_digit(i % 10, np.random.default_rng([seed, i])) for i in range(n)]


def main() -> None:
    from collections import Counter

    from inference.contract import from_uint8
    from inference.prediction import Prediction
    from inference.runtime import LiteRTModel
    from training.styles import drawing_pixels

    parser = argparse.ArgumentParser(description="How a model reads the boxy hand.")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "inference/shipped/default-v3")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    model = LiteRTModel(args.model_dir / "model.tflite")
    drawings = boxy_drawings(args.n, args.seed)
    pixels = np.stack([from_uint8(drawing_pixels(d)) for d in drawings])
    answers = [Prediction.from_probabilities(p, model_version="") for p in model.predict(pixels)]
    for digit in range(10):
        mine = [a for a, d in zip(answers, drawings, strict=True) if d.label == digit]
        right = sum(a.digit == digit for a in mine) / len(mine)
        named = Counter("not a digit" if a.not_digit else a.digit for a in mine)
        print(f"{digit}: {right:6.1%} right; answers {dict(named.most_common(3))}")
    total = sum(a.digit == d.label for a, d in zip(answers, drawings, strict=True))
    print(f"all: {total / len(drawings):.1%} of {len(drawings)}")


if __name__ == "__main__":
    main()
