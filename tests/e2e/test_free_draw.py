import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from inference.preprocess import preprocess_png
from tests.e2e.conftest import PHONE, draw_digit, shoot, wait_for_live_guess

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# An "x": not a digit, so the model is less sure of it (a 4 at about 0.9).
UNSURE_SHAPE = [[(60, 50), (165, 175)], [(165, 50), (60, 175)]]
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

    draw_digit(page, 0, lines=UNSURE_SHAPE)
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
    assert 0.5 <= confidence < 0.95, f"the model is too sure or unsure of an x: {confidence}"

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
