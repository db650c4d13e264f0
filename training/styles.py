"""Digits in hands unlike MNIST, drawn stroke by stroke on the game's canvas.

MNIST's writers were American census staff and students: their 7s have no bar, their 1s
are one line, their 4s are open. Players draw 7s with a bar, 1s with a flag and a base,
closed 4s, looped 2s, C-shaped 0s, at any slant, size and pen. This module draws such
digits from hand-written stroke templates (a few control points per stroke, in the order
a finger or mouse draws them), smoothed with centripetal Catmull-Rom splines and varied
per drawing: slant (-25..+25 degrees), aspect, size (25%-95% of the canvas), place,
wobble (smooth noise along the stroke), stroke ends that overshoot or stop short, the pen
(mostly the game's 14 px, sometimes 8-28 px) and pointer-event timing.

The drawings are rendered by ``inference.canvas`` and preprocessed by
``inference.preprocess`` exactly like the canvas benchmark, so the model sees what it
sees in the game. Everything is deterministic for a seed, and item ``i`` of a seed does
not depend on how many items are asked for.

**Seeds.** :data:`STYLE_BENCH_SEED` is the style benchmark's. Training must draw its
style digits with other seeds (any other integer gives different drawings), or the
benchmark measures memory rather than reading.

    python -m training.styles --picture docs/styles.png
    python -m training.styles --model-dir inference/shipped/default-v2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from inference.canvas import CANVAS_PX, PEN_PX, render_ink
from inference.contract import DIGITS, NOT_DIGIT_CLASS, from_uint8, to_uint8
from inference.preprocess import preprocess_strokes

Point = tuple[float, float]
Run = tuple[Point, ...]
"""A smooth piece of a stroke: a Catmull-Rom curve through these points."""
TemplateStroke = tuple[Run, ...]
"""One pen-down: runs joined end to start at sharp corners (a 7's top right)."""
Template = tuple[TemplateStroke, ...]
"""A digit as drawn: strokes in drawing order. Units: the digit's height is 1, y grows
downwards (as on the canvas), x from 0 at the digit's left."""

STYLE_BENCH_SEED = 8_675_309
STYLE_BENCH_N = 2000
"""Digits in the style benchmark."""
"""The style benchmark's seed. Never train on it: training uses any other seed."""


# --- templates -----------------------------------------------------------------------


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int) -> Run:
    """Points on an ellipse from angle ``start`` to ``end`` (degrees, 0 = right,
    90 = down, so increasing angles turn clockwise on the screen)."""
    angles = np.deg2rad(np.linspace(start, end, steps))
    return tuple(
        (round(cx + rx * float(np.cos(a)), 4), round(cy + ry * float(np.sin(a)), 4)) for a in angles
    )


def line(*points: Point) -> Run:
    return tuple(points)


_NINE_LOOP = arc(0.33, 0.26, 0.29, 0.26, 5, -355, 13)  # from the right, counter-clockwise
_ZERO = arc(0.32, 0.5, 0.32, 0.5, -80, -440, 17)  # from the top, counter-clockwise
_SEVEN_TOP = line((0.0, 0.0), (0.72, 0.0))
_ONE_FLAG = line((0.3, 0.24), (0.5, 0.0))  # short and steep: a long flat one is a 7
_FIVE_BELLY = line((0.1, 0.45), (0.4, 0.37), (0.68, 0.52), (0.7, 0.8), (0.42, 0.99), (0.02, 0.9))

