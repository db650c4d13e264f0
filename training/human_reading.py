"""What would a person score on the canvas benchmark? A blind reading sheet, and its score.

The canvas benchmark's target (99.3%) only makes sense if the redrawn digits can be read
that well. This puts every digit the model got wrong among as many it got right (chosen
at random, shuffled, seeded), with neither the label nor the guess shown, as the model
saw them. A person writes what they read, one character a drawing (``0``-``9``, or
``x`` for "not a digit" / "cannot tell"); the score estimates that person's accuracy on
the whole benchmark: their misses on the model's errors, plus their miss rate on the
controls applied to every digit the model got right.

    python -m training.human_reading sheet --model-dir DIR --out var/reading
    (read var/reading/sheet-*.png; write the answers, in order, into answers.txt there)
    python -m training.human_reading score --out var/reading
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from inference.contract import NOT_DIGIT_CLASS

READING_SEED = 31_337
SHEET_COLUMNS = 10
SHEET_ROWS = 8
"""Drawings a sheet holds: few enough that each is big on a screen."""
CELL_PX = 112


def reading_order(wrong: np.ndarray, *, seed: int = READING_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Benchmark indices to read and whether the model got each wrong: every error and as
    many correct items, drawn at random and shuffled together."""
    wrong = np.asarray(wrong, dtype=bool)
    rng = np.random.default_rng(seed)
    errors = np.flatnonzero(wrong)
    controls = rng.choice(
        np.flatnonzero(~wrong), min(len(errors), int((~wrong).sum())), replace=False
    )
    items = np.concatenate([errors, controls])
    order = rng.permutation(len(items))
    return items[order], wrong[items[order]]


def parse_answers(text: str) -> list[int]:
    """``0``-``9`` a digit, ``x`` not a digit; whitespace and line breaks are ignored."""
    answers = []
    for char in "".join(text.split()).lower():
        if char.isdigit():
            answers.append(int(char))
        elif char == "x":
            answers.append(NOT_DIGIT_CLASS)
        else:
            raise ValueError(f"{char!r} is not an answer: write 0-9, or x for not a digit.")
    return answers


def human_estimate(
    answers: list[int], labels: np.ndarray, model_wrong: np.ndarray, benchmark_size: int
) -> dict:
    """The reader's misses on the model's errors and on the controls, and the accuracy
    they imply on the whole benchmark: a point estimate, a 95% interval (Wilson, on the
    controls' miss rate, the uncertain part) and ``model_or_reader``, the accuracy of
    taking whichever of the two is right, drawing by drawing: what they reach together."""
    from scipy.stats import binomtest

    labels, model_wrong = np.asarray(labels), np.asarray(model_wrong, dtype=bool)
    if len(answers) != len(labels):
        raise ValueError(f"{len(answers)} answers for {len(labels)} drawings.")
    missed = np.asarray(answers) != labels
    model_errors = int(model_wrong.sum())  # the sheet holds every one of them
    controls = len(labels) - model_errors
    missed_errors = int(missed[model_wrong].sum())
    missed_controls = int(missed[~model_wrong].sum())
    model_right = benchmark_size - model_errors

    def accuracy(control_miss_rate: float) -> float:
        return 1 - (missed_errors + control_miss_rate * model_right) / benchmark_size

    figures = {
        "model_errors": model_errors,
        "reader_missed_of_model_errors": missed_errors,
        "controls": controls,
        "reader_missed_of_controls": missed_controls,
        "model_accuracy": 1 - model_errors / benchmark_size,
        "model_or_reader_accuracy": accuracy(0.0),
    }
    if controls:
        interval = binomtest(missed_controls, controls).proportion_ci(method="wilson")
        figures["reader_accuracy_estimate"] = accuracy(missed_controls / controls)
        figures["reader_accuracy_95"] = [accuracy(interval.high), accuracy(interval.low)]
    return figures


def draw_sheets(pixels: np.ndarray, out: Path) -> list[Path]:
    """The drawings, numbered from 1, as the model sees them, ``SHEET_COLUMNS`` x
    ``SHEET_ROWS`` a sheet."""
    from PIL import Image, ImageDraw

    per_sheet = SHEET_COLUMNS * SHEET_ROWS
    label_px = 14
    paths = []
    for first in range(0, len(pixels), per_sheet):
        page = pixels[first : first + per_sheet]
        sheet = Image.new("L", (SHEET_COLUMNS * CELL_PX, SHEET_ROWS * (CELL_PX + label_px)), 255)
        draw = ImageDraw.Draw(sheet)
        for k, image in enumerate(page):
            row, col = divmod(k, SHEET_COLUMNS)
            x, y = col * CELL_PX, row * (CELL_PX + label_px)
            tile = Image.fromarray(np.uint8(255 - np.clip(image, 0, 1) * 255))
            sheet.paste(
                tile.resize((CELL_PX - 8, CELL_PX - 8), Image.Resampling.NEAREST),
                (x + 4, y + label_px),
            )
            draw.text((x + 4, y), str(first + k + 1), fill=0)
        path = out / f"sheet-{first // per_sheet + 1}.png"
        sheet.save(path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("sheet", help="draw the reading sheets and keep their key")
    make.add_argument("--model-dir", required=True, help="a version's folder (model.tflite)")
    make.add_argument("--out", required=True, help="folder for the sheets and key.json")
    grade = sub.add_parser("score", help="score answers.txt against key.json")
    grade.add_argument("--out", required=True, help="the sheet command's folder")
    args = parser.parse_args(argv)
    out = Path(args.out)

    if args.command == "score":
        key = json.loads((out / "key.json").read_text())
        answers = parse_answers((out / "answers.txt").read_text())
        figures = human_estimate(
            answers,
            np.asarray(key["labels"]),
            np.asarray(key["model_wrong"]),
            key["benchmark_size"],
        )
        print(json.dumps(figures, indent=2))
        return

    from training import data, evaluate

    test = data.load_mnist().test
    pixels = evaluate.canvas_pixels(evaluate.canvas_drawings(test.images))
    predict = evaluate.tflite_predict(Path(args.model_dir) / "model.tflite")
    wrong = predict(pixels).argmax(axis=1) != test.labels
    items, model_wrong = reading_order(wrong)
    out.mkdir(parents=True, exist_ok=True)
    paths = draw_sheets(pixels[items], out)
    key = {
        "model_dir": str(args.model_dir),
        "benchmark_size": len(test.labels),
        "items": items.tolist(),
        "labels": test.labels[items].tolist(),
        "model_wrong": model_wrong.tolist(),
    }
    (out / "key.json").write_text(json.dumps(key) + "\n")
    print(f"{len(items)} drawings on {len(paths)} sheets in {out}; write what you read, in")
    print(
        f"order, into {out / 'answers.txt'} (0-9, x for not a digit), then run the score command."
    )


if __name__ == "__main__":
    main()
