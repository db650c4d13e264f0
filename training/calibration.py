"""Honest confidence: how far the model's "80% sure" is from being right 80% of the time.

Pure NumPy/SciPy (matplotlib only for the diagram). Works for 10 digit columns or 11
(column 10 = "not a digit"): the top label is whichever column is largest.

* :func:`expected_calibration_error`: top-label ECE with equal-width confidence bins
  (Guo et al. 2017, "On Calibration of Modern Neural Networks");
* :func:`reliability_bins`: the per-bin numbers behind the reliability diagram;
* :func:`fit_temperature` and :func:`softmax`: temperature scaling, one scalar ``T`` that
  divides the logits, fitted on held-out data by minimising the negative log-likelihood.
  It never changes which class is on top, so accuracy stays the same;
* :func:`plot_reliability`: the diagram for a training report.

Bins are right-closed, ``(lo, hi]``, except the first which also holds confidence 0:
a confidence of exactly 0.6 falls in the bin (0.533, 0.6] of 15 bins.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import optimize, special

DEFAULT_BINS = 15
TEMPERATURE_BOUNDS = (0.05, 20.0)
"""Search range for the temperature: from sharpening 20x to flattening 20x."""


def _checked(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or probabilities.shape[0] != labels.shape[0]:
        raise ValueError(
            f"probabilities must be (N, K) with one row per label: got {probabilities.shape} "
            f"for {labels.shape[0]} labels."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= probabilities.shape[1]):
        raise ValueError(f"labels must lie in 0..{probabilities.shape[1] - 1}.")
    return probabilities, labels.astype(np.int64)


def _bin_index(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Bin of each confidence: (lo, hi] bins of width 1/bins, 0 goes to the first."""
    return np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)


def _none_where_empty(values: np.ndarray, filled: np.ndarray) -> list[float | None]:
    return [float(v) if f else None for v, f in zip(values, filled, strict=True)]


def reliability_bins(
    probabilities: np.ndarray, labels: np.ndarray, *, bins: int = DEFAULT_BINS
) -> dict:
    """Per equal-width bin of top-label confidence: mean confidence, accuracy and count.

    Returns ``{"edges": (bins + 1,), "confidence": (bins,), "accuracy": (bins,),
    "count": (bins,)}`` as lists; an empty bin has confidence and accuracy ``None``.
    """
    probabilities, labels = _checked(probabilities, labels)
    confidence = probabilities.max(axis=1) if len(labels) else np.zeros(0)
    correct = (probabilities.argmax(axis=1) == labels) if len(labels) else np.zeros(0, bool)
    index = _bin_index(confidence, bins)
    count = np.bincount(index, minlength=bins)
    confidence_sum = np.bincount(index, weights=confidence, minlength=bins)
    correct_sum = np.bincount(index, weights=correct.astype(np.float64), minlength=bins)
    filled = count > 0
    mean_confidence = np.divide(confidence_sum, count, out=np.zeros(bins), where=filled)
    accuracy = np.divide(correct_sum, count, out=np.zeros(bins), where=filled)
    return {
        "edges": np.linspace(0.0, 1.0, bins + 1).tolist(),
        "confidence": _none_where_empty(mean_confidence, filled),
        "accuracy": _none_where_empty(accuracy, filled),
        "count": count.tolist(),
    }


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, *, bins: int = DEFAULT_BINS
) -> float:
    """Top-label ECE: sum over bins of (share of items) x |accuracy - mean confidence|.

    0 is perfectly calibrated; 0.015 is the issue's target (1.5%).
    """
    table = reliability_bins(probabilities, labels, bins=bins)
    total = sum(table["count"])
    if total == 0:
        return 0.0
    gap = 0.0
    for confidence, accuracy, count in zip(
        table["confidence"], table["accuracy"], table["count"], strict=True
    ):
        if count:
            gap += count / total * abs(accuracy - confidence)
    return float(gap)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (float64, rows sum to 1)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}.")
    return special.softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=-1)


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean NLL (nats) of the labels under ``softmax(logits / temperature)``."""
    log_p = special.log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)
    return float(-np.mean(log_p[np.arange(len(labels)), np.asarray(labels, dtype=np.int64)]))


def fit_temperature(
    logits: np.ndarray, labels: np.ndarray, *, bounds: tuple[float, float] = TEMPERATURE_BOUNDS
) -> float:
    """The temperature that minimises the NLL of held-out ``labels`` (Guo et al. 2017).

    Fit it on data the model did not train on: on training data a network is
    overconfident in a way that does not carry over. ``T > 1`` softens the probabilities.
    """
    logits, labels = _checked(logits, labels)
    if len(labels) == 0:
        raise ValueError("fit_temperature needs at least one labelled example.")
    result = optimize.minimize_scalar(
        lambda t: negative_log_likelihood(logits, labels, t),
        bounds=bounds,
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(result.x)


def plot_reliability(
    probabilities: np.ndarray,
    labels: np.ndarray,
    path: str | Path,
    *,
    title: str,
    bins: int = DEFAULT_BINS,
) -> None:
    """Reliability diagram: accuracy per confidence bin against the diagonal, and below it
    how many items each bin holds (log scale: most items of a good model sit near 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = reliability_bins(probabilities, labels, bins=bins)
    ece = expected_calibration_error(probabilities, labels, bins=bins)
    edges = np.asarray(table["edges"])
    width = edges[1] - edges[0]
    lefts = edges[:-1]
    accuracy = np.array([a if a is not None else 0.0 for a in table["accuracy"]])
    confidence = np.array([c if c is not None else 0.0 for c in table["confidence"]])
    count = np.asarray(table["count"])
    filled = count > 0

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.bar(lefts[filled], accuracy[filled], width=width, align="edge",
            color="tab:blue", edgecolor="black", label="accuracy")  # fmt: skip
    gap_low = np.minimum(accuracy, confidence)[filled]
    gap_height = np.abs(accuracy - confidence)[filled]
    top.bar(lefts[filled], gap_height, bottom=gap_low, width=width, align="edge",
            color="tab:red", alpha=0.35, edgecolor="tab:red", hatch="//",
            label="gap to confidence")  # fmt: skip
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.set_title(f"{title}\nECE {ece:.2%} ({bins} bins, {int(count.sum()):,} items)")
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(lefts[filled], count[filled], width=width, align="edge",
               color="grey", edgecolor="black")  # fmt: skip
    if count.max(initial=0) > 0:
        bottom.set_yscale("log")
    bottom.set_ylabel("items")
    bottom.set_xlabel("confidence (top probability)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
