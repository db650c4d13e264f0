"""Train a digit model, export it for serving, evaluate it and write its report.

    python -m training.train --model default                 # the shipped model's recipe
    python -m training.train --model seed --out var/models/seed-full   # the demo's baseline
    python -m training.train --model default --epochs 1 --limit 500   # a quick smoke run

Each run writes into ``--out`` (default ``var/models/<model>-<timestamp>``):
``model.keras``, ``model.tflite``, ``metrics.json`` and the plots of ``training.report``.
Runs are seeded (``--seed``): the same command gives the same model.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from inference.contract import NOT_DIGIT_CLASS, from_uint8, to_uint8  # noqa: E402
from training import augment, data, report  # noqa: E402

# --- hyperparameters -----------------------------------------------------------------

BATCH_SIZE = 128
SEED_EPOCHS = 15  # the demo's settings: Adam, batch 128, 15 epochs, 10% validation split
SEED_VALIDATION_SPLIT = 0.1
DEFAULT_EPOCHS = 8  # over MNIST + one augmented copy (120,000 digits an epoch)
DEFAULT_PEAK_LR = 2e-3
DEFAULT_WARMUP_EPOCHS = 0.5
DEFAULT_FINAL_LR_FRACTION = 0.01
PEN_FRACTION = 0.7  # share of the augmented copy redrawn with a round pen
AUGMENT_CHUNK = 5000
# What the default model sees beside MNIST and its augmented copy, per MNIST digit used:
CANVAS_REDRAW_SHARE = 1.0  # MNIST training digits redrawn exactly as the canvas benchmark does
NEGATIVES_PER_DIGIT = 0.45  # drawings that are not digits (training.negatives)
STYLES_PER_DIGIT = 0.35  # digits in hands unlike MNIST (training.styles)
# Calibration: the last 1/12 of MNIST's training digits (5,000) are never trained on; they,
# their canvas redraws and fresh non-digits and styled digits fit the temperature.
CALIBRATION_SHARE = 1 / 12
# Seeds of the generated sets, offset from --seed; the benchmarks' own seeds differ from all.
NEGATIVES_SEED, STYLES_SEED, REDRAW_SEED, CALIBRATION_SEED = 1_000, 2_000, 3_000, 4_000
NOT_DIGIT_PRIOR = 0.05
"""The share of non-digits assumed in play (players mostly draw the digit asked for):
the served probabilities are corrected from the training mix's share to this one."""
DATA_WORKERS = 2  # processes drawing the generated sets (spawned: TensorFlow is loaded)
CACHE_DIR = Path(__file__).resolve().parent.parent / "var" / "cache"
"""Generated drawings are kept here, keyed by count, seed and generator source."""
MODELS = ("seed", "default")
"""The models ``--model`` names; :func:`build` makes each (``training.models``' builders)."""
# Fine-tuning (``run(init_from=...)``): the active model learns the players' drawings in
# minutes, with a replay of MNIST and the generated sets so it forgets nothing.
FINE_TUNE_EPOCHS = 2
FINE_TUNE_PEAK_LR = 5e-4  # a quarter of the default's: the weights are already good
REPLAY_DIGITS = 10_000  # MNIST training digits replayed, with the default recipe's extras
REPLAY_SEED = 5_000


# --- quiet start ---------------------------------------------------------------------


