"""Turn a player's drawing into the 28x28 picture the model reads, the way MNIST was made.

This is THE one preprocessing function of guessgame: the game, the API, the admin, the
players' export and training's canvas benchmark all call it, so the model always sees
what it was trained and measured on. Pure NumPy and Pillow: no Django, no TensorFlow.

MNIST normalisation (LeCun et al.): crop the digit to its ink bounding box, scale it so
the longer side is 20 px keeping the aspect ratio (anti-aliased), then place it in a
28x28 field so that its centre of mass sits at the centre, pixel (14, 14).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image, UnidentifiedImageError

from inference.canvas import PEN_PX, Stroke, coverage, render_ink
from inference.contract import FIELD_PX
from inference.limits import MAX_BYTES, MAX_PIXELS, MAX_SIDE, WORK_SIDE

BOX_PX = 20
"""The digit's longer side after scaling, in pixels (MNIST's 20x20 box)."""

INK_LEVEL = 0.1
"""Coverage (0-1) above which a pixel counts as ink for the bounding box and blank test."""

MIN_INK_PIXELS = 4
"""Fewer ink pixels than this is a blank drawing."""

MIN_EXTENT_FRACTION = 0.02
"""Ink whose width and height both stay under this share of the image's longer side is a
stray speck, so a blank drawing: 4 px on the 225-px canvas, where a tap of the 14-px pen
is a dot and not blank. Judged by extent, not by ink pixels, so a thin pen on a large
image (a 1-px line 300 px long on 2000x2000) is still a drawing."""

# Pillow refuses (DecompressionBombError) images over twice this many pixels at open();
# we check the header's size against MAX_SIDE and MAX_PIXELS ourselves before decoding.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class DrawingError(ValueError):
    """The one error for input we cannot read as a drawing.

    ``str(error)`` is a sentence for a person; ``status`` is the HTTP status to answer:
    400 (not an image, truncated, zero-sized, corrupt), 413 (too large) or 415 (an image
    that is not a PNG).
    """

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Preprocessed:
    """The model's input and whether there is anything to guess.

    ``pixels`` is (28, 28) float32 in [0, 1] with ink = 1; ``blank`` is True when the
    drawing has (almost) no ink, and such a drawing is never guessed.
    """

    pixels: np.ndarray
    blank: bool
    canvas: Image.Image | None = field(default=None, compare=False, repr=False)
    """Drawn from strokes: the canvas as the server drew it (``canvas.render_ink``), so
    storing the drawing does not draw it again."""


BLANK = np.zeros((FIELD_PX, FIELD_PX), dtype=np.float32)
BLANK.flags.writeable = False


def preprocess_png(data: bytes) -> Preprocessed:
    """Decode a PNG drawing and normalise it like MNIST; raise DrawingError on bad input."""
    return preprocess_array(ink_from_png(data))


def ink_from_png(data: bytes) -> np.ndarray:
    """Decode a PNG into ink coverage (H, W) float32 in [0, 1], ink = 1.

    With transparency the ink is the alpha channel (the browser canvas draws black on
    transparent). Without it, the ink is the darkness, or the lightness when the picture
    is light on dark, judged by the border, which is paper in any drawing. A picture
    larger than WORK_SIDE is reduced to it first, so one decode costs at most the
    decoded picture (MAX_PIXELS) and a few WORK_SIDE-square float arrays.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DrawingError("The drawing must be sent as the bytes of a PNG image.")
    if len(data) == 0:
        raise DrawingError("The drawing is empty: no image was sent.")
    if len(data) > MAX_BYTES:
        raise DrawingError(
            f"The drawing is too large: {len(data):,} bytes, the limit is {MAX_BYTES:,}.",
            status=413,
        )
    image = _open_png(bytes(data))
    try:
        image.load()
        return _ink_from_image(image)
    except DrawingError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, IndexError) as exc:
        raise DrawingError("The PNG image is truncated or damaged and cannot be read.") from exc


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_size(width: int, height: int) -> None:
    """Refuse a picture with no pixels, or too large to decode within our budget."""
    if width <= 0 or height <= 0:
        raise DrawingError("The image has no pixels (zero width or height).")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise DrawingError(
            f"The image is too large: {width}x{height} pixels, the limit is {MAX_SIDE}x{MAX_SIDE}.",
            status=413,
        )
    if width * height > MAX_PIXELS:
        raise DrawingError(
            f"The image is too large: {width}x{height} pixels is "
            f"{width * height / 1e6:.1f} megapixels, the limit is {MAX_PIXELS / 1e6:.1f} "
            f"(for example {round(MAX_PIXELS**0.5)}x{round(MAX_PIXELS**0.5)}). "
            "Scale it down: a drawing needs no more than 1000x1000.",
            status=413,
        )


