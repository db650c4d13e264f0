import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from inference.preprocess import preprocess_png
from tests.e2e.conftest import PHONE, draw_digit, shoot

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# A "u": the model reads it as a 0, but not very surely (about 0.8).
UNSURE_SHAPE = [[(70, 50), (75, 160), (112, 185), (150, 160), (155, 50)]]


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
    expect(page.locator("#free-draw")).to_have_attribute("data-state", re.compile("guess|unsure"))
    page.locator("#threshold").fill("0.95")
    assert main.text_content() == "Please draw again"
    assert page.locator("#threshold-value").text_content() == "0.95"
    page.locator("#threshold").fill("0.5")
    assert main.text_content().startswith("Prediction = ")

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