@contextlib.contextmanager
def quiet_native_logs():
    """Hide what TensorFlow's C++ writes to the process's stderr while it starts (oneDNN,
    CUDA probing: written before its logging can be configured, so TF_CPP_MIN_LOG_LEVEL
    cannot stop it); shown after all if the block fails."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                sink.seek(0)
                sys.stderr.write(sink.read().decode(errors="replace"))


def import_tensorflow():
    """``keras`` and ``tensorflow``, imported and their devices found without the noise."""
    with quiet_native_logs():
        import keras
        import tensorflow as tf

        tf.config.list_logical_devices()
    return keras, tf


# --- data ----------------------------------------------------------------------------


def training_set(
    model_name: str, train: data.Split, rng: np.random.Generator, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The drawings a model trains on, their labels and how many came from each source.

    ``seed``: MNIST as is. ``default``: MNIST, one augmented copy, canvas redraws of some
    digits, digits in other hands (label 0-9) and drawings that are not digits (label
    :data:`inference.contract.NOT_DIGIT_CLASS`).
    """
    if model_name == "seed":
        return train.images, train.labels, {"mnist": len(train)}
    from tqdm import tqdm

    from training import evaluate, negatives, styles

    parts = []
    for start in tqdm(range(0, len(train), AUGMENT_CHUNK), desc="augmenting", unit="chunk"):
        chunk = train.images[start : start + AUGMENT_CHUNK]
        labels = train.labels[start : start + AUGMENT_CHUNK]
        parts.append(augment.augmented_copy(chunk, labels, rng, pen_fraction=PEN_FRACTION))
    n_redraw = int(len(train) * CANVAS_REDRAW_SHARE)
    picked = rng.choice(len(train), n_redraw, replace=False) if n_redraw else np.zeros(0, int)
    redrawn = canvas_redraws(train.images[picked], seed=REDRAW_SEED + seed, workers=DATA_WORKERS)
    n_negative = int(len(train) * NEGATIVES_PER_DIGIT)
    negative, _ = negatives.negative_pixels(
        n_negative, seed=NEGATIVES_SEED + seed, workers=DATA_WORKERS, cache_dir=CACHE_DIR
    )
    n_style = int(len(train) * STYLES_PER_DIGIT)
    styled, style_labels, _ = styles.style_pixels(
        n_style, seed=STYLES_SEED + seed, cache_dir=CACHE_DIR
    )
    images = np.concatenate(
        [
            train.images,
            *[p[0] for p in parts],
            redrawn,
            evaluate.from_uint8(negative),
            evaluate.from_uint8(styled),
        ]
    )
    labels = np.concatenate(
        [
            train.labels,
            *[p[1] for p in parts],
            train.labels[picked],
            np.full(len(negative), NOT_DIGIT_CLASS),
            np.asarray(style_labels),
        ]
    ).astype(np.int64)
    sources = {
        "mnist": len(train),
        "augmented": len(train),
        "canvas_redraws": int(n_redraw),
        "styled_digits": len(styled),
        "not_digits": len(negative),
    }
    return images.astype(np.float32), labels, sources


def canvas_redraws(images: np.ndarray, *, seed: int, workers: int = 1) -> np.ndarray:
    """Digits redrawn on the game's canvas and preprocessed, as players' drawings arrive.

    The canvas benchmark's redrawing, minus its PNG round trip: the PNG's alpha channel
    is the rendered ink, losslessly, so preprocessing the ink directly gives the same
    28x28 in a third less time. Digit i is drawn with its own generator ``[seed, i]``,
    so the result is the same for any number of ``workers``; it is cached on disk.
    """
    import hashlib

    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    for module in ("evaluate.py", "../inference/canvas.py", "../inference/preprocess.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    cache = CACHE_DIR / f"redraws-{seed}-{len(images)}-{digest.hexdigest()[:16]}.npy"
    if cache.exists():
        return np.load(cache)
    if workers <= 1 or len(images) < 1000:
        out = _redraw_items(images, seed, 0)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from tqdm import tqdm

        starts = list(range(0, len(images), 2000))
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = pool.map(
                _redraw_items,
                [images[s : s + 2000] for s in starts],
                [seed] * len(starts),
                starts,
            )
            out = np.concatenate(
                list(tqdm(parts, total=len(starts), desc="redrawing", unit="chunk"))
            )
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache.with_suffix(".tmp.npy"), out)
    cache.with_suffix(".tmp.npy").replace(cache)
    return out


