"""The review queue in headless Chromium: keyboard decisions reach the database."""

from __future__ import annotations

import re

import pytest

from guessgame.game.models import Drawing
from guessgame.review.models import ReviewDecision
from tests.e2e.conftest import PHONE, fits_the_width, shoot
from tests.factories import DrawingFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
Review = Drawing.Review
PASSWORD = "a long enough password"


def test_a_reviewer_works_the_queue_with_the_keyboard(page, live_server):
    from playwright.sync_api import expect

    staff = StaffFactory(username="reviewer")
    first = DrawingFactory(label=3, drawn_digit=8, predicted_digit=8, confidence=0.2)
    second = DrawingFactory(label=4, wrong=True, confidence=0.3)
    third = DrawingFactory(label=5, wrong=True, confidence=0.5)

    page.goto(f"{live_server.url}/admin/login/?next=/staff/review/%3Fmode%3Dleast_confident")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#review[data-ready]").wait_for()  # the module script is listening
    expect(page.locator(".review-card")).to_have_count(3)
    expect(page.locator(".review-progress")).to_contain_text("0 of 3 reviewed")
    cards = {d.pk: page.locator(f'.review-card[data-id="{d.pk}"]') for d in (first, second, third)}

    page.keyboard.press("8")
    expect(cards[first.pk]).to_have_class("review-card relabelled")
    expect(cards[first.pk].locator("[data-state]")).to_have_text("relabelled to 8")
    page.keyboard.press("a")
    expect(cards[second.pk]).to_have_class("review-card approved")
    expect(page.locator(".review-progress")).to_contain_text("2 of 3 reviewed")

    page.keyboard.press("u")
    expect(cards[second.pk]).to_have_class("review-card current")
    expect(page.locator(".review-progress")).to_contain_text("1 of 3 reviewed")

    page.keyboard.press("r")
    expect(cards[second.pk]).to_have_class("review-card rejected")
    expect(page.locator(".review-progress")).to_contain_text("2 of 3 reviewed")

    expect(page.locator("[data-large-id]")).to_have_text(str(third.pk))
    page.keyboard.press("s")
    expect(cards[third.pk]).to_have_class(re.compile(r"\bskipped\b"))
    expect(cards[third.pk].locator("[data-state]")).to_contain_text("skipped")

    shoot(page, "staff-review-queue")
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    shoot(page, "staff-review-queue")

    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert (first.review_status, first.effective_label) == (Review.RELABELLED, 8)
    assert second.review_status == Review.REJECTED
    assert third.review_status == Review.UNREVIEWED
    assert ReviewDecision.objects.filter(reviewer=staff).count() == 4  # 8, A, undo, R


def test_the_dashboard_and_model_pages_load_without_errors(page, live_server):
    from playwright.sync_api import expect

    staff = StaffFactory(username="analyst")
    DrawingFactory.create_batch(12)
    DrawingFactory.create_batch(4, wrong=True)

    page.goto(f"{live_server.url}/admin/login/?next=/staff/dashboard/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("svg.chart")).to_have_count(3)
    expect(page.locator("table.confusion td.cm-diagonal")).to_have_count(10)
    shoot(page, "staff-dashboard")
    page.goto(f"{live_server.url}/staff/models/")
    expect(page.locator("h1")).to_have_text("Model versions")
    shoot(page, "staff-models")

    page.set_viewport_size(PHONE)
    for path, name in [
        ("/staff/dashboard/", "staff-dashboard"),
        ("/staff/models/", "staff-models"),
    ]:
        page.goto(live_server.url + path)
        shoot(page, name)
        assert fits_the_width(page), name
