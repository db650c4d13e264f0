"""A hand-drawn-looking polyline for each digit, in canvas CSS pixels (225 x 225).

Shared by the browser tests (the mouse follows them) and the service tests (rendered
with inference.canvas.render_strokes), so both send the model the same digits.
"""

from __future__ import annotations

import math

DIGIT_POLYLINES: dict[int, list[list[tuple[float, float]]]] = {
    0: [
        [
            (112 + 42 * math.sin(2 * math.pi * k / 24), 112 - 68 * math.cos(2 * math.pi * k / 24))
            for k in range(25)
        ]
    ],
    1: [[(118, 40), (112, 110), (106, 186)]],
    2: [[(68, 78), (82, 50), (112, 40), (145, 50), (152, 82), (135, 115), (70, 182), (162, 182)]],
    3: [
        [
            (70, 52),
            (110, 38),
            (148, 55),
            (146, 90),
            (108, 108),
            (150, 128),
            (152, 166),
            (112, 188),
            (66, 172),
        ]
    ],  # fmt: skip
    4: [[(100, 40), (66, 132), (166, 132)], [(140, 70), (138, 190)]],
    5: [
        [(152, 44), (82, 44), (74, 104), (112, 94), (150, 114), (154, 156), (120, 186), (70, 176)]
    ],  # fmt: skip
    6: [
        [
            (148, 40),
            (104, 68),
            (78, 116),
            (76, 160),
            (104, 186),
            (140, 172),
            (150, 138),
            (122, 114),
            (86, 124),
            (76, 150),
        ]
    ],  # fmt: skip
    7: [[(62, 46), (162, 46), (102, 188)]],
    8: [
        [
            (142, 58),
            (112, 40),
            (80, 58),
            (86, 88),
            (112, 106),
            (146, 132),
            (146, 170),
            (112, 188),
            (78, 170),
            (78, 132),
            (112, 106),
            (140, 84),
            (142, 58),
        ]
    ],  # fmt: skip
    9: [
        [
            (150, 74),
            (122, 46),
            (86, 54),
            (80, 90),
            (110, 106),
            (150, 88),
            (150, 74),
            (146, 132),
            (138, 190),
        ]
    ],  # fmt: skip
}


def densify(line: list[tuple[float, float]], step: float = 6.0) -> list[tuple[float, float]]:
    """Points every ``step`` pixels along the polyline, as a mouse would report them."""
    points = [line[0]]
    for (x0, y0), (x1, y1) in zip(line, line[1:], strict=False):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        points += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1)]
    return points


def digit_strokes(digit: int) -> list[list[list[float]]]:
    """The digit as Quick, Draw! strokes [[x...], [y...], [t ms...]]."""
    strokes, t = [], 0.0
    for line in DIGIT_POLYLINES[digit]:
        points = densify(line)
        ts = [t + 8 * i for i in range(len(points))]
        t = ts[-1] + 150
        strokes.append([[p[0] for p in points], [p[1] for p in points], ts])
    return strokes


# ---------------------------------------------------------------------------
# Drawings that are not digits: what a model with a "not a digit" answer must refuse
# ---------------------------------------------------------------------------


def scribble_lines(seed: int = 1, steps: int = 60) -> list[list[tuple[float, float]]]:
    """A dense random walk across most of the canvas, as one stroke (seeded).

    Each step moves up to 70 px each way and bounces off a 25 px margin, so the ink
    covers the canvas the way a player scribbling something out does.
    """
    import random

    rng = random.Random(seed)
    low, high, reach = 25.0, 200.0, 70.0

    def bounce(value: float) -> float:
        if value < low:
            return 2 * low - value
        return 2 * high - value if value > high else value

    x = y = 112.0
    line = [(x, y)]
    for _ in range(steps):
        x = bounce(x + rng.uniform(-reach, reach))
        y = bounce(y + rng.uniform(-reach, reach))
        line.append((round(x, 1), round(y, 1)))
    return [line]


CROSS_HATCH: list[list[tuple[float, float]]] = [
    *[[(25.0, float(y)), (200.0, float(y))] for y in range(25, 201, 25)],
    *[[(float(x), 25.0), (float(x), 200.0)] for x in range(25, 201, 25)],
]
"""A grid of eight lines each way, 25 px apart, over most of the canvas."""

NOT_DIGITS = {"scribble": scribble_lines(), "cross-hatch": CROSS_HATCH}


def line_strokes(lines: list[list[tuple[float, float]]]) -> list[list[list[float]]]:
    """Polylines as Quick, Draw! strokes [[x...], [y...], [t ms...]], a mouse's pace."""
    strokes, t = [], 0.0
    for line in lines:
        points = densify(line)
        ts = [t + 8 * i for i in range(len(points))]
        t = ts[-1] + 150
        strokes.append([[p[0] for p in points], [p[1] for p in points], ts])
    return strokes