# fmt: off
STYLES: dict[int, dict[str, Template]] = {
    0: {
        "oval": ((_ZERO,),),
        "round": ((arc(0.45, 0.5, 0.45, 0.5, -80, -440, 17),),),
        "narrow": ((arc(0.22, 0.5, 0.22, 0.5, -80, -440, 15),),),
        "c_open": ((arc(0.32, 0.5, 0.32, 0.5, -70, -400, 16),),),
        "slashed": ((_ZERO,), (line((0.8, -0.1), (-0.16, 1.1)),)),  # past the oval: not an 8
    },
    1: {
        "stroke": ((line((0.5, 0.0), (0.5, 1.0)),),),
        "flag": ((_ONE_FLAG, line((0.5, 0.0), (0.5, 1.0))),),
        "serif": ((_ONE_FLAG, line((0.5, 0.0), (0.5, 1.0))),
                  (line((0.15, 1.0), (0.85, 1.0)),)),
    },
    2: {
        "plain": ((line((0.04, 0.24), (0.25, 0.03), (0.52, 0.0), (0.72, 0.14), (0.7, 0.38),
                        (0.38, 0.7), (0.02, 1.0)),
                   line((0.02, 1.0), (0.8, 1.0))),),
        "loop": ((line((0.04, 0.24), (0.25, 0.03), (0.52, 0.0), (0.72, 0.14), (0.7, 0.38),
                       (0.38, 0.68), (0.14, 0.88), (0.0, 0.86), (0.04, 0.71), (0.18, 0.69),
                       (0.26, 0.84), (0.36, 0.99), (0.6, 1.0), (0.86, 0.97)),),),
        "curly": ((line((0.06, 0.2), (0.3, 0.01), (0.6, 0.04), (0.7, 0.3), (0.45, 0.62),
                        (0.1, 0.95), (0.3, 0.9), (0.55, 1.0), (0.85, 0.9)),),),
    },
    3: {
        "round": ((line((0.04, 0.14), (0.35, 0.0), (0.64, 0.1), (0.6, 0.33), (0.3, 0.46)),
                   line((0.3, 0.46), (0.62, 0.57), (0.7, 0.8), (0.45, 0.99), (0.02, 0.88))),),
        "flat_top": ((line((0.04, 0.0), (0.68, 0.0)),
                      line((0.68, 0.0), (0.3, 0.4)),
                      line((0.3, 0.4), (0.6, 0.5), (0.7, 0.75), (0.45, 0.98), (0.04, 0.88))),),
        "two_strokes": ((line((0.04, 0.14), (0.35, 0.0), (0.64, 0.1), (0.6, 0.33), (0.28, 0.46)),),
                        (line((0.3, 0.46), (0.62, 0.57), (0.7, 0.8), (0.45, 0.99), (0.02, 0.88)),)),
    },
    4: {
        "closed": ((line((0.58, 0.0), (0.0, 0.66)), line((0.0, 0.66), (0.82, 0.66))),
                   (line((0.6, 0.0), (0.6, 1.0)),)),
        "open": ((line((0.06, 0.0), (0.02, 0.58)), line((0.02, 0.58), (0.82, 0.58))),
                 (line((0.62, 0.0), (0.6, 1.0)),)),
        "half_open": ((line((0.32, 0.0), (0.0, 0.6)), line((0.0, 0.6), (0.8, 0.6))),
                      (line((0.6, 0.04), (0.6, 1.0)),)),
    },
    5: {
        "two_strokes": ((line((0.14, 0.0), (0.1, 0.45)), _FIVE_BELLY),
                        (line((0.14, 0.0), (0.72, 0.0)),)),
        "one_stroke": ((line((0.72, 0.0), (0.14, 0.0)), line((0.14, 0.0), (0.1, 0.45)),
                        _FIVE_BELLY),),
        "detached_bar": ((line((0.12, 0.06), (0.1, 0.45)), _FIVE_BELLY),
                         (line((0.2, 0.0), (0.76, -0.03)),)),
    },
    6: {
        "one_stroke": ((line((0.66, 0.02), (0.34, 0.14), (0.1, 0.46), (0.1, 0.8), (0.34, 1.0),
                             (0.6, 0.9), (0.64, 0.68), (0.4, 0.55), (0.12, 0.66)),),),
        "straight_stem": ((line((0.58, 0.0), (0.1, 0.7)),
                           line((0.1, 0.7), (0.24, 0.97), (0.54, 0.97), (0.64, 0.74),
                                (0.44, 0.56), (0.16, 0.64))),),
        "big_loop": ((line((0.62, 0.0), (0.22, 0.2), (0.04, 0.6), (0.2, 0.96), (0.55, 0.96),
                           (0.7, 0.7), (0.52, 0.44), (0.2, 0.44), (0.06, 0.6)),),),
    },
    7: {
        "plain": ((_SEVEN_TOP, line((0.72, 0.0), (0.26, 1.0))),),
        "bar": ((_SEVEN_TOP, line((0.72, 0.0), (0.26, 1.0))),
                (line((0.22, 0.52), (0.74, 0.5)),)),
        "serif": ((line((0.02, 0.2), (0.0, 0.0)), _SEVEN_TOP, line((0.72, 0.0), (0.28, 1.0))),),
        "curved_stem": ((_SEVEN_TOP, line((0.72, 0.0), (0.48, 0.42), (0.36, 1.0))),),
    },
    8: {
        "one_stroke": ((line((0.62, 0.1), (0.36, 0.0), (0.1, 0.12), (0.16, 0.36), (0.5, 0.56),
                             (0.66, 0.8), (0.4, 1.0), (0.08, 0.84), (0.16, 0.6), (0.5, 0.38),
                             (0.63, 0.18), (0.56, 0.05)),),),
        "two_circles": ((arc(0.35, 0.24, 0.24, 0.24, -90, -450, 13),),
                        (arc(0.35, 0.74, 0.3, 0.26, -90, -450, 13),)),
        "from_waist": ((line((0.36, 0.48), (0.62, 0.3), (0.56, 0.04), (0.36, 0.0), (0.14, 0.1),
                             (0.16, 0.32), (0.36, 0.48), (0.64, 0.68), (0.6, 0.94), (0.36, 1.0),
                             (0.08, 0.9), (0.1, 0.64), (0.36, 0.48)),),),
    },
    9: {
        "straight_tail": ((_NINE_LOOP, line((0.62, 0.28), (0.6, 1.0))),),
        "curved_tail": ((_NINE_LOOP, line((0.62, 0.28), (0.6, 0.72), (0.42, 0.97),
                                          (0.12, 0.92))),),
        "two_strokes": ((arc(0.3, 0.26, 0.26, 0.25, -20, -380, 13),),
                        (line((0.57, 0.1), (0.57, 1.0)),)),
        "slanted_tail": ((_NINE_LOOP, line((0.62, 0.28), (0.36, 1.0))),),
    },
}
# fmt: on


