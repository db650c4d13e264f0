"""Geometry for the dashboard's inline SVG charts: pure functions, no Django.

The page draws them with ``<rect>`` and ``<polyline>`` elements whose sizes come from
here (CSP allows no inline style, and SVG attributes are not styles).
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 600
HEIGHT = 220
MARGIN = 30
"""Room for the axis labels, in SVG user units."""


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0-1
    note: str
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 2)

    @property
    def value_y(self) -> float:
        """Where the value is written: just above the bar."""
        return round(self.y - 4, 2)


def bars(items: list[tuple[str, float, str]], *, width=WIDTH, height=HEIGHT) -> list[Bar]:
    """One bar per ``(label, value 0-1, note)``, scaled to the chart's plotting area."""
    if not items:
        return []
    plot_h = height - 2 * MARGIN
    slot = (width - 2 * MARGIN) / len(items)
    gap = slot * 0.15
    out = []
    for i, (label, value, note) in enumerate(items):
        value = min(max(float(value), 0.0), 1.0)
        h = value * plot_h
        out.append(
            Bar(
                label=label,
                value=value,
                note=note,
                x=round(MARGIN + i * slot + gap, 2),
                y=round(MARGIN + plot_h - h, 2),
                width=round(slot - 2 * gap, 2),
                height=round(h, 2),
            )
        )
    return out


@dataclass(frozen=True)
class Point:
    label: str
    value: float
    note: str
    x: float
    y: float


def line(items: list[tuple[str, float, str]], *, width=WIDTH, height=HEIGHT) -> list[Point]:
    """Points of a line chart over ``(label, value 0-1, note)`` in order."""
    plot_w, plot_h = width - 2 * MARGIN, height - 2 * MARGIN
    step = plot_w / max(len(items) - 1, 1)
    start = MARGIN if len(items) > 1 else width / 2  # a single day sits in the middle
    return [
        Point(
            label=label,
            value=value,
            note=note,
            x=round(start + i * step, 2),
            y=round(MARGIN + plot_h - min(max(value, 0.0), 1.0) * plot_h, 2),
        )
        for i, (label, value, note) in enumerate(items)
    ]


def gridlines(*, height=HEIGHT, values=(0.0, 0.5, 1.0)) -> list[tuple[str, float]]:
    """Horizontal guides ``(label, y)`` for accuracy axes from 0 to 1."""
    plot_h = height - 2 * MARGIN
    return [(f"{v:.0%}", round(MARGIN + plot_h - v * plot_h, 2)) for v in values]


def polyline(points: list[Point]) -> str:
    return " ".join(f"{p.x},{p.y}" for p in points)


def heat_levels(matrix: list[list[int]], *, levels: int = 5) -> list[list[dict]]:
    """Each cell's count and a shade 0..levels by its share of the row (true digit)."""
    out = []
    for r, row in enumerate(matrix):
        total = sum(row)
        out.append(
            [
                {
                    "count": count,
                    "level": 0 if not count else max(1, round(levels * count / total)),
                    "diagonal": r == c,
                }
                for c, count in enumerate(row)
            ]
        )
    return out