def _redraw_items(images: np.ndarray, seed: int, first: int) -> np.ndarray:
    from inference.preprocess import preprocess_strokes
    from training import evaluate

    out = np.empty((len(images), 28, 28), dtype=np.float32)
    for i, image in enumerate(images):
        rng = np.random.default_rng([seed, first + i])
        drawn = preprocess_strokes(evaluate.digit_as_strokes(image, rng))
        out[i] = from_uint8(to_uint8(drawn.pixels))
    return out


def replay_set(train: data.Split, *, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """A fine-tune's reminder of everything the model knows: ``REPLAY_DIGITS`` MNIST
    digits made into the default recipe's mix (augmented copy, canvas redraws, styled
    digits, non-digits), cached on disk keyed by the digits, the seed and the source of
    every generator, so a second fine-tune starts training at once."""
    import hashlib

    picked = np.sort(
        np.random.default_rng([REPLAY_SEED, seed]).choice(
            len(train), min(REPLAY_DIGITS, len(train)), replace=False
        )
    )
    replay = data.Split(train.images[picked], train.labels[picked])
    digest = hashlib.sha256(np.ascontiguousarray(replay.images).tobytes())
    for module in (
        "train.py",
        "augment.py",
        "negatives.py",
        "styles.py",
        "evaluate.py",
        "../inference/canvas.py",
        "../inference/preprocess.py",
    ):
        digest.update((Path(__file__).parent / module).read_bytes())
    cache = CACHE_DIR / f"replay-{seed}-{len(replay)}-{digest.hexdigest()[:16]}.npz"
    if cache.exists():
        with np.load(cache) as stored:
            names, sizes = stored["source_names"], stored["source_sizes"]
            sources = {str(k): int(v) for k, v in zip(names, sizes, strict=True)}
            return from_uint8(stored["images"]), stored["labels"], sources
    images, labels, sources = training_set(
        "default", replay, np.random.default_rng([REPLAY_SEED, seed]), seed=seed
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(
        temporary,
        images=to_uint8(images),
        labels=labels,
        source_names=np.asarray(list(sources)),
        source_sizes=np.asarray(list(sources.values())),
    )
    temporary.replace(cache)
    return from_uint8(to_uint8(images)), labels, sources


def fine_tune_set(
    mnist_train: data.Split, players: data.Split | None, rng: np.random.Generator, *, seed: int
) -> tuple[np.ndarray, np.ndarray, dict]:
    """What a fine-tune trains on: the replay (:func:`replay_set`), and the players'
    drawings with one augmented copy of them."""
    images, labels, replay_sources = replay_set(mnist_train, seed=seed)
    sources = {f"replay_{name}": size for name, size in replay_sources.items()}
    parts, part_labels = [images], [labels]
    if players is not None and len(players):
        copy, copy_labels = augment.augmented_copy(
            players.images, players.labels, rng, pen_fraction=PEN_FRACTION
        )
        parts += [players.images, copy]
        part_labels += [players.labels, copy_labels]
        sources.update(players=len(players), players_augmented=len(copy))
    return (
        np.concatenate(parts).astype(np.float32),
        np.concatenate(part_labels).astype(np.int64),
        sources,
    )


def load_for_fine_tuning(init_from: str | Path, *, steps: int, epochs: int):
    """The model in ``init_from/model.keras`` without its calibration (the logits and a
    plain softmax), compiled to train ``epochs`` more at a fine-tuning learning rate."""
    import keras

    from training import models

    calibrated = keras.models.load_model(Path(init_from) / "model.keras", compile=False)
    logits = calibrated.get_layer(models.LOGITS_LAYER).output
    probabilities = keras.layers.Softmax(name="probabilities")(logits)
    model = keras.Model(calibrated.inputs, probabilities, name="default")
    total = max(1, steps * epochs)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=FINE_TUNE_PEAK_LR / 10,
        decay_steps=max(1, total - steps // 4),
        alpha=DEFAULT_FINAL_LR_FRACTION,
        warmup_target=FINE_TUNE_PEAK_LR,
        warmup_steps=steps // 4,
    )
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        metrics=["accuracy"],
    )
    return model


def calibration_set(holdout: data.Split, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Drawings the model never trained on, mixed like the game's traffic, to fit the
    temperature: held-out MNIST digits, the same redrawn on the canvas, other hands and
    non-digits."""
    from training import evaluate, negatives, styles

    n = len(holdout)
    negative, _ = negatives.negative_pixels(
        max(1, int(n * NEGATIVES_PER_DIGIT)), seed=seed, cache_dir=CACHE_DIR
    )
    styled, style_labels, _ = styles.style_pixels(
        max(1, int(n * STYLES_PER_DIGIT)), seed=seed, cache_dir=CACHE_DIR
    )
    images = np.concatenate(
        [
            holdout.images,
            canvas_redraws(holdout.images[: n // 2], seed=seed),
            evaluate.from_uint8(negative),
            evaluate.from_uint8(styled),
        ]
    )
    labels = np.concatenate(
        [
            holdout.labels,
            holdout.labels[: n // 2],
            np.full(len(negative), NOT_DIGIT_CLASS),
            style_labels,
        ]
    )
    return images.astype(np.float32), labels.astype(np.int64)


# --- model and training --------------------------------------------------------------


def build(model_name: str, *, steps_per_epoch: int, epochs: int):
    import keras

    from training import models

    if model_name == "seed":
        return models.build_seed()
    total = max(1, steps_per_epoch * epochs)
    warmup = int(min(total // 2, steps_per_epoch * DEFAULT_WARMUP_EPOCHS))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=DEFAULT_PEAK_LR / 10,
        decay_steps=max(1, total - warmup),
        alpha=DEFAULT_FINAL_LR_FRACTION,
        warmup_target=DEFAULT_PEAK_LR,
        warmup_steps=warmup,
    )
    return models.build_default(learning_rate=schedule)


def default_out_dir(model_name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path("var/models") / f"{model_name}-{stamp}"


def run(
    model_name: str,
    *,
    epochs: int | None = None,
    limit: int | None = None,
    out_dir: str | Path | None = None,
    player_data: str | Path | None = None,
    datasets_override: data.Datasets | None = None,
    seed: int = 0,
    command: str | None = None,
    verbose: int | None = None,
    init_from: str | Path | None = None,
    benchmarks=None,
) -> dict:
    """Train ``model_name`` ("seed" or "default"), export, evaluate, report; return metrics.

    ``limit`` keeps the first N training and test digits (quick runs and tests);
    ``datasets_override`` replaces MNIST; ``player_data`` is an NPZ of players' drawings
    (``training.data.load_player_drawings``) added to the training set. ``init_from``
    (a model folder) fine-tunes that model for ``FINE_TUNE_EPOCHS`` on the players'
    drawings plus a replay (:func:`fine_tune_set`) instead of training from scratch; it
    is calibrated like the default recipe. ``benchmarks`` (``evaluate.benchmark_inputs``)
    scores the model on drawings already made, instead of drawing them again.
    """
    if model_name not in MODELS:
        raise ValueError(f"Unknown model {model_name!r}; choose one of {MODELS}.")
    if init_from is not None and model_name != "default":
        raise ValueError("Only the default model is fine-tuned (init_from).")
    keras, tf = import_tensorflow()

    from training import evaluate, export, negatives, styles

    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(seed)
    if init_from is not None:
        epochs = epochs or FINE_TUNE_EPOCHS
    epochs = epochs or (SEED_EPOCHS if model_name == "seed" else DEFAULT_EPOCHS)
    out_dir = Path(out_dir) if out_dir else default_out_dir(model_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2

    datasets = datasets_override or data.load_mnist()
    train, test = datasets.train.take(limit), datasets.test.take(limit)
    holdout = None
    if model_name != "seed":
        n_holdout = max(1, int(len(train) * CALIBRATION_SHARE))
        holdout = data.Split(train.images[-n_holdout:], train.labels[-n_holdout:])
        train = data.Split(train.images[:-n_holdout], train.labels[:-n_holdout])

    mnist_train = train
    players = None
    if player_data is not None:
        players = data.load_player_drawings(player_data)
        train = data.Split(
            np.concatenate([train.images, players.images]),
            np.concatenate([train.labels, players.labels]),
        )

    # --- train ---
    train_started = time.perf_counter()
    if init_from is None:
        x_train, y_train, sources = training_set(model_name, train, rng, seed=seed)
    else:
        x_train, y_train, sources = fine_tune_set(mnist_train, players, rng, seed=seed)
    order = rng.permutation(len(y_train))
    x_train, y_train = x_train[order], y_train[order]
    augment_seconds = time.perf_counter() - train_started
    if model_name == "seed":
        fit_n = len(y_train) - int(len(y_train) * SEED_VALIDATION_SPLIT)
        validation = {"validation_split": SEED_VALIDATION_SPLIT}
    else:
        fit_n = len(y_train)
        # Monitored only, for the curves: no early stopping, no model selection on it.
        validation = {"validation_data": (test.images[..., None], test.labels)}
    steps_per_epoch = int(np.ceil(fit_n / BATCH_SIZE))
    if init_from is None:
        model = build(model_name, steps_per_epoch=steps_per_epoch, epochs=epochs)
    else:
        model = load_for_fine_tuning(init_from, steps=steps_per_epoch, epochs=epochs)
    history = model.fit(
        x_train[..., None],
        y_train,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        shuffle=True,
        verbose=verbose,
        **validation,
    )
    training_seconds = time.perf_counter() - train_started

    # --- calibrate ---
    calibration = None
    uncalibrated = model
    if holdout is not None and len(holdout):
        calibration, model = calibrate(
            model,
            holdout,
            seed=CALIBRATION_SEED + seed,
            training_share=float(np.mean(y_train == NOT_DIGIT_CLASS)),
        )

    # --- export and evaluate ---
    model.save(out_dir / "model.keras")
    tflite_path = export.export_tflite(model, out_dir / "model.tflite")
    keras_probabilities = evaluate.keras_predict(model)(test.images)
    tflite_diff = export.verify_tflite(keras_probabilities, tflite_path, test.images)
    if benchmarks is None:
        benchmarks = evaluate.benchmark_inputs(
            test.images,
            test.labels,
            canvas_limit=limit,
            # A quick run on a few hundred digits gets benchmarks of its test set's size.
            nondigit_n=min(len(test), negatives.NONDIGIT_BENCH_N),
            style_n=min(len(test), styles.STYLE_BENCH_N),
        )
    stats = evaluate.score(evaluate.tflite_predict(tflite_path), benchmarks)
    canvas_uncalibrated = evaluate.keras_predict(uncalibrated)(stats["canvas_pixels"])
    from training.calibration import expected_calibration_error

    canvas_ece_before = expected_calibration_error(canvas_uncalibrated, stats["canvas_labels"])

    # --- report ---
    metrics = {
        "model": model_name,
        "version": out_dir.name,
        "params": int(model.count_params()),
        "outputs": int(model.output_shape[-1]),
        "epochs": epochs,
        "fine_tuned_from": None if init_from is None else str(init_from),
        "batch_size": BATCH_SIZE,
        "seed": seed,
        **evaluate.public_stats(stats),
        "canvas_ece_uncalibrated": canvas_ece_before,
        "calibration": calibration,
        "tflite_max_abs_diff": tflite_diff,
        "augment_seconds": round(augment_seconds, 1),
        "training_seconds": round(training_seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "command": command or _command(model_name, epochs, limit, out_dir, player_data, seed),
        "dataset_sizes": {
            "mnist_train": len(datasets.train),
            "train_used": len(train),
            "calibration_holdout": 0 if holdout is None else len(holdout),
            "train_with_augmentation": int(len(y_train)),
            "sources": sources,
            "fit": int(fit_n),
            "test": len(test),
            "players": 0 if player_data is None else len(players.labels),
        },
        "validation": "10% split of the training set"
        if model_name == "seed"
        else "MNIST test set, monitored only (no early stopping or model selection)",
        "history": {k: [round(float(v), 5) for v in vs] for k, vs in history.history.items()},
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
    }
    report.write_report(
        out_dir,
        metrics=metrics,
        train_images=x_train,
        train_labels=y_train,
        test_images=test.images,
        test_labels=test.labels,
        test_probabilities=keras_probabilities,
        canvas_pixels=stats["canvas_pixels"],
        canvas_probabilities=stats["canvas_probabilities"],
        canvas_probabilities_uncalibrated=canvas_uncalibrated,
    )
    report.write_model_card(out_dir, metrics)
    return metrics


def prior_offsets(training_share: float, play_share: float = NOT_DIGIT_PRIOR) -> list[float]:
    """Logit offsets that move the "not a digit" prior from the training mix's share to
    the one assumed in play (the digits share the rest alike)."""
    from training.models import N_OUTPUTS

    offsets = [float(np.log((1 - play_share) / (1 - training_share)))] * N_OUTPUTS
    offsets[NOT_DIGIT_CLASS] = float(np.log(play_share / training_share))
    return offsets


def calibrate(model, holdout: data.Split, *, seed: int, training_share: float):
    """Fit the temperature on drawings never trained on, correct the not-a-digit prior
    for play; return the record and the calibrated model (honest probabilities)."""
    from training import calibration, models

    images, labels = calibration_set(holdout, seed=seed)
    logits = models.logits_of(model).predict(images[..., None], batch_size=1000, verbose=0)
    temperature = calibration.fit_temperature(logits, labels)
    offsets = prior_offsets(training_share)
    before = calibration.softmax(logits)
    after = calibration.softmax(logits / temperature + np.asarray(offsets))
    record = {
        "temperature": round(float(temperature), 4),
        "not_digit_prior": {"training": round(training_share, 4), "play": NOT_DIGIT_PRIOR},
        "logit_offsets": [round(v, 4) for v in offsets],
        "set": "held-out MNIST training digits, their canvas redraws, styled digits and"
        " non-digits (never trained on)",
        "size": int(len(labels)),
        "ece_before": calibration.expected_calibration_error(before, labels),
        "ece_after": calibration.expected_calibration_error(after, labels),
    }
    return record, models.with_temperature(model, temperature, class_offsets=offsets)


def _command(model_name, epochs, limit, out_dir, player_data, seed) -> str:
    parts = ["python", "-m", "training.train", "--model", model_name, "--epochs", str(epochs)]
    if limit is not None:
        parts += ["--limit", str(limit)]
    parts += ["--out", str(out_dir), "--seed", str(seed)]
    if player_data is not None:
        parts += ["--players", str(player_data)]
    return shlex.join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train, export and evaluate a digit model.")
    parser.add_argument("--model", choices=MODELS, default="default", help="which model")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (model's default)")
    parser.add_argument("--limit", type=int, default=None, help="use the first N digits only")
    parser.add_argument("--out", default=None, help="output folder (var/models/<model>-<time>)")
    parser.add_argument("--players", default=None, help="players' drawings NPZ to add")
    parser.add_argument("--seed", type=int, default=0, help="random seed (reproducible runs)")
    args = parser.parse_args(argv)
    from training import evaluate

    command = shlex.join(["python", "-m", "training.train", *(argv or sys.argv[1:])])
    metrics = run(
        args.model,
        epochs=args.epochs,
        limit=args.limit,
        out_dir=args.out,
        player_data=args.players,
        seed=args.seed,
        command=command,
    )
    print(f"model:                     {metrics['version']} ({metrics['params']:,} params)")
    for line in evaluate.summary_lines(metrics):
        print(line)
    if metrics.get("calibration"):
        print(
            f"temperature:               {metrics['calibration']['temperature']}"
            f" (canvas ECE {metrics['canvas_ece_uncalibrated']:.2%} before calibration)"
        )
    print(f"LiteRT max abs difference: {metrics['tflite_max_abs_diff']:.2e}")
    print(f"training seconds:          {metrics['training_seconds']:.0f}")


if __name__ == "__main__":
    main()