# --- variation -----------------------------------------------------------------------

MAX_SLANT_DEG = 25.0
"""Shear of the whole digit: positive leans its top to the right."""
SLANT_MEAN_DEG, SLANT_SD_DEG = 4.0, 11.0
"""Slants are normal, cut at +-MAX_SLANT_DEG: most hands lean a little to the right, and
a strong back-slant on a broad digit pushes a 9's stem through its loop, so it is rare."""
MAX_TILT_DEG = 6.0
"""A small rotation on top of the slant: the paper is never quite straight."""
ASPECT_RANGE = (0.75, 1.35)
"""Width multiplier (log-uniform): narrow to broad hands."""
SIZE_RANGE = (0.25, 0.95)
"""The drawing's longer side, pen included, as a share of the canvas side."""
CONTROL_JITTER = 0.025
"""Standard deviation of each control point's displacement, in digit heights."""
WOBBLE_RANGE = (0.0, 0.02)
"""Amplitude of the smooth noise along each stroke, in digit heights."""
END_CHANGE_RANGE = (-0.05, 0.07)
"""How far each stroke end overshoots (+) or stops short (-), in digit heights."""
GAME_PEN_SHARE = 0.75
"""Share of drawings made with the game's pen; the rest use OTHER_PEN_RANGE."""
OTHER_PEN_RANGE = (8.0, 28.0)
MAX_PEN_SHARE = 0.17
"""A pen never wider than this share of the digit's longer side: a 28-px pen on a 56-px
digit fills its loops, and no one could say what the digit was."""
POINT_SPACING_RANGE = (4.0, 8.0)
"""Canvas px between consecutive recorded points. The browser records coalesced pointer
events (about 1 px apart); between points the pen draws a straight line with round joins,
so sparser points draw the same ink at a third of the rendering cost."""
POINTS_PER_SIDE = 14
"""At least this many points per drawing side, so small loops stay round."""
SPEED_RANGE = (0.3, 1.2)
"""Pen speed, canvas px per ms."""
PAUSE_MS_RANGE = (80, 400)
"""Time the pen is up between strokes."""
SPLINE_STEPS = 10
"""Spline samples per control-point interval before resampling at pointer spacing."""


@dataclass(frozen=True)
class StyleDrawing:
    """One drawn digit: strokes ``[[x...], [y...], [t...]]`` in canvas CSS px and ms."""

    strokes: list[list[list[float]]]
    label: int
    variant: str
    pen_px: float


