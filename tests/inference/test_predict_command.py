"""python manage.py predict FILE.png [...]: a guess per file, an error line per bad file."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from inference.canvas import render_strokes
from tests.e2e.strokes import CROSS_HATCH, line_strokes

ONE = [[[112, 112], [40, 190], [0, 120]]]


@pytest.fixture
def one_png(tmp_path):
    path = tmp_path / "one.png"
    path.write_bytes(render_strokes(ONE))
    return path


def test_it_prints_digit_confidence_and_ten_probabilities(active_model, one_png, capsys):
    call_command("predict", str(one_png))
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{one_png}: digit=")
    probabilities = line.split("probabilities=[")[1].split("]")[0].split()
    assert len(probabilities) == 10
    assert abs(sum(map(float, probabilities)) - 1) < 1e-2
    assert f"model={active_model.name}" in line


def test_a_drawing_that_is_not_a_digit_is_reported_as_such(not_digit_model, tmp_path, capsys):
    grid = tmp_path / "grid.png"
    grid.write_bytes(render_strokes(line_strokes(CROSS_HATCH)))
    call_command("predict", str(grid))
    line = capsys.readouterr().out.strip()
    assert f"{grid}: digit=not-a-digit confidence=" in line
    assert len(line.split("probabilities=[")[1].split("]")[0].split()) == 10


def test_a_blank_drawing_is_reported_as_blank(active_model, tmp_path, capsys):
    blank = tmp_path / "blank.png"
    blank.write_bytes(render_strokes([]))
    call_command("predict", str(blank))
    assert "digit=blank confidence=0.0000" in capsys.readouterr().out


def test_bad_files_get_an_error_line_each_and_the_command_fails(
    active_model, one_png, tmp_path, capsys
):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    missing = tmp_path / "missing.png"

    with pytest.raises(CommandError, match="2 of 3"):
        call_command("predict", str(text), str(one_png), str(missing))

    captured = capsys.readouterr()
    assert f"{one_png}: digit=" in captured.out
    assert f"{text}: This is not an image" in captured.err
    assert f"{missing}: cannot read" in captured.err


def test_it_can_use_a_given_model_file_instead_of_the_active_version(active_model, one_png, capsys):
    call_command("predict", str(one_png), "--model", str(active_model.tflite_path))
    assert f"model={active_model.tflite_path.parent.name}" in capsys.readouterr().out
