"""The model card: written from a version's metrics, honest about what was not measured."""

import json

import pytest

from training import model_card

V3_LIKE = {
    "model": "default",
    "version": "default-v9",
    "params": 200_000,
    "outputs": 11,
    "epochs": 8,
    "batch_size": 128,
    "seed": 0,
    "mnist_test_accuracy": 0.9961,
    "mnist_refused": 0.0012,
    "canvas_accuracy": 0.9903,
    "canvas_size": 10000,
    "canvas_ece": 0.0071,
    "canvas_ece_uncalibrated": 0.0213,
    "canvas_per_digit_accuracy": {str(d): 0.99 - d / 1000 for d in range(10)},
    "calibration": {
        "temperature": 1.37,
        "set": "held-out drawings",
        "size": 6000,
        "ece_before": 0.031,
        "ece_after": 0.008,
    },
    "nondigit": {"named_as_digit_rate": 0.043, "count": 2000},
    "style": {"accuracy": 0.975, "size": 2000},
    "dataset_sizes": {
        "test": 10000,
        "players": 120,
        "sources": {"mnist": 54000, "augmented": 54000, "styled_digits": 8000, "not_digits": 9000},
    },
    "command": "python -m training.train --model default --out x --seed 0",
    "training_seconds": 800.0,
    "tflite_max_abs_diff": 1e-6,
}


def test_the_card_gives_calibration_and_non_digit_rejection():
    card = model_card.model_card(V3_LIKE)

    assert "T = 1.37" in card
    assert "| calibration set ECE before / after | 3.10% / 0.80% |" in card
    assert "| canvas ECE before calibration | 2.13% |" in card
    assert "| non-digits named a digit at the game's threshold (0.6) | 4.30% |" in card
    assert 'the digits 0-9 and "not a digit"' in card


def test_the_card_names_every_source_with_its_licence():
    card = model_card.model_card(V3_LIKE)

    assert "| MNIST training digits | 54,000 |" in card and "CC BY-SA 3.0" in card
    assert "Hershey" in card and "MIT" in card and "Bitstream Vera" in card
    assert "`training/styles.py`" in card
    assert "| players' drawings, exported after staff review (rejected ones never) | 120 |" in card
    assert "## Intended use" in card and "## Known limits" in card


def test_an_older_version_says_what_it_did_not_measure():
    older = {k: v for k, v in V3_LIKE.items() if k not in {"calibration", "nondigit", "outputs"}}
    card = model_card.model_card(older)

    assert "| non-digits named a digit at the game's threshold (0.6) | not measured" in card
    assert 'no "not a digit" answer' in card and "not calibrated" in card


def test_the_command_writes_the_card_of_an_existing_version_folder(tmp_path, capsys):
    (tmp_path / "metrics.json").write_text(json.dumps(V3_LIKE))
    model_card.main([str(tmp_path)])

    assert (tmp_path / "MODEL_CARD.md").read_text().startswith("# Model card: default-v9")


def test_the_command_says_when_there_are_no_metrics(tmp_path):
    with pytest.raises(SystemExit):
        model_card.main([str(tmp_path)])
