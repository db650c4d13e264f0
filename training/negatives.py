"""Drawings that are NOT digits, for teaching the model to say "that is not a digit".

Each *kind* is a small generator that takes a NumPy random generator and returns one
drawing in the game's canvas format (``inference.canvas``): a list of strokes
``[[x...], [y...], [t...]]`` in CSS pixels on the 225-px canvas, t in milliseconds.
Every drawing is placed like a player would draw it: any size from 20% to 95% of the
canvas, anywhere on it, slightly slanted and rotated, wobbly (a smooth random warp plus
a little hand tremor), closed shapes sometimes left open or overshot.

Sources:

* procedural scribbles, random strokes, hatching, zigzags and doodles (shapes, faces,
  arrows, stars, grids, a house, a sun, ...);
* letters and symbols of the Hershey vector fonts (``hershey-fonts`` package, MIT; the
  glyphs are the public-domain Hershey fonts of the U.S. National Bureau of Standards);
* letters and symbols of DejaVu Sans as shipped inside matplotlib (Bitstream Vera
  licence), rasterised, thinned to a skeleton and redrawn with the pen the way
  ``training.evaluate.digit_as_strokes`` redraws MNIST digits.

Reserved for an independent evaluation and never used here: the Hershey fonts' *digits*
and every font of Debian's ``fonts-*`` packages. Letters that a player's digit could be
mistaken for (O, I, S, Z, B, G, ...) are left out; see ``LETTERS_EXCLUDED``.

Rendering goes through the game's own path, ``inference.preprocess.preprocess_strokes``
(the server's drawing of strokes, whose ink is the alpha channel of the PNG the browser
sends), so the 28x28 pictures are exactly the ones the canvas benchmark and the game
produce.

Training seeds must differ from ``NONDIGIT_BENCH_SEED``, which draws the benchmark.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from inference.canvas import CANVAS_PX, PEN_PX
from inference.contract import NOT_DIGIT_CLASS, from_uint8, to_uint8
from inference.preprocess import preprocess_strokes

Stroke = list[list[float]]
Drawing = list[Stroke]
Predict = Callable[[np.ndarray], np.ndarray]

NONDIGIT_BENCH_SEED = 7_770_011
"""Seed of the non-digit benchmark. Training draws its negatives with any other seed."""
NONDIGIT_BENCH_N = 2000
"""Drawings in the non-digit benchmark."""


SIZE_RANGE = (0.20, 0.95)
"""The drawing's longer side, as a share of the canvas side."""
MARGIN_PX = 15
"""Kept free at the canvas edge: half the widest pen (28 px) and a pixel."""
ASPECT_RANGE = (0.45, 2.5)
"""Width / height of the placed drawing: a tall thin drawing of anything reads as a 1."""
MAX_SLANT = 0.25
"""Largest horizontal shear (x += slant * y), about 14 degrees of italic."""
GAME_PEN_SHARE = 0.7
"""Share of drawings rendered with the game's pen; the rest get OTHER_PEN_PX."""
OTHER_PEN_PX = (8.0, 28.0)
RESAMPLE_PX = 5.0
"""Spacing of the points along a placed stroke, in canvas px (a browser samples ~every
16 ms; at a typical 0.3 px/ms that is about 5 px)."""


@dataclass
class Shape:
    """A drawing before placement: polylines in any units, y pointing down.

    ``dots`` marks a skeleton given as points, drawn as one pen dot each (like
    ``training.evaluate.digit_as_strokes``) rather than as connected lines.
    ``max_tilt_deg`` is how far the drawing may turn: letters little, an asterisk freely.
    ``min_size`` (share of the canvas) keeps drawings with fine detail (a spiral, a face)
    big enough that the pen does not fill them into a blob.
    """

    lines: list[np.ndarray]
    dots: bool = False
    max_tilt_deg: float = 15.0
    min_size: float = SIZE_RANGE[0]


# --- geometry helpers ----------------------------------------------------------------


def _arc(cx, cy, rx, ry, start, stop, n=32) -> np.ndarray:
    """Points on an elliptical arc, angles in radians (y down: positive turns clockwise)."""
    angles = np.linspace(start, stop, n)
    return np.column_stack((cx + rx * np.cos(angles), cy + ry * np.sin(angles)))


def _loop(rng, cx, cy, rx, ry, n=36) -> np.ndarray:
    """A hand-drawn closed loop: starts anywhere, sometimes stops short or overshoots."""
    start = rng.uniform(0, 2 * np.pi)
    turn = 2 * np.pi * rng.uniform(0.9, 1.1) * rng.choice((-1, 1))
    return _arc(cx, cy, rx, ry, start, start + turn, n)


def _polygon(rng, vertices, closed=True) -> np.ndarray:
    points = np.asarray(vertices, dtype=np.float64)
    if closed:
        points = np.vstack((points, points[:1]))
        if rng.random() < 0.3:  # left a little open, or run on past the start
            end = points[-2] + (points[-1] - points[-2]) * rng.uniform(0.8, 1.15)
            points[-1] = end
    return points


