"""The game's drawing canvas: its constants and a renderer that draws like the browser.

Pure Pillow, no Django, no TensorFlow. The front end, the API, the admin export and
training's canvas benchmark all read the constants from here.

A drawing is a list of strokes in the Quick, Draw! layout: each stroke is
``[[x...], [y...], [t...]]`` with x and y in canvas CSS pixels (0..size) and t in
milliseconds since the drawing started. The browser draws each stroke with a round pen
(``lineCap = lineJoin = "round"``) in black ink on a transparent background and sends the
canvas as an RGBA PNG; :func:`render_strokes` produces the same picture.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

CANVAS_PX = 225
"""Side of the square drawing canvas, in CSS pixels (the original demo's 225)."""

PEN_PX = 14
"""Width of the pen, in CSS pixels (the original demo's stroke_width=14)."""

SUPERSAMPLE = 4
"""Draw at this many times the size, then downsample: anti-aliased edges like a browser."""

Stroke = Sequence[Sequence[float]]


def render_ink(
    strokes: Sequence[Stroke], *, size: int = CANVAS_PX, pen_px: float = PEN_PX
) -> Image.Image:
    """Render strokes as an ``L`` image of ink coverage (0 = none, 255 = full ink).

    Each point gets a disc of diameter ``pen_px`` (round caps and joins, and a lone
    point becomes a dot) and consecutive points are joined by a line of that width.
    """
    scale = SUPERSAMPLE
    big = Image.new("L", (size * scale, size * scale), 0)
    draw = ImageDraw.Draw(big)
    radius = pen_px * scale / 2
    width = max(1, round(pen_px * scale))
    for stroke in strokes:
        xs, ys = stroke[0], stroke[1]
        points = [(float(x) * scale, float(y) * scale) for x, y in zip(xs, ys, strict=False)]
        if not points:
            continue
        if len(points) > 1:
            draw.line(points, fill=255, width=width)
        for x, y in points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return _downsample(big, scale)


def _downsample(big: Image.Image, scale: int) -> Image.Image:
    """``big`` averaged over ``scale`` x ``scale`` blocks, only where there is ink.

    A box filter with a whole-number factor averages each block on its own, so the
    blocks around the ink, cut on block boundaries, shrink to the pixels the whole
    picture would give (the same on 1,193 drawings of the players bench; within one grey
    level for any ink); the rest is paper. A digit covers part of the canvas: this saves
    about 40% of the renderer's time (README, "Players at once").
    """
    size = big.width // scale
    small = Image.new("L", (size, size), 0)
    ink = big.getbbox()
    if ink is None:
        return small
    left, top, right, bottom = ink
    left, top = left // scale * scale, top // scale * scale
    right, bottom = -(-right // scale) * scale, -(-bottom // scale) * scale
    block = big.crop((left, top, right, bottom))
    shrunk = block.resize(((right - left) // scale, (bottom - top) // scale), Image.Resampling.BOX)
    small.paste(shrunk, (left // scale, top // scale))
    return small


def coverage(ink: Image.Image) -> np.ndarray:
    """A :func:`render_ink` picture as float32 ink coverage in [0, 1]: what
    ``preprocess.ink_from_png`` reads from :func:`render_strokes`' PNG, without the PNG."""
    return np.asarray(ink, dtype=np.float32) * np.float32(1 / 255)


PNG_COMPRESS_LEVEL = 1
"""zlib's fastest level for the stored drawings: a recognised round writes its PNG while
the player waits, and level 1 encodes a digit in about 60% of the time of Pillow's
default (6), for a PNG of about 3.7 KB instead of 2.4 KB (README, "Players at once")."""


def png_of_ink(ink: Image.Image) -> bytes:
    """The RGBA PNG the browser canvas sends of a :func:`render_ink` picture: black ink,
    transparent paper."""
    black = Image.new("L", ink.size, 0)
    image = Image.merge("RGBA", (black, black, black, ink))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def render_strokes(
    strokes: Sequence[Stroke], *, size: int = CANVAS_PX, pen_px: float = PEN_PX
) -> bytes:
    """Render strokes to the RGBA PNG the browser canvas sends: black ink, transparent paper."""
    return png_of_ink(render_ink(strokes, size=size, pen_px=pen_px))
