"""Headless Chromium (Debian's) driven by Playwright, against a live server and a real worker.

Never `playwright install`: the browser is /usr/bin/chromium. Tests here need the real
worker (live guesses and scoring) and the shipped model, so they are transactional.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT, need
from tests.e2e.strokes import DIGIT_POLYLINES, densify

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
PHONE_SMALL = {"width": 360, "height": 640}
"""A small phone: the live guess must be visible here without scrolling while drawing."""
PHONE_390 = {"width": 390, "height": 844}
"""A common phone of today (iPhone 12-15 class), in CSS pixels."""
SCREENSHOTS = ROOT / "var" / "screenshots"

# Playwright's sync API runs an event loop; Django must allow its ORM beside it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    need(os.path.exists(CHROMIUM), "Chromium is missing: apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh desktop-sized page; JavaScript errors fail the test."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(20_000)
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def shoot(page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot under var/screenshots/, named after the page and size: the whole page,
    or (``full_page=False``) what the screen shows without scrolling."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    size = (
        "desktop"
        if width >= 600
        else "phone"
        if (width, height) == (360, 740)
        else f"{width}x{height}"
    )
    path = SCREENSHOTS / f"{name}-{size}.png"
    page.wait_for_timeout(400)  # let the bar chart's 0.2 s transition finish
    page.screenshot(path=str(path), full_page=full_page)
    return path


def fits_the_width(page) -> bool:
    """Nothing sticks out sideways: the page needs no horizontal scrolling."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


PACE_MS = 12
"""Between two mouse moves of 10 canvas px: under 1 px/ms, a person's pace (the game
refuses strokes drawn faster than a hand can move)."""


def draw_digit(page, digit: int, lines=None, *, scroll: bool = True, up: bool = True) -> None:
    """Draw with the mouse along the digit's polylines, in canvas CSS pixels (225 square),
    at a person's pace. ``scroll=False`` draws where the canvas is (the test checks it is
    in view); ``up=False`` keeps the pen down at the end of the last stroke."""
    page.locator("[data-canvas][data-ready]").wait_for()
    canvas = page.locator("canvas.draw-canvas")
    if scroll:
        canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / 225
    lines = lines or DIGIT_POLYLINES[digit]
    for number, line in enumerate(lines, start=1):
        points = densify(line, step=10)
        x, y = points[0]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in points[1:]:
            page.wait_for_timeout(PACE_MS)
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        if up or number < len(lines):
            page.mouse.up()


def wait_for_live_guess(page) -> None:
    """Wait until the shown live guess answers the drawing as it is now, not an earlier one.

    The pad counts its edits (data-version); the live guesser marks the edit its last
    answer was for (data-guessed-version).
    """
    page.wait_for_function(
        """() => {
            const pad = document.querySelector("[data-canvas]");
            return pad.dataset.version && pad.dataset.version === pad.dataset.guessedVersion;
        }"""
    )
