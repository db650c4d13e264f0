"""Data augmentation: new training digits that look like what players draw.

Three distortions, all label-preserving:

* a random affine map (rotation, shear, scale, shift), as people slant and size digits;
* an elastic distortion (Simard et al. 2003): a smoothed random displacement field, as
  hands wobble;
* pen-style redrawing: players draw with a round pen of one fixed width on a large canvas
  that is then shrunk, so their strokes are uniform, unlike MNIST's scanned strokes. We
  thin the digit to its skeleton and redraw it with a round pen of a random width.

Every augmented digit is then normalised again by ``inference.preprocess.preprocess_array``,
the very function that prepares players' drawings, so training sees their layout.
The affine and elastic steps run on whole batches at once with scipy's map_coordinates;
pen-style redrawing is one vectorised scikit-image/scipy call per digit.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from inference.preprocess import preprocess_array

# Affine ranges (uniform, symmetric).
MAX_ROTATION_DEG = 12.0
MAX_SHEAR = 0.25
SCALE_RANGE = (0.85, 1.15)
MAX_SHIFT_PX = 2.0

# Elastic distortion: a random displacement field smoothed with a Gaussian of
# ELASTIC_SIGMA px, scaled so its largest displacement is up to ELASTIC_MAX_PX px.
ELASTIC_SIGMA = 4.0
ELASTIC_MAX_PX = 2.0

# Pen-style redrawing happens on a grid PEN_UPSCALE times finer than 28 px, where a digit
# is about 80 px tall. The game's 14-px pen draws digits whose skeleton is 53-190 px long, so
# the pen's radius is 3.7%-13% of the skeleton: 2.5-10.5 px on that grid. Drawings sent to the
# API come from other canvases and pens, so radii go up to 18 px (a 25-px pen on a small digit),
# drawn log-uniformly so the game's range stays the most common (73% of redrawn digits).
# Measured: thick pens (25 px on 225) 94% -> 98% with no loss at the game's 14 px.
PEN_UPSCALE = 4
PEN_RADIUS_RANGE = (2.5, 18.0)

CHUNK = 8192
"""Digits distorted per map_coordinates call (bounds memory: ~3 x 8192 x 784 float64)."""


def random_affine_elastic(
    images: np.ndarray, rng: np.random.Generator, *, elastic: bool = True
) -> np.ndarray:
    """Apply a random affine map and (optionally) elastic distortion to each digit.

    images: (N, H, W) float in [0, 1]. Returns the same shape, float32, in [0, 1].
    """
    images = np.asarray(images, dtype=np.float32)
    out = np.empty_like(images)
    for start in range(0, len(images), CHUNK):
        batch = images[start : start + CHUNK]
        out[start : start + CHUNK] = _distort(batch, rng, elastic=elastic)
    return out


def _distort(images: np.ndarray, rng: np.random.Generator, *, elastic: bool) -> np.ndarray:
    n, height, width = images.shape
    if n == 0:
        return images.copy()
    angle = np.deg2rad(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG, n))
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR, n)
    scale_y = rng.uniform(*SCALE_RANGE, n)
    scale_x = scale_y * rng.uniform(0.9, 1.1, n)
    shift = rng.uniform(-MAX_SHIFT_PX, MAX_SHIFT_PX, (2, n))

    # Output pixel p reads input pixel M @ (p - c) + c - shift, M = inverse of the
    # forward map (rotation @ shear @ scale); computed per digit in closed form.
    cos, sin = np.cos(angle), np.sin(angle)
    forward = np.empty((n, 2, 2))
    forward[:, 0, 0] = cos * scale_y
    forward[:, 0, 1] = (-sin + cos * shear) * scale_x
    forward[:, 1, 0] = sin * scale_y
    forward[:, 1, 1] = (cos + sin * shear) * scale_x
    inverse = np.linalg.inv(forward)

    centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    grid_y, grid_x = np.mgrid[0:height, 0:width]
    dy = (grid_y - centre_y)[None]
    dx = (grid_x - centre_x)[None]
    src_y = inverse[:, 0, 0, None, None] * dy + inverse[:, 0, 1, None, None] * dx + centre_y
    src_x = inverse[:, 1, 0, None, None] * dy + inverse[:, 1, 1, None, None] * dx + centre_x
    src_y -= shift[0][:, None, None]
    src_x -= shift[1][:, None, None]

    if elastic:
        fields = rng.uniform(-1, 1, (2, n, height, width))
        fields = ndimage.gaussian_filter(fields, sigma=(0, 0, ELASTIC_SIGMA, ELASTIC_SIGMA))
        peak = np.abs(fields).max(axis=(2, 3), keepdims=True) + 1e-8
        strength = rng.uniform(0.0, ELASTIC_MAX_PX, (1, n, 1, 1))
        fields = fields / peak * strength
        src_y = src_y + fields[0]
        src_x = src_x + fields[1]

    index = np.broadcast_to(np.arange(n)[:, None, None], src_y.shape)
    warped = ndimage.map_coordinates(
        images, [index, src_y, src_x], order=1, mode="constant", cval=0.0
    )
    return np.clip(warped, 0.0, 1.0).astype(np.float32)


def pen_redraw(image: np.ndarray, pen_radius: float) -> np.ndarray:
    """Redraw one digit with a round pen: skeleton, then a disc of ``pen_radius`` around it.

    ``pen_radius`` is in pixels of the grid PEN_UPSCALE times finer than ``image``.
    Returns the redrawn ink (anti-aliased edge) on that finer grid, float32 in [0, 1].
    """
    fine = ndimage.zoom(np.asarray(image, dtype=np.float32), PEN_UPSCALE, order=1)
    skeleton = skeletonize(fine > 0.5)
    if not skeleton.any():
        return fine
    distance = ndimage.distance_transform_edt(~skeleton)
    return np.clip(pen_radius + 0.5 - distance, 0.0, 1.0).astype(np.float32)


def pen_style(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Redraw each digit with a round pen of random width, normalised like the game's."""
    low, high = np.log(PEN_RADIUS_RANGE)
    radii = np.exp(rng.uniform(low, high, len(images)))
    out = np.empty((len(images), 28, 28), dtype=np.float32)
    for i, (image, radius) in enumerate(zip(images, radii, strict=True)):
        out[i] = preprocess_array(pen_redraw(image, radius)).pixels
    return out


def renormalise(images: np.ndarray) -> np.ndarray:
    """Run each digit through the game's preprocessing (crop, 20 px box, centre of mass)."""
    out = np.empty((len(images), 28, 28), dtype=np.float32)
    for i, image in enumerate(images):
        out[i] = preprocess_array(image).pixels
    return out


def augmented_copy(
    images: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    pen_fraction: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """One distorted copy of every digit, labels unchanged.

    All digits get an affine map and elastic distortion; ``pen_fraction`` of them, chosen
    at random, are also redrawn with a round pen. Everything is normalised again as the
    game does. Returns (images (N, 28, 28) float32 in [0, 1], labels).
    """
    images = np.asarray(images, dtype=np.float32)
    distorted = random_affine_elastic(images, rng)
    pen = rng.random(len(images)) < pen_fraction
    out = np.empty_like(distorted)
    out[pen] = pen_style(distorted[pen], rng)
    out[~pen] = renormalise(distorted[~pen])
    return out, np.asarray(labels).copy()
