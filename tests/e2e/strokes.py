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