def _line(a, b) -> np.ndarray:
    return np.array([a, b], dtype=np.float64)


def _resample(line: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` along the polyline, keeping its ends."""
    if len(line) < 2:
        return line
    seg = np.hypot(*np.diff(line, axis=0).T)
    total = float(seg.sum())
    if total <= step:
        return line
    at = np.concatenate(([0.0], np.cumsum(seg)))
    wanted = np.linspace(0.0, total, int(np.ceil(total / step)) + 1)
    return np.column_stack((np.interp(wanted, at, line[:, 0]), np.interp(wanted, at, line[:, 1])))


def _crossings(lines: list[np.ndarray]) -> int:
    """How many times the polylines cross themselves and each other."""
    segments = np.concatenate([np.stack((line[:-1], line[1:]), axis=1) for line in lines])
    a, b = segments[:, None, 0], segments[:, None, 1]
    c, d = segments[None, :, 0], segments[None, :, 1]

    def side(p, q, r):
        return np.sign((q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1])
                       - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0]))  # fmt: skip

    crossing = (side(a, b, c) * side(a, b, d) < 0) & (side(c, d, a) * side(c, d, b) < 0)
    return int(np.triu(crossing, k=2).sum())


# --- scribbles and strokes -----------------------------------------------------------

MIN_SCRIBBLE_CROSSINGS = 4
MIN_STROKE_CROSSINGS = 3


def _scribble(rng) -> Shape:
    """A tangle: a long random walk with momentum, or fast loops drifting sideways.

    Long on purpose: a short walk can come out as a 2, a 6 or an l.
    """
    if rng.random() < 0.5:
        while True:  # a walk that crosses itself a few times is a tangle, not a numeral
            lines = []
            for _ in range(rng.integers(1, 3)):
                steps = rng.integers(40, 100)
                turns = np.cumsum(rng.normal(0, rng.uniform(0.3, 0.8), steps))
                lengths = rng.uniform(0.5, 1.5, steps)
                step_xy = np.column_stack((np.cos(turns), np.sin(turns))) * lengths[:, None]
                lines.append(np.cumsum(step_xy, 0) + rng.normal(0, 3, 2))
            if _crossings(lines) >= MIN_SCRIBBLE_CROSSINGS:
                return Shape(lines, max_tilt_deg=180, min_size=0.45)
    loops = rng.uniform(3, 8)
    t = np.linspace(0, 2 * np.pi * loops, int(24 * loops))
    radius = rng.uniform(0.6, 1.4) * (1 + 0.3 * rng.standard_normal(len(t)).cumsum() / len(t))
    drift = np.column_stack((t / (2 * np.pi) * rng.uniform(0.8, 1.6), 0.3 * np.sin(t / 7)))
    circle = np.column_stack((radius * np.cos(t), rng.uniform(0.6, 1.2) * radius * np.sin(t)))
    return Shape(
        [drift + circle + rng.normal(0, 0.08, circle.shape)], max_tilt_deg=30, min_size=0.4
    )


def _random_strokes(rng) -> Shape:
    """Four to seven straight strokes between random points, crossing each other.

    Fewer strokes, or strokes that do not cross, make a 1, a 4, a 7 or an L.
    """
    while True:
        lines = [
            _line(rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)) for _ in range(rng.integers(4, 8))
        ]
        if _crossings(lines) >= MIN_STROKE_CROSSINGS:
            return Shape(lines, max_tilt_deg=180)


def _hatching(rng) -> Shape:
    """Parallel strokes, sometimes crossed by a second set (shading, cross-hatching)."""
    lines = []
    for angle in (0.0, np.pi / 2 + rng.normal(0, 0.3))[: 1 + int(rng.random() < 0.4)]:
        count = rng.integers(5, 13)
        direction = np.array([np.cos(angle), np.sin(angle)])
        normal = np.array([-direction[1], direction[0]])
        for k in range(count):
            offset = (k / (count - 1) - 0.5) * normal
            half = direction * rng.uniform(0.35, 0.5)
            start = offset - half + rng.normal(0, 0.03, 2)
            lines.append(_line(start, offset + half + rng.normal(0, 0.03, 2)))
    return Shape(lines, max_tilt_deg=180, min_size=0.4)


def _zigzag(rng) -> Shape:
    """A zigzag of five to twelve legs (fewer legs read as a Z, a 7 or a 4)."""
    legs = rng.integers(5, 13)
    xs = np.linspace(0, 1, legs + 1)
    ys = np.where(np.arange(legs + 1) % 2 == 0, 0.0, 1.0) * rng.uniform(0.15, 0.5)
    ys = ys + rng.normal(0, 0.02, legs + 1)
    return Shape([np.column_stack((xs, ys))], max_tilt_deg=25, min_size=0.35)


def _wave(rng) -> Shape:
    """A wave of two to five periods, or a row of loops like a telephone cord."""
    periods = rng.uniform(2, 5)
    t = np.linspace(0, 1, int(40 * periods))
    amplitude = rng.uniform(0.06, 0.2)
    if rng.random() < 0.5:
        x = t + amplitude * 0.9 * np.sin(2 * np.pi * periods * t)  # loops
        y = amplitude * np.cos(2 * np.pi * periods * t)
    else:
        x, y = t, amplitude * np.sin(2 * np.pi * periods * t)
    lines = [np.column_stack((x, y))]
    if rng.random() < 0.3:  # a second wave under the first (water)
        lines.append(lines[0] + [rng.normal(0, 0.03), rng.uniform(0.2, 0.35)])
    return Shape(lines, max_tilt_deg=20, min_size=0.4)


# --- doodles -------------------------------------------------------------------------


def _triangle(rng) -> Shape:
    corners = [(0, 1), (1, 1), (rng.uniform(0.2, 0.8), 0)] + rng.normal(0, 0.04, (3, 2))
    return Shape([_polygon(rng, corners)], max_tilt_deg=180)


def _rectangle(rng) -> Shape:
    corners = [(0, 0), (1, 0), (1, 1), (0, 1)] + rng.normal(0, 0.03, (4, 2))
    lines = [_polygon(rng, np.roll(corners, rng.integers(0, 4), axis=0))]
    if rng.random() < 0.3:  # a box: the diagonals, or a cross inside
        lines += [_line(corners[0], corners[2]), _line(corners[1], corners[3])]
    return Shape(lines, max_tilt_deg=20)


def _star(rng) -> Shape:
    points = int(rng.choice((5, 5, 5, 6, 7, 8)))
    start = -np.pi / 2 + rng.normal(0, 0.1)
    if points == 5 and rng.random() < 0.5:  # the one-stroke pentagram
        angles = start + 4 * np.pi / 5 * np.arange(5)
        star = np.column_stack((np.cos(angles), np.sin(angles)))
        return Shape([_polygon(rng, star + rng.normal(0, 0.05, (5, 2)))], max_tilt_deg=25)
    angles = start + np.pi / points * np.arange(2 * points)
    radii = np.where(np.arange(2 * points) % 2 == 0, 1.0, rng.uniform(0.35, 0.55))
    star = np.column_stack((radii * np.cos(angles), radii * np.sin(angles)))
    return Shape(
        [_polygon(rng, star + rng.normal(0, 0.04, star.shape))], max_tilt_deg=25, min_size=0.3
    )


def _face(rng, mood: int) -> Shape:
    """A round face, two eyes and a mouth: mood 1 smiles, -1 frowns."""
    lines = [_loop(rng, 0, 0, 1, rng.uniform(0.85, 1.15))]
    for side in (-1, 1):
        eye = np.array([side * rng.uniform(0.3, 0.45), rng.uniform(-0.45, -0.2)])
        if rng.random() < 0.5:
            lines.append(eye[None, :])  # a dot
        else:
            lines.append(_arc(*eye, 0.1, 0.12, 0, 2 * np.pi, 12))
    width = rng.uniform(0.35, 0.6)
    mouth_y = 0.3 if mood > 0 else 0.55
    depth = rng.uniform(0.1, 0.3) * mood
    x = np.linspace(-width, width, 16)
    lines.append(np.column_stack((x, mouth_y + depth * (1 - (x / width) ** 2))))
    return Shape(lines, max_tilt_deg=20, min_size=0.4)


def _smiley(rng) -> Shape:
    return _face(rng, 1)


def _sad_face(rng) -> Shape:
    return _face(rng, -1)


def _arrow(rng) -> Shape:
    """An arrow pointing any way, with an open or closed head."""
    length = 1.0
    head = rng.uniform(0.3, 0.45)
    spread = rng.uniform(0.5, 0.9)
    tip = np.array([length, 0.0])
    wings = [tip + head * np.array([-np.cos(spread), s * np.sin(spread)]) for s in (-1, 1)]
    lines = [_line((0, 0), tip)]
    if rng.random() < 0.3:
        lines.append(_polygon(rng, [wings[0], tip, wings[1]]))
    else:
        lines.append(np.array([wings[0], tip, wings[1]]))
    direction = rng.integers(0, 8) * 45 + rng.normal(0, 8)
    angle = np.deg2rad(direction)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return Shape([line @ rotation.T for line in lines], max_tilt_deg=0, min_size=0.35)


def _hash(rng) -> Shape:
    """A # or a tic-tac-toe grid, sometimes with Xs played in it."""
    lines = []
    for k in (1, 2):
        x = k / 3 + rng.normal(0, 0.03)
        lines.append(_line((x + rng.normal(0, 0.03), 0), (x, 1)))
        y = k / 3 + rng.normal(0, 0.03)
        lines.append(_line((0, y), (1, y + rng.normal(0, 0.03))))
    for _ in range(rng.integers(0, 4) if rng.random() < 0.5 else 0):
        cx, cy = (rng.integers(0, 3, 2) + 0.5) / 3
        r = 0.09
        lines += [
            _line((cx - r, cy - r), (cx + r, cy + r)),
            _line((cx + r, cy - r), (cx - r, cy + r)),
        ]
    return Shape(lines, max_tilt_deg=15, min_size=0.35)


def _heart(rng) -> Shape:
    t = np.linspace(0, 2 * np.pi * rng.uniform(0.93, 1.05), 48)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return Shape([np.column_stack((x, y))], max_tilt_deg=20)


def _spiral(rng) -> Shape:
    """A spiral of three to four turns (fewer turns read as a 6, a 9 or a 0)."""
    turns = rng.uniform(3, 4)
    t = np.linspace(0, 2 * np.pi * turns, int(30 * turns))
    r = (t / t[-1]) ** rng.uniform(0.8, 1.2)
    sense = rng.choice((-1, 1))
    return Shape(
        [np.column_stack((r * np.cos(sense * t), r * np.sin(sense * t)))],
        max_tilt_deg=180,
        min_size=0.65,
    )


def _house(rng) -> Shape:
    roof = rng.uniform(0.3, 0.6)
    lines = [
        _polygon(rng, [(0, roof), (1, roof), (1, 1.4), (0, 1.4)]),
        np.array([(-0.05, roof), (0.5, 0), (1.05, roof)]),
    ]
    if rng.random() < 0.7:  # a door
        x = rng.uniform(0.25, 0.6)
        lines.append(np.array([(x, 1.4), (x, 1.05), (x + 0.2, 1.05), (x + 0.2, 1.4)]))
    return Shape(lines, max_tilt_deg=10, min_size=0.35)


def _sun(rng) -> Shape:
    r = rng.uniform(0.3, 0.45)
    lines = [_loop(rng, 0, 0, r, r)]
    rays = int(rng.integers(6, 13))
    for angle in np.linspace(0, 2 * np.pi, rays, endpoint=False) + rng.uniform(0, 1):
        direction = np.array([np.cos(angle), np.sin(angle)])
        lines.append(_line(direction * (r + 0.1), direction * rng.uniform(0.75, 1.0)))
    return Shape(lines, max_tilt_deg=180, min_size=0.35)


def _cloud(rng) -> Shape:
    """Bumps along an ellipse: a cloud (or a bush)."""
    bumps = int(rng.integers(5, 9))
    points = []
    for k in range(bumps):
        a0, a1 = 2 * np.pi * k / bumps, 2 * np.pi * (k + 1) / bumps
        mid = (a0 + a1) / 2
        centre = np.array([1.6 * np.cos(mid), np.sin(mid)])
        r = rng.uniform(0.45, 0.65)
        points.append(_arc(*centre, r, r, mid - 1.4, mid + 1.4, 10))
    return Shape([np.vstack(points)], max_tilt_deg=10)


def _flower(rng) -> Shape:
    petals = int(rng.integers(5, 9))
    lines = [_loop(rng, 0, 0, 0.2, 0.2, 16)]
    for angle in np.linspace(0, 2 * np.pi, petals, endpoint=False) + rng.uniform(0, 1):
        centre = 0.5 * np.array([np.cos(angle), np.sin(angle)])
        petal = _arc(0, 0, 0.3, 0.14, 0, 2 * np.pi, 14)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        lines.append(petal @ rotation.T + centre)
    if rng.random() < 0.6:  # a stem and a leaf
        lines.append(_line((0, 0.8), (rng.normal(0, 0.1), 2.0)))
        lines.append(_arc(0.2, 1.4, 0.2, 0.08, 0, 2 * np.pi, 12))
    return Shape(lines, max_tilt_deg=15, min_size=0.4)


def _asterisk(rng) -> Shape:
    """Three to six lines crossing near one point (an X is the two-line case)."""
    count = int(rng.integers(2, 7))
    lines = []
    for angle in np.linspace(0, np.pi, count, endpoint=False) + rng.uniform(0, np.pi):
        angle += rng.normal(0, 0.1)
        direction = np.array([np.cos(angle), np.sin(angle)])
        lines.append(_line(-direction * rng.uniform(0.7, 1), direction * rng.uniform(0.7, 1)))
    return Shape(lines, max_tilt_deg=0 if count == 2 else 180, min_size=0.3)


def _cross_x(rng) -> Shape:
    """An X: the commonest mark that is no digit."""
    return Shape(
        [
            _line((0, 0), (1, 1) + rng.normal(0, 0.05, 2)),
            _line((1, 0), (0, 1) + rng.normal(0, 0.05, 2)),
        ],
        max_tilt_deg=15,
    )


def _checkmark(rng) -> Shape:
    short = rng.uniform(0.25, 0.45)
    return Shape([np.array([(0, 1 - short), (short, 1), (1, 0)])], max_tilt_deg=10)


def _lightning(rng) -> Shape:
    """A lightning bolt outline (a bare three-stroke bolt reads as a Z or a 4)."""
    w = rng.uniform(0.25, 0.4)
    outline = [
        (0.4, 0),
        (0.4 + w, 0),
        (0.55, 0.42),
        (0.8, 0.42),
        (0.2, 1.0),
        (0.38, 0.55),
        (0.15, 0.55),
    ]
    return Shape(
        [_polygon(rng, np.asarray(outline) + rng.normal(0, 0.02, (7, 2)))],
        max_tilt_deg=10,
        min_size=0.35,
    )


def _stick_figure(rng) -> Shape:
    head = rng.uniform(0.15, 0.22)
    neck, hip = 2 * head, 2 * head + 0.55
    arms_y = neck + 0.15
    return Shape(
        [
            _loop(rng, 0, head, head, head, 20),
            _line((0, neck), (0, hip)),
            _line((-0.4, arms_y + rng.normal(0, 0.1)), (0.4, arms_y + rng.normal(0, 0.1))),
            np.array([(-0.3, hip + 0.5), (0, hip), (0.3, hip + 0.5)]),
        ],
        max_tilt_deg=10,
        min_size=0.35,
    )


def _envelope(rng) -> Shape:
    return Shape(
        [
            _polygon(rng, [(0, 0), (1.5, 0), (1.5, 1), (0, 1)]),
            np.array([(0, 0), (0.75, rng.uniform(0.45, 0.65)), (1.5, 0)]),
        ],
        max_tilt_deg=15,
        min_size=0.35,
    )


# --- letters and symbols -------------------------------------------------------------

LETTERS_INCLUDED = "AEFHKLMNPRTUVWXYehkmntuvwx"
"""Letters that no digit is mistaken for, drawn from both fonts."""

LETTERS_EXCLUDED = {
    "O o Q D": "a ring, like 0",
    "C c": "a C-shaped 0 is a way players draw 0",
    "I l i j J": "a bar or a hook, like 1",
    "r f": "a 1 or a 7 with a flag or a bar",
    "S s": "like 5",
    "Z z": "like 2",
    "B": "like 8 (and 3)",
    "G b": "like 6",
    "g q a y": "a loop with a tail, like 9",
    "d p": "a loop on a stem, a mirrored 6 or 9: too close to a sloppy one",
}
"""Left out, with the digit each resembles."""

SYMBOLS_INCLUDED = "#@+*=<^"
"""Keyboard symbols drawn from both fonts."""

SYMBOLS_EXCLUDED = {
    "/ | \\ ( ) [ ] ! -  _ ,": "a single bar or arc, like 1",
    "$ & % { } ?": "like 5, 8, 0 0, 3 or a 2 without a base",
    "~": "one lying S-curve, like a 2 without a base",
    ">": "a 7 with a slanted top",
}

DEJAVU_SYMBOLS_INCLUDED = "☆♡✓✗→←⇒♫☺☹±×÷≠≈√ΔλμπΨω♧♤☂☁✈⌂☐☑☒△▽□▷◁⊕∀∇∩∪✱❄⌘♯"
"""Extra symbols of DejaVu Sans (outlined ones: the skeleton of a filled glyph is a scrawl)."""

DEJAVU_SYMBOLS_EXCLUDED = {
    "♪ ♭ ¶ ♀": "a loop on a stem, like 6 or 9",
    "⊂ ⊃ ∃": "a C-shaped 0, a 3",
    "◇ ♢ ⊗": "a pointed 0, a slashed 0",
    "↑ ↓": "a thin vertical arrow, like 1",
    "Σ": "a mirrored 3",
}

HERSHEY_FONTS = (
    "futural",
    "futuram",
    "rowmans",
    "rowmand",
    "timesr",
    "timesi",
    "timesrb",
    "scripts",
    "scriptc",
    "cursive",
)
"""Hershey fonts with Latin letters: sans, roman, italic, script and cursive hands."""
HERSHEY_UPRIGHT_FONTS = HERSHEY_FONTS[:7]
"""For capitals and symbols: the script capitals are flourishes (a script T is a J with a
hat), nothing a player draws."""

DEJAVU_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf")
GLYPH_RENDER_PX = 64
"""Height at which a DejaVu glyph is rasterised before thinning."""

DIGITS = frozenset("0123456789")


def _check_no_digits(*glyph_sets: str) -> None:
    used = set().union(*glyph_sets)
    if used & DIGITS:
        raise RuntimeError(f"digits are reserved for evaluation: {sorted(used & DIGITS)}")


_check_no_digits(LETTERS_INCLUDED, SYMBOLS_INCLUDED, DEJAVU_SYMBOLS_INCLUDED)


@cache
def _hershey_font(name: str):
    from HersheyFonts import HersheyFonts

    font = HersheyFonts()
    font.load_default_font(name)
    return font


@cache
def _hershey_glyph(font_name: str, char: str) -> tuple[np.ndarray, ...]:
    if char in DIGITS:
        raise ValueError("Hershey digits are reserved for independent evaluation")
    strokes = _hershey_font(font_name).strokes_for_text(char)
    return tuple(np.asarray(s, dtype=np.float64) for s in strokes if len(s))


def _hershey(rng, chars: str) -> Shape:
    while True:
        char = str(rng.choice(list(chars)))
        fonts = HERSHEY_FONTS if char.islower() else HERSHEY_UPRIGHT_FONTS
        glyph = _hershey_glyph(str(rng.choice(fonts)), char)
        if glyph:  # a font without that glyph gives no strokes
            return Shape([line.copy() for line in glyph], max_tilt_deg=10)


def _hershey_letter(rng) -> Shape:
    return _hershey(rng, LETTERS_INCLUDED)


def _hershey_symbol(rng) -> Shape:
    return _hershey(rng, SYMBOLS_INCLUDED)


def dejavu_dir() -> Path:
    """matplotlib's bundled fonts (DejaVu, Bitstream Vera licence): no system fonts."""
    import matplotlib

    return Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"


@cache
def _dejavu_skeleton(font_file: str, char: str) -> np.ndarray:
    """The glyph's skeleton as (x, y) points in pixels of a GLYPH_RENDER_PX rendering."""
    from PIL import Image, ImageDraw, ImageFont
    from skimage.morphology import skeletonize

    if char in DIGITS:
        raise ValueError("digits are not negatives")
    font = ImageFont.truetype(str(dejavu_dir() / font_file), GLYPH_RENDER_PX)
    side = GLYPH_RENDER_PX * 2
    image = Image.new("L", (side, side), 0)
    ImageDraw.Draw(image).text((side / 4, side / 8), char, font=font, fill=255)
    skeleton = skeletonize(np.asarray(image) > 127)
    ys, xs = np.nonzero(skeleton)
    return np.column_stack((xs, ys)).astype(np.float64)


def _dejavu(rng, chars: str) -> Shape:
    points = _dejavu_skeleton(str(rng.choice(DEJAVU_FONTS)), str(rng.choice(list(chars))))
    return Shape([points.copy()], dots=True, max_tilt_deg=10)


def _dejavu_letter(rng) -> Shape:
    return _dejavu(rng, LETTERS_INCLUDED)


def _dejavu_symbol(rng) -> Shape:
    return _dejavu(rng, SYMBOLS_INCLUDED + DEJAVU_SYMBOLS_INCLUDED)


# --- placement: from a shape to strokes on the canvas --------------------------------


def place(shape: Shape, rng: np.random.Generator, *, size: int = CANVAS_PX) -> Drawing:
    """Strokes on the canvas for ``shape``, placed and wobbled as a player would draw it."""
    lines = [np.asarray(line, dtype=np.float64).reshape(-1, 2) for line in shape.lines]
    every = np.vstack(lines)
    low, high = every.min(axis=0), every.max(axis=0)
    centre = (low + high) / 2
    extent = np.maximum(high - low, 1e-6)
    # Aspect: the shape's own, varied a little, kept away from tall-and-thin.
    aspect = extent[0] / extent[1] * np.exp(rng.uniform(-0.3, 0.3))
    aspect = float(np.clip(aspect, *ASPECT_RANGE))
    unit = np.array([aspect, 1.0]) / max(aspect, 1.0)  # longer side 1
    tilt = np.deg2rad(rng.uniform(-shape.max_tilt_deg, shape.max_tilt_deg))
    slant = rng.uniform(-MAX_SLANT, MAX_SLANT)
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    shear = np.array([[1.0, slant], [0.0, 1.0]])
    transform = rotation @ shear
    # A smooth warp (the hand is not a ruler), then a size and a place.
    warp_amp = rng.uniform(0.0, 0.04, 2)
    warp_freq = rng.uniform(0.5, 1.5, 2)
    warp_phase = rng.uniform(0, 2 * np.pi, 2)

    def to_unit(points: np.ndarray) -> np.ndarray:
        p = (points - centre) / extent * unit
        p = p @ transform.T
        bend = warp_amp * np.sin(2 * np.pi * warp_freq * p[:, ::-1] + warp_phase)
        return p + bend

    unit_lines = [to_unit(line) for line in lines]
    every = np.vstack(unit_lines)
    low, high = every.min(axis=0), every.max(axis=0)
    longest = max(float((high - low).max()), 1e-6)
    usable = size - 2 * MARGIN_PX
    scale = rng.uniform(shape.min_size, SIZE_RANGE[1]) * usable / longest
    span = (high - low) * scale
    offset = np.array([rng.uniform(MARGIN_PX, size - MARGIN_PX - span[k]) for k in (0, 1)])

    strokes: Drawing = []
    t = 0.0
    speed = rng.uniform(0.25, 1.2)  # px per ms
    tremor = rng.uniform(0.0, 1.0)  # px
    for line in unit_lines:
        canvas = (line - low) * scale + offset
        if shape.dots:
            canvas = canvas + rng.normal(0, 0.3, canvas.shape)
            for x, y in np.round(canvas, 1).tolist():
                strokes.append([[x], [y], [int(t)]])
                t += 4
            continue
        canvas = _resample(canvas, RESAMPLE_PX)
        canvas = canvas + rng.normal(0, tremor, canvas.shape) * (len(canvas) > 1)
        canvas = np.clip(canvas, MARGIN_PX / 2, size - MARGIN_PX / 2)
        steps = np.hypot(*np.diff(canvas, axis=0).T) if len(canvas) > 1 else np.zeros(0)
        times = t + np.concatenate(([0.0], np.cumsum(steps / speed + 1)))
        strokes.append(
            [
                np.round(canvas[:, 0], 1).tolist(),
                np.round(canvas[:, 1], 1).tolist(),
                times.astype(np.int64).tolist(),
            ]
        )
        t = float(times[-1]) + rng.uniform(80, 300)  # the pen lifts and moves
    return strokes


def _kind(shape_of: Callable[[np.random.Generator], Shape]) -> Callable:
    def draw(rng: np.random.Generator) -> Drawing:
        return place(shape_of(rng), rng)

    draw.__name__ = shape_of.__name__.lstrip("_")
    draw.__doc__ = shape_of.__doc__
    return draw


KINDS: dict[str, Callable[[np.random.Generator], Drawing]] = {
    name: _kind(shape_of)
    for name, shape_of in (
        ("scribble", _scribble),
        ("random_strokes", _random_strokes),
        ("hatching", _hatching),
        ("zigzag", _zigzag),
        ("wave", _wave),
        ("triangle", _triangle),
        ("rectangle", _rectangle),
        ("star", _star),
        ("smiley", _smiley),
        ("sad_face", _sad_face),
        ("arrow", _arrow),
        ("hash", _hash),
        ("heart", _heart),
        ("spiral", _spiral),
        ("house", _house),
        ("sun", _sun),
        ("cloud", _cloud),
        ("flower", _flower),
        ("asterisk", _asterisk),
        ("cross_x", _cross_x),
        ("checkmark", _checkmark),
        ("lightning", _lightning),
        ("stick_figure", _stick_figure),
        ("envelope", _envelope),
        ("hershey_letter", _hershey_letter),
        ("hershey_symbol", _hershey_symbol),
        ("dejavu_letter", _dejavu_letter),
        ("dejavu_symbol", _dejavu_symbol),
    )
}
"""Every kind of non-digit, by name: each draws one drawing from a random generator."""

KIND_WEIGHTS: dict[str, int] = {
    "scribble": 4,
    "random_strokes": 2,
    "hershey_letter": 5,
    "dejavu_letter": 4,
    "dejavu_symbol": 3,
}
"""Turns per round of the schedule (1 if not listed): scribbles and letters are what
players draw most and vary most, so they get more than one doodle of each shape."""

SCHEDULE: tuple[str, ...] = tuple(name for name in KINDS for _ in range(KIND_WEIGHTS.get(name, 1)))
"""Item i is of kind SCHEDULE[i % len(SCHEDULE)]: every kind in its share, at any n."""


# --- many drawings, rendered ---------------------------------------------------------


def _item_rng(seed: int, index: int, attempt: int = 0) -> np.random.Generator:
    """Each drawing has its own generator: item i is the same at any n and any workers."""
    return np.random.default_rng([seed, index, attempt])


def kind_of(index: int) -> str:
    return SCHEDULE[index % len(SCHEDULE)]


def make_negative_strokes(n: int, seed: int) -> tuple[list[Drawing], list[str]]:
    """``n`` drawings and their kind names, kinds in the weighted round-robin SCHEDULE."""
    kinds = [kind_of(i) for i in range(n)]
    return [KINDS[k](_item_rng(seed, i)) for i, k in enumerate(kinds)], kinds


KIND_MAX_PEN_PX = {"spiral": float(PEN_PX)}
"""A thicker pen fills a spiral into a blob with a tail: a 9."""


def pen_of(seed: int, index: int) -> float:
    """The pen a drawing is rendered with: the game's mostly, another pen sometimes."""
    rng = np.random.default_rng([seed, index, 1_000_003])
    if rng.random() < GAME_PEN_SHARE:
        return float(PEN_PX)
    return min(float(rng.uniform(*OTHER_PEN_PX)), KIND_MAX_PEN_PX.get(kind_of(index), np.inf))


def drawing_pixels(strokes: Sequence, *, pen_px: float = PEN_PX) -> np.ndarray | None:
    """The 28x28 grey levels (uint8) the model gets for these strokes, or None if blank.

    Equals ``preprocess_png(render_strokes(...))`` without the PNG round trip (the PNG's
    alpha is the rendered ink, losslessly).
    """
    result = preprocess_strokes(strokes, pen_px=pen_px)
    return None if result.blank else to_uint8(result.pixels)


MAX_ATTEMPTS = 20


def _render_items(seed: int, indices: Sequence[int]) -> np.ndarray:
    out = np.zeros((len(indices), 28, 28), dtype=np.uint8)
    for row, index in enumerate(indices):
        kind = kind_of(index)
        for attempt in range(MAX_ATTEMPTS):
            strokes = KINDS[kind](_item_rng(seed, index, attempt))
            pixels = drawing_pixels(strokes, pen_px=pen_of(seed, index))
            if pixels is not None:
                out[row] = pixels
                break
        else:
            raise RuntimeError(f"kind {kind} drew only blanks for item {index}")
    return out


def source_hash() -> str:
    """Changes whenever this module changes, so a cache never outlives its generator."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def negative_pixels(
    n: int, seed: int, *, workers: int = 1, cache_dir: str | Path | None = None
) -> tuple[np.ndarray, list[str]]:
    """``n`` non-digits as the model sees them: (n, 28, 28) uint8 grey levels and kinds.

    Rendered like the canvas benchmark (``preprocess_strokes``, then the
    256 grey levels a worker receives). A drawing that preprocessing calls blank is drawn
    again (same item, next attempt), so exactly ``n`` come back. With ``cache_dir`` the
    result is kept in ``negatives-<seed>-<n>-<source hash>.npz`` there.
    """
    kinds = [kind_of(i) for i in range(n)]
    cache_file = None
    if cache_dir is not None:
        cache_file = Path(cache_dir) / f"negatives-{seed}-{n}-{source_hash()}.npz"
        if cache_file.exists():
            with np.load(cache_file) as stored:
                return stored["pixels"], kinds
    if workers <= 1 or n < 200:
        pixels = _render_items(seed, range(n))
    else:
        chunks = np.array_split(np.arange(n), workers * 4)
        # spawn, not fork: the caller may be a training process with TensorFlow's threads.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = pool.map(_render_items, [seed] * len(chunks), [c.tolist() for c in chunks])
            bar = tqdm(parts, total=len(chunks), desc="drawing non-digits", unit="chunk")
            pixels = np.concatenate(list(bar))
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache_file.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez_compressed(temporary, pixels=pixels)
        temporary.replace(cache_file)
    return pixels, kinds


# --- the non-digit benchmark ---------------------------------------------------------


def named_as_digit(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Which answers name a digit: the top column is a digit (not column 10, "not a
    digit") and its probability reaches the game's threshold. With 10 columns (a model
    that cannot refuse) every top column is a digit."""
    probabilities = np.asarray(probabilities)
    top = np.argmax(probabilities, axis=1)
    confident = probabilities[np.arange(len(top)), top] >= threshold
    return (top < NOT_DIGIT_CLASS) & confident


def nondigit_rates(probabilities: np.ndarray, kinds: Sequence[str], threshold: float) -> dict:
    """Share of non-digits named as a digit, overall and per kind, and the count."""
    named = named_as_digit(probabilities, threshold)
    kinds = np.asarray(kinds)
    return {
        "named_as_digit_rate": float(named.mean()) if len(named) else 0.0,
        "per_kind": {k: float(named[kinds == k].mean()) for k in dict.fromkeys(kinds.tolist())},
        "count": int(len(named)),
        "threshold": threshold,
    }


def nondigit_benchmark(
    predict: Predict,
    *,
    n: int = NONDIGIT_BENCH_N,
    seed: int = NONDIGIT_BENCH_SEED,
    threshold: float = 0.6,
) -> dict:
    """How often a model names a digit, at the game's threshold, for a drawing that is none.

    ``predict`` takes (N, 28, 28) float32 in [0, 1] and returns (N, 10) or (N, 11)
    probabilities (column 10: "not a digit").
    """
    pixels, kinds = negative_pixels(n, seed)
    return nondigit_rates(predict(from_uint8(pixels)), kinds, threshold)


# --- pictures ------------------------------------------------------------------------


def plot_samples(path: str | Path, *, per_kind: int = 12, seed: int = 0) -> None:
    """A grid, one row per kind, of non-digits as the model sees them (28x28)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(KINDS)
    fig, axes = plt.subplots(len(names), per_kind, figsize=(per_kind * 0.8 + 1.6, len(names) * 0.8))
    for row, name in enumerate(names):
        for col in range(per_kind):
            rng = _item_rng(seed, row * 1000 + col)
            pixels = drawing_pixels(KINDS[name](rng), pen_px=pen_of(seed, row * 1000 + col))
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if pixels is not None:
                ax.imshow(pixels, cmap="gray_r", vmin=0, vmax=255)
            if col == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.14, right=0.99, top=0.99, bottom=0.01)
    fig.savefig(path, dpi=70)
    plt.close(fig)


if __name__ == "__main__":
    plot_samples("docs/negatives.png")