def catmull_rom(points: np.ndarray, steps: int = SPLINE_STEPS) -> np.ndarray:
    """A centripetal Catmull-Rom curve through ``points`` (P, 2), ``steps`` samples per
    interval; centripetal parametrisation never makes cusps or self-loops on its own."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 3:
        t = np.linspace(0.0, 1.0, steps * max(len(points) - 1, 1) + 1)[:, None]
        return points[0] + t * (points[-1] - points[0])
    padded = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    p0, p1, p2, p3 = padded[:-3], padded[1:-2], padded[2:-1], padded[3:]

    def knot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(np.linalg.norm(b - a, axis=1), 1e-6) ** 0.5

    t1 = knot(p0, p1)
    t2 = t1 + knot(p1, p2)
    t3 = t2 + knot(p2, p3)
    u = np.linspace(0.0, 1.0, steps, endpoint=False)[None, :]
    t = t1[:, None] + u * (t2 - t1)[:, None]  # (segments, steps)
    t1, t2, t3 = t1[:, None, None], t2[:, None, None], t3[:, None, None]
    t = t[..., None]
    p0, p1, p2, p3 = p0[:, None], p1[:, None], p2[:, None], p3[:, None]
    a1 = (t1 - t) / t1 * p0 + t / t1 * p1
    a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
    a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
    b1 = (t2 - t) / t2 * a1 + t / t2 * a2
    b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
    curve = (t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2
    return np.vstack([curve.reshape(-1, 2), points[-1]])


def _arc_length(points: np.ndarray) -> np.ndarray:
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(steps)])


def _resample(points: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Points at these arc-length positions; positions outside extend the end tangents."""
    length = _arc_length(points)
    total = length[-1]
    out = np.column_stack(
        [np.interp(positions, length, points[:, 0]), np.interp(positions, length, points[:, 1])]
    )
    if total <= 0:
        return out
    probe = min(0.05, total / 3)
    head = points[0] - np.array(
        [np.interp(probe, length, points[:, 0]), np.interp(probe, length, points[:, 1])]
    )
    tail = points[-1] - np.array(
        [
            np.interp(total - probe, length, points[:, 0]),
            np.interp(total - probe, length, points[:, 1]),
        ]
    )
    before, after = positions < 0, positions > total
    out[before] = points[0] + np.outer(-positions[before], head / max(np.linalg.norm(head), 1e-9))
    out[after] = points[-1] + np.outer(
        positions[after] - total, tail / max(np.linalg.norm(tail), 1e-9)
    )
    return out


def _stroke_shape(stroke: TemplateStroke, rng: np.random.Generator) -> np.ndarray:
    """One template stroke as a dense, jittered, wobbly polyline in digit units."""
    pieces = []
    corner_shift = None
    for run in stroke:
        control = np.asarray(run, dtype=np.float64)
        control = control + rng.normal(0.0, CONTROL_JITTER, control.shape)
        if corner_shift is not None:  # runs meet at their shared corner
            control[0] = corner_shift
        corner_shift = control[-1]
        piece = catmull_rom(control)
        pieces.append(piece if not pieces else piece[1:])
    dense = np.vstack(pieces)
    length = _arc_length(dense)
    total = float(length[-1])
    limit = 0.25 * total  # never trim more than a quarter of a stroke
    start_change = max(rng.uniform(*END_CHANGE_RANGE), -limit)
    end_change = max(rng.uniform(*END_CHANGE_RANGE), -limit)
    positions = np.linspace(-start_change, total + end_change, max(len(dense), 2))
    shaped = _resample(dense, positions)
    amplitude = rng.uniform(*WOBBLE_RANGE)
    if amplitude > 0:
        along = positions - positions[0]
        wobble = np.zeros_like(shaped)
        for axis in (0, 1):
            for _ in range(3):
                frequency = rng.uniform(0.5, 3.0)  # cycles per digit height
                wobble[:, axis] += np.sin(2 * np.pi * frequency * along + rng.uniform(0, 7))
        shaped = shaped + wobble * amplitude / 3
    return shaped


