"""A drawing in Google's Quick, Draw! dataset formats: the one codec of them.

Used by the staff export (``guessgame.review.export``: ``drawings.ndjson`` and
``drawings_simplified.ndjson``) and a player's own download (``/me/drawings.zip``), so
tools written for that dataset read ours.

* *raw*: ``[[x...], [y...], [t ms...]]`` per stroke, as drawn, with Quick, Draw!'s
  record fields (``key_id``, ``word``, ``recognized``, ``timestamp``, ...) and one of
  ours, ``not_digit``;
* *simplified*: moved to the top-left, scaled so the longer side spans 0-255, each
  stroke simplified with Ramer-Douglas-Peucker at epsilon 2.0, integer points, no times.
"""

from __future__ import annotations

import math
from datetime import UTC

from guessgame.game.models import Drawing

SIMPLIFIED_MAX = 255
"""Quick, Draw!'s simplified drawings span 0-255 on their longer side."""
RDP_EPSILON = 2.0
"""Ramer-Douglas-Peucker tolerance of Quick, Draw!'s simplified drawings, in their units."""


def _number(value) -> float | int:
    value = round(float(value), 1)
    return int(value) if value.is_integer() else value


def quickdraw_strokes(strokes) -> list[list[list]]:
    """Our strokes as Quick, Draw! raw ``[[x...], [y...], [t ms...]]``, malformed ones dropped."""
    out = []
    for stroke in strokes or []:
        if not isinstance(stroke, list | tuple) or len(stroke) < 2:
            continue
        try:
            xs = [_number(x) for x in stroke[0]]
            ys = [_number(y) for y in stroke[1]]
            ts = [int(round(float(t))) for t in stroke[2]] if len(stroke) > 2 else []
        except (TypeError, ValueError, OverflowError):
            continue
        if not xs or len(xs) != len(ys) or not all(map(math.isfinite, xs + ys)):
            continue
        if len(ts) != len(xs):
            ts = [0] * len(xs)
        out.append([xs, ys, ts])
    return out


def quickdraw_record(drawing: Drawing) -> dict:
    """One line of the Quick, Draw! raw ndjson for this drawing."""
    created = drawing.created_at.astimezone(UTC)
    return {
        "key_id": str(drawing.pk),
        "word": str(drawing.effective_label),
        "recognized": drawing.is_correct,
        "not_digit": drawing.not_digit,
        "timestamp": created.strftime("%Y-%m-%d %H:%M:%S.%f UTC"),
        "countrycode": "",
        "drawing": quickdraw_strokes(drawing.strokes),
    }


def simplify_polyline(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Ramer-Douglas-Peucker at RDP_EPSILON (shapely/GEOS's Douglas-Peucker)."""
    from shapely import LineString

    if len(points) < 3:
        return points
    simplified = LineString(points).simplify(RDP_EPSILON, preserve_topology=False)
    return list(simplified.coords) or points[:1]


def simplified_strokes(strokes) -> list[list[list[int]]]:
    """Quick, Draw!'s simplified ``[[x...], [y...]]`` per stroke: the drawing moved to the
    top-left (minimum 0), scaled uniformly so its longer side spans 0-255, each stroke
    simplified with Ramer-Douglas-Peucker at epsilon 2.0, points rounded to integers."""
    raw = quickdraw_strokes(strokes)
    if not raw:
        return []
    xs = [x for stroke in raw for x in stroke[0]]
    ys = [y for stroke in raw for y in stroke[1]]
    left, top = min(xs), min(ys)
    extent = max(max(xs) - left, max(ys) - top)
    scale = SIMPLIFIED_MAX / extent if extent > 0 else 1.0
    out = []
    for stroke_xs, stroke_ys, _ in raw:
        pairs = zip(stroke_xs, stroke_ys, strict=True)
        points = [((x - left) * scale, (y - top) * scale) for x, y in pairs]
        kept = simplify_polyline(points)
        out.append([[round(x) for x, _ in kept], [round(y) for _, y in kept]])
    return out


def quickdraw_simplified_record(drawing: Drawing) -> dict:
    """One line of the Quick, Draw! simplified ndjson for this drawing."""
    return {**quickdraw_record(drawing), "drawing": simplified_strokes(drawing.strokes)}
