"""End to end on a few hundred digits: train, export to LiteRT, evaluate, report.

Slow (TensorFlow): marked ``training``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from training import data, evaluate

pytestmark = pytest.mark.training

N_TRAIN = 300
N_TEST = 100


@pytest.fixture(scope="module")
def few_digits() -> data.Datasets:
    mnist = data.load_mnist()
    return data.Datasets(train=mnist.train.take(N_TRAIN), test=mnist.test.take(N_TEST))


@pytest.fixture(scope="module")
def default_run(few_digits, tmp_path_factory):
    from training import train

    out_dir = tmp_path_factory.mktemp("default-run")
    metrics = train.run(
        "default", epochs=1, out_dir=out_dir, datasets_override=few_digits, verbose=0
    )
    return out_dir, metrics


def test_a_run_writes_the_model_the_export_and_the_report(default_run):
    from training import report

    out_dir, _ = default_run
    for name in ("model.keras", "model.tflite", "metrics.json", *report.PLOTS):
        assert (out_dir / name).stat().st_size > 0, name


def test_the_metrics_say_what_was_trained_and_how_well(default_run):
    out_dir, metrics = default_run
    written = json.loads((out_dir / "metrics.json").read_text())
    for key in (
        "model",
        "version",
        "params",
        "epochs",
        "mnist_test_accuracy",
        "per_digit_accuracy",
        "confusion_matrix",
        "canvas_accuracy",
        "tflite_max_abs_diff",
        "training_seconds",
        "command",
        "dataset_sizes",
        "history",
    ):
        assert key in written, key
    assert written["model"] == "default" and written["outputs"] == 11
    sizes = written["dataset_sizes"]
    holdout = sizes["calibration_holdout"]
    assert holdout == N_TRAIN // 12  # never trained on: it fits the temperature
    assert sizes["train_used"] == N_TRAIN - holdout
    sources = sizes["sources"]
    assert sources["mnist"] == sources["augmented"] == N_TRAIN - holdout
    assert sources["not_digits"] > 0 and sources["styled_digits"] > 0
    assert sizes["train_with_augmentation"] == sum(sources.values())
    assert sizes["test"] == N_TEST
    assert np.array(written["confusion_matrix"]).sum() == N_TEST
    assert np.array(written["confusion_matrix"]).shape == (10, 11)  # "not a digit" column
    assert written["calibration"]["temperature"] > 0
    assert 0 <= written["canvas_ece"] <= 1 and 0 <= written["canvas_ece_uncalibrated"] <= 1
    assert written["nondigit"]["count"] == N_TEST  # quick runs shrink every benchmark
    assert written["style"]["size"] == N_TEST
    assert 0.0 <= written["canvas_accuracy"] <= 1.0
    assert written["tflite_max_abs_diff"] <= 1e-5
    # One epoch on 275 digits among as many redraws, styled digits and non-digits: above
    # chance (0.1) and seeded, so the same every run.
    assert written["mnist_test_accuracy"] > 0.15


def test_the_saved_keras_model_loads_and_predicts(default_run, few_digits):
    import keras

    out_dir, _ = default_run
    model = keras.models.load_model(out_dir / "model.keras")
    probabilities = model.predict(few_digits.test.images[:4, ..., None], verbose=0)
    assert probabilities.shape == (4, 11)  # ten digits and "not a digit"
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("batch", [1, 5, 32])
def test_the_litert_model_predicts_batches_of_any_size(default_run, few_digits, batch):
    from ai_edge_litert.interpreter import Interpreter

    out_dir, _ = default_run
    interpreter = Interpreter(model_path=str(out_dir / "model.tflite"), num_threads=1)
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], [batch, 28, 28, 1])
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], few_digits.test.images[:batch, ..., None])
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    assert out.shape == (batch, 11)


def test_a_litert_model_that_disagrees_is_refused(default_run, few_digits):
    from training import export

    out_dir, _ = default_run
    images = few_digits.test.images[:10]
    wrong = evaluate.tflite_predict(out_dir / "model.tflite")(images) + 1e-3
    with pytest.raises(export.ExportMismatchError):
        export.verify_tflite(wrong, out_dir / "model.tflite", images)


def test_the_seed_model_is_the_demos_and_runs_reproducibly(few_digits, tmp_path):
    from training import models, train

    assert models.build_seed().count_params() == 34_826
    first = train.run(
        "seed", epochs=1, out_dir=tmp_path / "a", datasets_override=few_digits, verbose=0
    )
    second = train.run(
        "seed", epochs=1, out_dir=tmp_path / "b", datasets_override=few_digits, verbose=0
    )
    assert first["history"] == second["history"]
    assert first["confusion_matrix"] == second["confusion_matrix"]
    assert first["dataset_sizes"]["fit"] == N_TRAIN - N_TRAIN // 10  # validation_split 0.1


def test_the_default_run_is_reproducible_with_a_seed(default_run, few_digits, tmp_path):
    from training import train

    _, first = default_run
    second = train.run(
        "default", epochs=1, out_dir=tmp_path / "again", datasets_override=few_digits, verbose=0
    )
    assert second["history"] == first["history"]
    assert second["calibration"] == first["calibration"]
    assert second["nondigit"] == first["nondigit"]


def test_the_calibrated_model_keeps_every_guess_and_softens_the_probabilities(tmp_path):
    from training import models

    model = models.build_default()
    images = np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32)
    raw = model.predict(images, verbose=0)
    calibrated = models.with_temperature(model, 3.0).predict(images, verbose=0)
    assert np.array_equal(raw.argmax(1), calibrated.argmax(1))
    assert (calibrated.max(1) <= raw.max(1) + 1e-6).all()
    assert np.allclose(calibrated.sum(1), 1.0, atol=1e-5)


def test_the_default_model_is_small(tmp_path):
    from training import models

    assert models.build_default().count_params() <= 500_000


def test_players_drawings_join_the_training_set(few_digits, tmp_path):
    from training import train

    path = tmp_path / "players.npz"
    images = (few_digits.test.images[:20] * 255).astype(np.uint8)
    np.savez(path, images=images, labels=few_digits.test.labels[:20], ids=np.arange(20))
    metrics = train.run(
        "seed",
        epochs=1,
        out_dir=tmp_path / "run",
        datasets_override=few_digits,
        player_data=path,
        verbose=0,
    )
    assert metrics["dataset_sizes"]["train_used"] == N_TRAIN + 20
    assert metrics["dataset_sizes"]["players"] == 20


def test_the_command_lines_train_and_evaluate(tmp_path, capsys):
    from training import train

    out_dir = tmp_path / "cli"
    train.main(["--model", "seed", "--epochs", "1", "--limit", "200", "--out", str(out_dir)])
    assert "MNIST test accuracy" in capsys.readouterr().out
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["command"].startswith("python -m training.train --model seed")

    figures = tmp_path / "figures.json"
    evaluate.main(
        ["--model-dir", str(out_dir), "--canvas-limit", "50", "--nondigit-n", "40",
         "--style-n", "40", "--json", str(figures)]
    )  # fmt: skip
    printed = capsys.readouterr().out
    for line in ("MNIST test accuracy", "canvas benchmark accuracy", "calibration error",
                 "non-digits named a digit", "style benchmark accuracy"):  # fmt: skip
        assert line in printed
    written = json.loads(figures.read_text())
    assert written["nondigit"]["count"] == 40 and written["style"]["size"] == 40
    assert written["style"]["refused"] == 0.0  # ten outputs: the seed CNN never refuses


def test_the_canvas_benchmark_is_deterministic(few_digits):
    images = few_digits.test.images[:5]
    assert evaluate.canvas_drawings(images, seed=1) == evaluate.canvas_drawings(images, seed=1)
    assert evaluate.canvas_drawings(images, seed=1) != evaluate.canvas_drawings(images, seed=2)
    # Another canvas's pen: thicker strokes, more ink, the same digits.
    thin = evaluate.canvas_pixels(evaluate.canvas_drawings(images, pen_px=6))
    thick = evaluate.canvas_pixels(evaluate.canvas_drawings(images, pen_px=25))
    assert (thick > 0.5).sum() > 1.5 * (thin > 0.5).sum()
    pixels = evaluate.canvas_pixels(evaluate.canvas_drawings(images))
    assert pixels.shape == (5, 28, 28)
    assert 0.0 <= pixels.min() and pixels.max() <= 1.0
    # What the worker is given: 256 grey levels, as the drawing travels from the web.
    assert np.abs(pixels * 255 - np.rint(pixels * 255)).max() < 1e-3


def test_a_run_writes_the_model_card_from_its_metrics(default_run):
    out_dir, metrics = default_run
    card = (out_dir / "MODEL_CARD.md").read_text()

    assert card.startswith(f"# Model card: {metrics['version']}")
    assert f"T = {metrics['calibration']['temperature']}" in card
    assert f"{metrics['nondigit']['named_as_digit_rate']:.2%}" in card


def players_npz(few_digits, path, n: int = 40):
    images = (few_digits.test.images[:n] * 255).astype(np.uint8)
    np.savez(path, images=images, labels=few_digits.test.labels[:n], ids=np.arange(n))
    return path


def test_a_fine_tune_starts_from_the_model_trains_on_players_and_a_replay_and_is_calibrated(
    default_run, few_digits, tmp_path, monkeypatch
):
    import keras

    from training import models, train

    monkeypatch.setattr(train, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(train, "REPLAY_DIGITS", 100)
    init_dir, _ = default_run
    loaded = train.load_for_fine_tuning(init_dir, steps=1, epochs=1)
    before = keras.models.load_model(init_dir / "model.keras", compile=False)
    digits = few_digits.test.images[:8, ..., None]
    assert np.allclose(
        models.logits_of(loaded).predict(digits, verbose=0),
        models.logits_of(before).predict(digits, verbose=0),
    ), "the fine-tune starts from the model's own weights, without its calibration"

    metrics = train.run(
        "default",
        init_from=init_dir,
        out_dir=tmp_path / "fine-tuned",
        datasets_override=few_digits,
        player_data=players_npz(few_digits, tmp_path / "players.npz"),
        verbose=0,
    )

    assert metrics["fine_tuned_from"] == str(init_dir)
    assert metrics["epochs"] == train.FINE_TUNE_EPOCHS
    sources = metrics["dataset_sizes"]["sources"]
    assert sources["replay_mnist"] == sources["replay_augmented"] == 100
    assert sources["replay_not_digits"] > 0 and sources["replay_styled_digits"] > 0
    assert sources["players"] == sources["players_augmented"] == 40
    assert metrics["outputs"] == 11 and metrics["calibration"]["temperature"] > 0
    assert (tmp_path / "fine-tuned" / "model.tflite").stat().st_size > 0


def test_the_replay_is_cached_on_disk_keyed_by_the_recipe(few_digits, tmp_path, monkeypatch):
    from unittest import mock

    from training import train

    monkeypatch.setattr(train, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(train, "REPLAY_DIGITS", 60)
    images, labels, sources = train.replay_set(few_digits.train, seed=0)
    [cached] = tmp_path.glob("replay-0-60-*.npz")

    with mock.patch.object(train, "training_set", side_effect=AssertionError("recomputed")):
        again = train.replay_set(few_digits.train, seed=0)

    assert np.array_equal(again[0], images) and np.array_equal(again[1], labels)
    assert again[2] == sources and sources["mnist"] == 60
    other_seed = train.replay_set(few_digits.train, seed=1)
    assert len(list(tmp_path.glob("replay-*.npz"))) == 2 and other_seed[2]["mnist"] == 60
    assert cached.exists()


def test_only_the_default_model_is_fine_tuned(tmp_path):
    from training import train

    with pytest.raises(ValueError, match="Only the default model"):
        train.run("seed", init_from=tmp_path)


def test_the_benchmarks_are_cached_and_score_the_same(few_digits, tmp_path):
    from unittest import mock

    options = {"canvas_limit": 20, "nondigit_n": 20, "style_n": 20}
    images, labels = few_digits.test.images[:20], few_digits.test.labels[:20]
    drawn = evaluate.cached_benchmark_inputs(images, labels, cache_dir=tmp_path, **options)

    with mock.patch.object(evaluate, "benchmark_inputs", side_effect=AssertionError("redrawn")):
        cached = evaluate.cached_benchmark_inputs(images, labels, cache_dir=tmp_path, **options)

    for field in ("canvas_pixels", "canvas_labels", "nondigit_pixels", "style_pixels"):
        assert np.array_equal(getattr(drawn, field), getattr(cached, field)), field
    assert cached.nondigit_kinds == drawn.nondigit_kinds
    assert cached.style_variants == drawn.style_variants


def test_tensorflows_start_up_noise_is_hidden_unless_something_fails(capfd):
    import os

    from training import train

    with train.quiet_native_logs():
        os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers\n")
    assert capfd.readouterr().err == ""

    with pytest.raises(RuntimeError), train.quiet_native_logs():
        os.write(2, b"F0000 the reason it broke\n")
        raise RuntimeError("import failed")
    assert "the reason it broke" in capfd.readouterr().err
