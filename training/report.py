"""Plots and ``metrics.json`` for one training run (matplotlib, Agg backend: no display).

Files written into the run's folder:

* ``training_curves.png``: accuracy and loss per epoch, training and validation;
* ``confusion_matrix.png``: MNIST test confusion matrix (true rows, guessed columns);
* ``samples.png``: ten training digits of each class, as the model sees them;
* ``class_balance.png``: training digits per class;
* ``worst_errors.png``: the test digits the model got most confidently wrong;
* ``canvas_errors.png``: the canvas benchmark's errors, each MNIST digit beside the same
  digit as drawn on the game canvas and preprocessed (what the model saw);
* ``reliability.png``: the canvas benchmark's reliability diagram (is "80% sure" right 80%
  of the time?) after calibration, and ``reliability_uncalibrated.png`` before it;
* ``metrics.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from inference.contract import NOT_DIGIT_CLASS  # noqa: E402

PLOTS = (
    "training_curves.png",
    "confusion_matrix.png",
    "samples.png",
    "class_balance.png",
    "worst_errors.png",
    "canvas_errors.png",
    "reliability.png",
)
WORST_ERRORS = 24


def plot_training_curves(history: dict, path: Path) -> None:
    fig, (acc_ax, loss_ax) = plt.subplots(2, 1, figsize=(6, 6), sharex=True)
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    for key, label in (("accuracy", "train"), ("val_accuracy", "validation")):
        if key in history:
            acc_ax.plot(epochs, history[key], marker="o", label=label)
    for key, label in (("loss", "train"), ("val_loss", "validation")):
        if key in history:
            loss_ax.plot(epochs, history[key], marker="o", label=label)
    acc_ax.set_ylabel("accuracy")
    acc_ax.legend(loc="lower right")
    loss_ax.set_ylabel("loss")
    loss_ax.set_xlabel("epoch")
    loss_ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion_matrix(
    confusion: list[list[int]], path: Path, *, title: str = "MNIST test confusion matrix"
) -> None:
    matrix = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(7, 6))
    shown = np.where(np.eye(*matrix.shape, dtype=bool), 0, matrix)  # colour the errors only
    image = ax.imshow(shown, cmap="Reds")
    fig.colorbar(image, ax=ax, label="wrong guesses")
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, str(count), ha="center", va="center", fontsize=7)
    ax.set_xticks(range(matrix.shape[1]), [class_name(c) for c in range(matrix.shape[1])])
    ax.set_yticks(range(len(matrix)))
    ax.set_xlabel("guessed digit (✗: not a digit)")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def class_name(label: int) -> str:
    """A digit, or ✗ for the "not a digit" class."""
    return "✗" if label == NOT_DIGIT_CLASS else str(label)


def plot_model_comparison(
    path: Path,
    sets: list[tuple[str, int, float, float | None]],
    *,
    active_name: str | None,
    verdict: str,
) -> None:
    """A new model against the active one: a pair of bars per set, ``(name, size,
    new, active)``, each named with its size (retraining's ``retrain_comparison.png``)."""
    names = [f"{name}\n({size:,})" for name, size, _, _ in sets]
    x = np.arange(len(sets))
    fig, ax = plt.subplots(figsize=(8, 4))
    rows = [("new", [new for _, _, new, _ in sets])]
    if active_name:
        rows.append((f"active ({active_name})", [active or 0.0 for _, _, _, active in sets]))
    width = 0.8 / len(rows)
    for i, (label, values) in enumerate(rows):
        bars = ax.bar(x + i * width, values, width, label=label)
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_xticks(x + width * (len(rows) - 1) / 2, names, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy (non-digits: share called not a digit)")
    ax.set_title(f"New model against the active one: {verdict}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_samples(images: np.ndarray, labels: np.ndarray, path: Path, per_class: int = 10) -> None:
    classes = int(labels.max()) + 1 if len(labels) else 10
    fig, axes = plt.subplots(classes, per_class, figsize=(per_class, classes), squeeze=False)
    for digit in range(classes):
        chosen = np.flatnonzero(labels == digit)[:per_class]
        for col in range(per_class):
            ax = axes[digit, col]
            ax.axis("off")
            if col < len(chosen):
                ax.imshow(images[chosen[col]], cmap="gray_r", vmin=0, vmax=1)
    fig.subplots_adjust(wspace=0, hspace=0)
    fig.savefig(path, dpi=60)
    plt.close(fig)


def plot_class_balance(labels: np.ndarray, path: Path) -> None:
    counts = np.bincount(labels, minlength=10)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(range(len(counts)), counts)
    ax.set_xticks(range(len(counts)), [class_name(c) for c in range(len(counts))])
    ax.set_xlabel("class (✗: not a digit)")
    ax.set_ylabel("training drawings")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_worst_errors(
    images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, path: Path
) -> None:
    guesses = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(guesses != labels)
    wrong = wrong[np.argsort(-probabilities[wrong, guesses[wrong]])][:WORST_ERRORS]
    cols = 8
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, index in zip(axes.ravel(), wrong, strict=False):
        ax.imshow(images[index], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(
            f"{labels[index]}→{class_name(guesses[index])}"
            f" {probabilities[index, guesses[index]]:.2f}",
            fontsize=8,
        )
    fig.suptitle("Worst errors: true→guessed, confidence")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_canvas_errors(
    images: np.ndarray,
    labels: np.ndarray,
    drawn: np.ndarray,
    probabilities: np.ndarray,
    path: Path,
) -> None:
    """The canvas benchmark's most confident errors: each MNIST test digit beside the
    same digit redrawn with the game's pen and preprocessed, so one can see whether the
    model or the redrawing is at fault (a thick digit's filled loop redrawn as a stroke)."""
    labels = labels[: len(drawn)]
    guesses = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(guesses != labels)
    wrong = wrong[np.argsort(-probabilities[wrong, guesses[wrong]])][:WORST_ERRORS]
    pairs = 6
    rows = max(1, int(np.ceil(len(wrong) / pairs)))
    fig, axes = plt.subplots(rows, pairs * 2, figsize=(pairs * 2.4, rows * 1.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k, index in enumerate(wrong):
        row, col = divmod(k, pairs)
        original, seen = axes[row, 2 * col], axes[row, 2 * col + 1]
        original.imshow(images[index], cmap="gray_r", vmin=0, vmax=1)
        original.set_title(f"MNIST {labels[index]}", fontsize=8)
        seen.imshow(drawn[index], cmap="gray_r", vmin=0, vmax=1)
        seen.set_title(
            f"drawn→{class_name(guesses[index])} {probabilities[index, guesses[index]]:.2f}",
            fontsize=8,
        )
    fig.suptitle(
        f"Canvas benchmark errors ({len(np.flatnonzero(guesses != labels))} of {len(labels)}),"
        " most confident first: MNIST digit | as drawn on the canvas → guess, confidence"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_report(
    out_dir: Path,
    *,
    metrics: dict,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    test_probabilities: np.ndarray,
    canvas_pixels: np.ndarray,
    canvas_probabilities: np.ndarray,
    canvas_probabilities_uncalibrated: np.ndarray | None = None,
) -> None:
    """Write the plots and metrics.json into ``out_dir``."""
    from training.calibration import plot_reliability

    out_dir = Path(out_dir)
    plot_training_curves(metrics.get("history", {}), out_dir / "training_curves.png")
    plot_confusion_matrix(metrics["confusion_matrix"], out_dir / "confusion_matrix.png")
    plot_samples(train_images, train_labels, out_dir / "samples.png")
    plot_class_balance(train_labels, out_dir / "class_balance.png")
    plot_worst_errors(test_images, test_labels, test_probabilities, out_dir / "worst_errors.png")
    plot_canvas_errors(
        test_images, test_labels, canvas_pixels, canvas_probabilities, out_dir / "canvas_errors.png"
    )
    canvas_labels = test_labels[: len(canvas_pixels)]
    plot_reliability(
        canvas_probabilities, canvas_labels, out_dir / "reliability.png",
        title="Canvas benchmark, as served (calibrated)",
    )  # fmt: skip
    if canvas_probabilities_uncalibrated is not None:
        plot_reliability(
            canvas_probabilities_uncalibrated, canvas_labels,
            out_dir / "reliability_uncalibrated.png", title="Canvas benchmark, before calibration",
        )  # fmt: skip
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


def write_model_card(out_dir: Path, metrics: dict) -> Path:
    """MODEL_CARD.md beside metrics.json: data, recipe, metrics, use, limits."""
    from training.model_card import write_model_card as write

    return write(out_dir, metrics)
