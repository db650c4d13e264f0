import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from guessgame.game import words
from inference.preprocess import preprocess_png
from tests.e2e.conftest import (
    PHONE,
    PHONE_390,
    draw_digit,
    fits_the_width,
    shoot,
    wait_for_live_guess,
)
from tests.e2e.strokes import CROSS_HATCH, densify, scribble_lines

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def unsure_shape(model_path) -> list:
    """A shape between a 1 and a 7 that the active model names with 0.6-0.9 confidence.

    Searched with the model itself (drawn by ``inference.canvas`` as the browser draws
    it), so the test holds for any model version, however sure it is of one shape.
    """
    from inference.canvas import render_strokes
    from inference.runtime import LiteRTModel

    model = LiteRTModel(model_path)
    for top_x in range(60, 175, 5):
        for bottom_x in (115, 100, 130, 85, 145):
            line = densify([(80, 85), (top_x, 45), (bottom_x, 190)], step=10)
            strokes = [[[x for x, _ in line], [y for _, y in line], list(range(len(line)))]]
            p = model.predict(preprocess_png(render_strokes(strokes)).pixels)[0]
            if p.argmax() < 10 and 0.6 <= p[:10].max() < 0.9:
                return [[(80, 85), (top_x, 45), (bottom_x, 190)]]
    pytest.fail("no shape between a 1 and a 7 leaves the model unsure")


SLIDER_STEPS = [round(0.5 + 0.05 * i, 2) for i in range(10)]


@pytest.mark.django_db(transaction=True)
def test_free_draw_guesses_respects_the_threshold_and_downloads_the_png(
    page, live_server, worker_process, active_model
):
    page.goto(live_server.url + "/draw")
    main = page.locator("#guess-main")
    assert main.text_content() == "Draw something first"
    assert page.locator("#download").is_disabled()

    draw_digit(page, 7)
    expect(main).to_have_text("Prediction = 7")
    assert page.locator("[data-digit='7']").get_attribute("class").count("is-best") == 1
    shoot(page, "free-draw")

    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == "drawing.png"
    data = open(download.path(), "rb").read()
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (225, 225) and image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # transparent paper
    assert not preprocess_png(data).blank

    page.click("[data-action='clear']")
    expect(main).to_have_text("Draw something first")

    draw_digit(page, 0, lines=unsure_shape(active_model.tflite_path))
    wait_for_live_guess(page)
    state = page.locator("#free-draw")
    expect(state).to_have_attribute("data-state", re.compile("guess|unsure"))
    confidence = float(state.get_attribute("data-confidence"))
    digit = page.locator(".chart-col.is-best").get_attribute("data-digit")
    # Every slider position: a guess at or above it, "Please draw again" below it.
    for threshold in SLIDER_STEPS:
        page.locator("#threshold").fill(str(threshold))
        assert page.locator("#threshold-value").text_content() == f"{threshold:.2f}"
        expected = f"Prediction = {digit}" if confidence >= threshold else "Please draw again"
        assert main.text_content() == expected, (threshold, confidence)
    assert 0.5 <= confidence < 0.95, f"the model is too sure or unsure of a 1/7: {confidence}"

    page.set_viewport_size(PHONE)
    page.reload()
    draw_digit(page, 3)
    expect(main).to_have_text("Prediction = 3")
    shoot(page, "free-draw")


@pytest.mark.django_db(transaction=True)
def test_free_draw_needs_no_account(page, live_server):
    response = page.goto(live_server.url + "/draw")
    assert response.status == 200
    assert page.locator("canvas.draw-canvas").is_visible()
    assert page.locator("canvas.draw-canvas").evaluate("c => getComputedStyle(c).touchAction") == (
        "none"
    )


@pytest.mark.django_db(transaction=True)
def test_free_draw_says_in_words_that_a_scribble_is_not_a_digit(
    page, live_server, worker_process, not_digit_model
):
    page.goto(live_server.url + "/draw")
    main = page.locator("#guess-main")
    state = page.locator("#free-draw")

    draw_digit(page, 0, lines=scribble_lines())
    expect(main).to_have_text(words.NOT_A_DIGIT)
    expect(state).to_have_attribute("data-state", "not-digit")
    expect(page.locator("#guess-sub")).to_contain_text("Try one digit, 0 to 9.")
    # The chart's "?" bar is the answer; no digit's bar is.
    assert page.locator(".chart-col.is-best").count() == 1
    assert page.locator("[data-not-digit]").get_attribute("class").count("is-best") == 1
    # "Not a digit" is an answer, whatever the threshold.
    for threshold in SLIDER_STEPS:
        page.locator("#threshold").fill(str(threshold))
        assert main.text_content() == words.NOT_A_DIGIT, threshold
    shoot(page, "free-draw-not-digit")

    page.click("[data-action='clear']")
    expect(main).to_have_text("Draw something first")  # blank stays blank
    draw_digit(page, 7)
    expect(main).to_have_text("Prediction = 7")

    page.set_viewport_size(PHONE_390)
    page.reload()
    draw_digit(page, 0, lines=CROSS_HATCH)
    expect(main).to_have_text(words.NOT_A_DIGIT)
    assert fits_the_width(page)
    shoot(page, "free-draw-not-digit")


@pytest.mark.django_db(transaction=True)
def test_the_threshold_line_follows_the_slider(page, live_server):
    """A CSS rule once set the line's own --threshold, so the slider never moved it."""
    page.goto(live_server.url + "/draw")
    line = page.locator(".chart-threshold")
    plot = page.locator(".chart-plot")

    def height_above_zero() -> float:
        """The line's height over the chart's bars, as a share of the axis (0 to 1)."""
        return page.evaluate(
            """() => {
                const box = (css) => document.querySelector(css).getBoundingClientRect();
                const line = box(".chart-threshold");
                const bar = box("[data-digit='0'] .chart-bar");
                return (bar.bottom - line.top) / bar.height;
            }"""
        )

    expect(line).to_be_visible()
    assert plot.count() == 1
    for threshold in (0.5, 0.75, 0.95):
        page.locator("#threshold").fill(str(threshold))
        assert height_above_zero() == pytest.approx(threshold, abs=0.03), threshold
    shoot(page, "free-draw-threshold")