def draw_style(
    digit: int,
    variant: str,
    rng: np.random.Generator,
    *,
    size: int = CANVAS_PX,
) -> StyleDrawing:
    """One drawing of ``STYLES[digit][variant]`` with random hand, size, place and pen."""
    return draw_template(STYLES[digit][variant], digit, rng, variant=variant, size=size)


def draw_template(
    template: Template,
    digit: int,
    rng: np.random.Generator,
    *,
    variant: str = "",
    size: int = CANVAS_PX,
) -> StyleDrawing:
    """One drawing of any stroke template (other hands: bench/hands.py) varied as above."""
    shapes = [_stroke_shape(stroke, rng) for stroke in template]

    # The hand: width, slant and tilt about the digit's middle.
    aspect = np.exp(rng.uniform(*np.log(ASPECT_RANGE)))
    slant_deg = np.clip(rng.normal(SLANT_MEAN_DEG, SLANT_SD_DEG), -MAX_SLANT_DEG, MAX_SLANT_DEG)
    slant = np.tan(np.deg2rad(slant_deg))
    tilt = np.deg2rad(rng.uniform(-MAX_TILT_DEG, MAX_TILT_DEG))
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    transformed = []
    for shape in shapes:
        x = shape[:, 0] * aspect - (shape[:, 1] - 0.5) * slant
        transformed.append(np.column_stack([x, shape[:, 1]]) @ rotation.T)
    every = np.vstack(transformed)
    low, high = every.min(axis=0), every.max(axis=0)
    extent = float(max((high - low).max(), 1e-6))

    # The page: size, pen and place. The pen is part of the drawing's size.
    side = rng.uniform(*SIZE_RANGE) * size
    if rng.random() < GAME_PEN_SHARE:
        pen = float(PEN_PX)
    else:
        pen = float(np.exp(rng.uniform(*np.log(OTHER_PEN_RANGE))))
    pen = round(min(pen, MAX_PEN_SHARE * side), 1)
    scale = (side - pen) / extent
    placed = [(shape - low) * scale for shape in transformed]
    drawn = (high - low) * scale
    margin = pen / 2 + 1
    offset = np.array([rng.uniform(margin, max(margin, size - margin - drawn[k])) for k in (0, 1)])

    # The pointer: evenly spaced events, timed at a steady speed, pauses between strokes.
    spacing = min(rng.uniform(*POINT_SPACING_RANGE), side / POINTS_PER_SIDE)
    speed = rng.uniform(*SPEED_RANGE)
    clock = 0.0
    strokes = []
    for shape in placed:
        shape = shape + offset
        length = _arc_length(shape)
        count = max(int(np.ceil(length[-1] / spacing)) + 1, 2)
        points = _resample(shape, np.linspace(0.0, length[-1], count))
        points = np.clip(points, margin, size - margin)
        times = clock + _arc_length(points) / speed
        rounded = np.round(points, 1)
        strokes.append(
            [rounded[:, 0].tolist(), rounded[:, 1].tolist(), np.rint(times).astype(int).tolist()]
        )
        clock = times[-1] + rng.uniform(*PAUSE_MS_RANGE)
    return StyleDrawing(strokes=strokes, label=digit, variant=variant, pen_px=pen)


