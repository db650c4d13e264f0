"""How large a drawing may be: the one place these numbers live.

No imports, so Django's settings, the request-size guard, the views and the pure
preprocessing all read the same numbers without pulling in each other.
"""

MAX_BYTES = 2 * 1024 * 1024
"""Largest PNG we read, in bytes (413 above it)."""

MAX_SIDE = 4096
"""Largest width or height we decode, in pixels (413 above it)."""

MAX_PIXELS = 2048 * 2048
"""Largest picture we decode, in pixels (413 above it): 4.2 megapixels.

The game's canvas is 225 CSS px; a phone with devicePixelRatio 4 draws it on 900x900
(0.8 megapixels), and the canvas sends 225x225. This is five times that phone's canvas
and holds a full page scanned at 200 dpi, while one decode stays within tens of
megabytes (tests/inference/test_preprocess.py measures it). A 16-bit 4096x4096 PNG of
31 KB took 370 MB and 2.3 s before this budget."""

WORK_SIDE = 1024
"""Longer side, in pixels, to which a larger picture is reduced (box average) before its
ink is measured. The digit ends up 20 px tall, so nothing is lost; the reduction factor
is at most 4 (MAX_SIDE / WORK_SIDE), so a 1-px line keeps a quarter of its ink, above
the preprocessing's ink level."""