def _check_png_header(data: bytes) -> None:
    """Read a PNG's width and height from its IHDR chunk and refuse bad sizes early.

    Pillow refuses zero-sized PNGs with a vague error; this says what is wrong.
    """
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 24:
        return
    _check_size(int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"))


def _open_png(data: bytes) -> Image.Image:
    """Open the image's header only, and check its format and size before decoding."""
    _check_png_header(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise DrawingError(
            f"The image is too large: the limit is {MAX_PIXELS / 1e6:.1f} megapixels.",
            status=413,
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise DrawingError("This is not an image we can read; please send a PNG.") from exc
    if image.format != "PNG":
        raise DrawingError(
            f"Only PNG drawings are accepted, this is {image.format or 'another format'}.",
            status=415,
        )
    _check_size(*image.size)
    return image


def _reduced(channel: Image.Image) -> Image.Image:
    """One channel (L, I or F) box-averaged so its longer side is at most WORK_SIDE."""
    factor = -(-max(channel.size) // WORK_SIDE)  # ceiling division
    return channel.reduce(factor) if factor > 1 else channel


def _ink_from_image(image: Image.Image) -> np.ndarray:
    if image.mode.startswith("I"):
        # 16-bit grey (Pillow's "I;16"/"I"): converting to "L" would clip every level
        # above 255 to white, so scale the levels ourselves ("I;16" cannot be reduced).
        levels = _reduced(image if image.mode == "I" else image.convert("I"))
        gray = np.asarray(levels, dtype=np.float32) * np.float32(1 / 65535)
        return _ink_from_gray(np.clip(gray, 0.0, 1.0))
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if has_alpha:
        if image.mode not in ("RGBA", "LA", "PA"):
            image = image.convert("RGBA")
        alpha = image.getchannel("A")
        if alpha.getextrema()[0] < 255:  # on the full picture: a reduction rounds
            return coverage(_reduced(alpha))
    gray = coverage(_reduced(image.convert("L")))
    return _ink_from_gray(gray)


def _ink_from_gray(gray: np.ndarray) -> np.ndarray:
    """Ink from a grey picture: the border's median tells paper from ink."""
    border = np.concatenate((gray[0], gray[-1], gray[:, 0], gray[:, -1]))
    paper = float(np.median(border))
    if paper > 0.5:  # dark ink on light paper
        ink = paper - gray
        span = paper
    else:  # light ink on dark paper
        ink = gray - paper
        span = 1.0 - paper
    if span <= 0:
        return np.zeros_like(gray)
    return np.clip(ink / np.float32(span), 0.0, 1.0, dtype=np.float32)


def preprocess_strokes(strokes: Sequence[Stroke], *, pen_px: float = PEN_PX) -> Preprocessed:
    """Strokes drawn by the server with the browser's renderer (``inference.canvas``),
    then normalised like any drawing: the game's path, live guesses and submissions.
    ``pen_px`` other than the game's is for training's drawings in other pens."""
    canvas = render_ink(strokes, pen_px=pen_px)
    return replace(preprocess_array(coverage(canvas)), canvas=canvas)


def preprocess_array(ink: np.ndarray) -> Preprocessed:
    """Normalise ink coverage (H, W) in [0, 1], ink = 1, into MNIST's 28x28 layout.

    Used by :func:`preprocess_png` and by training, so both see the same pictures.
    """
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2 or ink.size == 0:
        raise DrawingError("The drawing must be a non-empty two-dimensional picture.")
    mask = ink > INK_LEVEL  # NaN counts as no ink; the crop is cleaned below
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return Preprocessed(pixels=BLANK, blank=True)
    cols = np.flatnonzero(mask.any(axis=0))
    ink_pixels = int(np.count_nonzero(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    if ink_pixels < MIN_INK_PIXELS or extent < MIN_EXTENT_FRACTION * max(ink.shape):
        return Preprocessed(pixels=BLANK, blank=True)

    digit = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    digit = np.clip(np.nan_to_num(digit, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    box = scale_to_box(digit)
    return Preprocessed(pixels=center_of_mass_placement(box), blank=False)


def scale_to_box(digit: np.ndarray, box_px: int = BOX_PX) -> np.ndarray:
    """Scale so the longer side is ``box_px`` pixels, keeping the aspect ratio.

    Pillow's Lanczos resize on a float image is anti-aliased when shrinking and about ten
    times cheaper than scikit-image's anti-aliased resize. The result is stretched so its
    strongest pixel is full ink, as in MNIST, whatever the pen's width was.
    """
    height, width = digit.shape
    factor = box_px / max(height, width)
    new_width = max(1, min(box_px, round(width * factor)))
    new_height = max(1, min(box_px, round(height * factor)))
    image = Image.fromarray(np.ascontiguousarray(digit, dtype=np.float32), mode="F")
    box = np.asarray(image.resize((new_width, new_height), Image.Resampling.LANCZOS))
    box = np.clip(box, 0.0, None)
    peak = float(box.max())
    if peak > 0:
        box = box * np.float32(1.0 / peak)
    return box.astype(np.float32, copy=False)


def center_of_mass_placement(box: np.ndarray, field_px: int = FIELD_PX) -> np.ndarray:
    """Place ``box`` in a field_px square so its centre of mass lands on pixel (14, 14).

    The shift is a whole number of pixels, as in MNIST (whose centres of mass sit at
    14.0 +- 0.3); the box never leaves the field.
    """
    height, width = box.shape
    total = float(box.sum())
    centre = field_px / 2
    if total > 0:
        com_y = float(box.sum(axis=1) @ np.arange(height, dtype=np.float32)) / total
        com_x = float(box.sum(axis=0) @ np.arange(width, dtype=np.float32)) / total
    else:
        com_y, com_x = (height - 1) / 2, (width - 1) / 2
    top = int(np.clip(round(centre - com_y), 0, field_px - height))
    left = int(np.clip(round(centre - com_x), 0, field_px - width))
    field = np.zeros((field_px, field_px), dtype=np.float32)
    field[top : top + height, left : left + width] = box
    return field