def _item(seed: int, index: int, attempt: int = 0) -> StyleDrawing:
    """Item ``index`` of a seed: digits cycle 0-9, each digit's variants take turns."""
    digit = index % DIGITS
    variants = list(STYLES[digit])
    variant = variants[(index // DIGITS) % len(variants)]
    rng = np.random.default_rng([seed, index, attempt])
    return draw_style(digit, variant, rng)


def make_style_drawings(n: int, seed: int) -> list[StyleDrawing]:
    """``n`` drawings with their pens; balanced over digits and, per digit, over variants."""
    return [_item(seed, i) for i in range(n)]


def make_style_strokes(n: int, seed: int) -> tuple[list, np.ndarray, list[str]]:
    """``n`` drawings as (strokes per drawing, labels (n,) int64, variant names).

    Variant names are the keys of ``STYLES[label]``. Most drawings use the game's pen;
    :func:`make_style_drawings` also gives each drawing's pen width.
    """
    drawings = make_style_drawings(n, seed)
    labels = np.array([d.label for d in drawings], dtype=np.int64)
    return [d.strokes for d in drawings], labels, [d.variant for d in drawings]


# --- pixels --------------------------------------------------------------------------


def drawing_pixels(drawing: StyleDrawing) -> np.ndarray | None:
    """The 28x28 uint8 the worker would get for this drawing, or None when blank.

    Bit for bit what ``preprocess_png(render_strokes(...))`` gives (the PNG's alpha is
    the rendered ink, losslessly), without the PNG round trip, which would triple the cost.
    """
    prepared = preprocess_strokes(drawing.strokes, pen_px=drawing.pen_px)
    return None if prepared.blank else to_uint8(prepared.pixels)


def _source_hash() -> str:
    """Changes whenever the drawings could: this module, the renderer, the preprocessing."""
    import inference.canvas
    import inference.preprocess

    digest = hashlib.sha256()
    for module_file in (__file__, inference.canvas.__file__, inference.preprocess.__file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()[:16]


def default_cache_dir() -> Path:
    """``$GUESSGAME_VAR_DIR/cache``, else ``var/cache`` in the project."""
    var = os.environ.get("GUESSGAME_VAR_DIR")
    return (Path(var) if var else Path(__file__).resolve().parents[1] / "var") / "cache"


def style_pixels(
    n: int, seed: int, *, cache_dir: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n`` style digits as the model sees them: (N, 28, 28) uint8, labels, variant names.

    Rendered with ``inference.canvas`` and preprocessed with ``inference.preprocess`` as
    in the game (feed the model ``from_uint8(images)``). A drawing that comes out blank is
    drawn again (a new attempt of the same item). With ``cache_dir`` (for example
    :func:`default_cache_dir`) the result is kept in an NPZ keyed by n, seed and the
    source hash of the code that draws it.
    """
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"styles-n{n}-seed{seed}-{_source_hash()}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as cached:
                return cached["images"], cached["labels"], [str(v) for v in cached["variants"]]
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    labels = np.zeros(n, dtype=np.int64)
    variants = []
    for index in tqdm(range(n), desc="drawing styled digits", unit="digit", disable=n < 5000):
        attempt = 0
        while True:
            drawing = _item(seed, index, attempt)
            pixels = drawing_pixels(drawing)
            if pixels is not None:
                break
            attempt += 1
        images[index] = pixels
        labels[index] = drawing.label
        variants.append(drawing.variant)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez_compressed(partial, images=images, labels=labels, variants=np.array(variants))
        partial.replace(path)
    return images, labels, variants


# --- benchmark -----------------------------------------------------------------------

Predict = Callable[[np.ndarray], np.ndarray]
"""Takes (N, 28, 28) float32 in [0, 1], returns (N, 10) or (N, 11) probabilities;
column 10, when present, is "not a digit"."""


def style_benchmark_stats(
    probabilities: np.ndarray, labels: np.ndarray, variants: Sequence[str]
) -> dict:
    """Accuracy overall, per digit and per ``"digit/variant"``; a digit answered "not a
    digit" counts as an error and its share is reported as ``refused``."""
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    guesses = probabilities.argmax(axis=1)
    correct = guesses == labels
    refused = guesses == NOT_DIGIT_CLASS
    keys = np.array([f"{label}/{variant}" for label, variant in zip(labels, variants, strict=True)])

    def share(mask: np.ndarray, of: np.ndarray) -> float:
        return round(float(mask[of].mean()), 5) if of.any() else 0.0

    per_variant = {}
    for key in dict.fromkeys(sorted(keys)):
        chosen = keys == key
        wrong = guesses[chosen & ~correct]
        per_variant[key] = {
            "accuracy": share(correct, chosen),
            "refused": share(refused, chosen),
            "count": int(chosen.sum()),
            "wrong_guesses": {
                ("not a digit" if g == NOT_DIGIT_CLASS else str(g)): int(c)
                for g, c in zip(*np.unique(wrong, return_counts=True), strict=True)
            },
        }
    return {
        "size": int(len(labels)),
        "accuracy": round(float(correct.mean()), 5) if len(labels) else 0.0,
        "refused": round(float(refused.mean()), 5) if len(labels) else 0.0,
        "per_digit_accuracy": {str(d): share(correct, labels == d) for d in range(DIGITS)},
        "per_digit_refused": {str(d): share(refused, labels == d) for d in range(DIGITS)},
        "per_variant": per_variant,
    }


def style_benchmark(
    predict: Predict,
    *,
    n: int = STYLE_BENCH_N,
    seed: int = STYLE_BENCH_SEED,
    cache_dir: str | Path | None = None,
) -> dict:
    """The style benchmark: ``n`` style digits (seed STYLE_BENCH_SEED), graded.

    Returns :func:`style_benchmark_stats` plus the ``seed``.
    """
    images, labels, variants = style_pixels(n, seed, cache_dir=cache_dir)
    probabilities = np.asarray(predict(from_uint8(images)))
    if probabilities.shape not in ((n, 10), (n, 11)):
        raise ValueError(
            f"predict must return (N, 10) or (N, 11) probabilities, got {probabilities.shape}."
        )
    return {"seed": seed, **style_benchmark_stats(probabilities, labels, variants)}


# --- picture -------------------------------------------------------------------------

PICTURE_SEED = 11
PICTURE_PER_VARIANT = 6


def plot_styles(path: str | Path, *, per_variant: int = PICTURE_PER_VARIANT,
                seed: int = PICTURE_SEED) -> None:  # fmt: skip
    """A grid: one row per digit variant, its drawings on the canvas (left) and the same
    drawings as the model sees them, 28x28 (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(digit, variant) for digit in STYLES for variant in STYLES[digit]]
    cell = 0.75
    fig, axes = plt.subplots(
        len(rows), 2 * per_variant, figsize=(2 * per_variant * cell + 1.2, len(rows) * cell)
    )
    for row, (digit, variant) in enumerate(rows):
        for k in range(per_variant):
            rng = np.random.default_rng([seed, digit, row, k])
            drawing = draw_style(digit, variant, rng)
            ink = np.asarray(render_ink(drawing.strokes, pen_px=drawing.pen_px))
            pixels = drawing_pixels(drawing)
            canvas_ax, model_ax = axes[row, k], axes[row, per_variant + k]
            canvas_ax.imshow(255 - ink, cmap="gray", vmin=0, vmax=255)
            model_ax.imshow(pixels, cmap="gray_r", vmin=0, vmax=255)
            for ax in (canvas_ax, model_ax):
                ax.set_xticks([])
                ax.set_yticks([])
        axes[row, 0].set_ylabel(f"{digit} {variant}", rotation=0, ha="right", va="center",
                                fontsize=8)  # fmt: skip
    axes[0, 0].set_title("on the canvas", loc="left", fontsize=9)
    axes[0, per_variant].set_title("as the model sees it (28x28)", loc="left", fontsize=9)
    fig.subplots_adjust(left=0.1, right=0.99, top=0.985, bottom=0.005, wspace=0.05, hspace=0.05)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--picture", default=None, help="draw the styles grid into this PNG")
    parser.add_argument("--model-dir", default=None, help="grade model.tflite in this folder")
    parser.add_argument("--n", type=int, default=2000, help="style digits to grade (2000)")
    parser.add_argument("--seed", type=int, default=STYLE_BENCH_SEED, help="benchmark seed")
    parser.add_argument("--no-cache", action="store_true", help="draw again, do not cache")
    args = parser.parse_args(argv)
    if args.picture:
        plot_styles(args.picture)
        print(f"styles picture: {args.picture}")
    if args.model_dir:
        from training.evaluate import tflite_predict

        started = time.perf_counter()
        stats = style_benchmark(
            tflite_predict(Path(args.model_dir) / "model.tflite"),
            n=args.n,
            seed=args.seed,
            cache_dir=None if args.no_cache else default_cache_dir(),
        )
        elapsed = time.perf_counter() - started
        print(f"model:            {args.model_dir}")
        print(
            f"style benchmark:  {stats['accuracy']:.2%} of {stats['size']} "
            f"(refused {stats['refused']:.2%}, seed {stats['seed']}, {elapsed:.1f} s)"
        )
        print("per digit:", json.dumps(stats["per_digit_accuracy"]))
        for key, variant in stats["per_variant"].items():
            print(f"  {key:<18} {variant['accuracy']:7.2%}  ({variant['count']})  "
                  f"wrong: {variant['wrong_guesses']}")  # fmt: skip


if __name__ == "__main__":
    main()
