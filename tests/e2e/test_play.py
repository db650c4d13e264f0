import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from guessgame.game import services
from guessgame.game.models import Game
from tests.e2e.conftest import PHONE, PHONE_390, draw_digit, fits_the_width, shoot
from tests.e2e.strokes import scribble_lines
from tests.game.conftest import PASSWORD, probabilities_for, submit

pytestmark = [pytest.mark.browser, pytest.mark.integration]

RESULT_URL = re.compile(r"/rounds/\d+/result$")


def sign_up(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/signup")
    shoot(page, "signup")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".messages")).to_contain_text(f"Welcome, {username}!")


def play_round(page, number: int) -> int:
    """Draw the round's target with the mouse, submit, and wait for the model's points."""
    expect(page.locator(".round-count")).to_contain_text(f"Round {number} of 10")
    target = int(page.locator("#play").get_attribute("data-target"))
    draw_digit(page, target)
    expect(page.locator("#submit")).to_be_enabled()
    if number == 1:
        expect(page.locator("#guess-main")).to_have_text("Got it!")
        shoot(page, "play")
    page.click("#submit")
    page.wait_for_url(RESULT_URL)
    points = page.locator("#points-value")
    expect(points).to_have_text(re.compile(r"^\+\d+$"))
    if number == 1:
        expect(page.locator("#verdict-main")).to_have_text(f"Recognised: {target}!")
        shoot(page, "round-result")
    return int(points.text_content())


@pytest.mark.django_db(transaction=True)
def test_a_player_signs_up_plays_ten_rounds_and_finds_themselves_on_the_leaderboard(
    page, live_server, worker_process, active_model
):
    base = live_server.url
    page.goto(base + "/")
    shoot(page, "home")
    sign_up(page, base, "e2e-player")
    page.click("text=Play a game")

    total = 0
    for number in range(1, 11):
        total += play_round(page, number)
        page.click("#next")

    expect(page.locator("h1")).to_have_text("Game over")
    expect(page.locator("#total")).to_have_text(str(total))
    assert page.locator(".round-tile").count() == 10
    assert page.locator(".round-tile img.drawing-img").count() == 10
    # Our hand-drawn digits are clear: the model should read nearly all of them.
    assert page.locator(".round-tile.is-recognised").count() >= 8
    expect(page.locator(".lead")).to_contain_text("You are #1 on the leaderboard")
    shoot(page, "summary")

    game = Game.objects.get(player__username="e2e-player")
    assert game.is_finished and game.score == total

    page.click("text=Leaderboard >> nth=-1")
    mine = page.locator("tr.is-me")
    expect(mine).to_contain_text("e2e-player")
    expect(mine.locator(".score")).to_have_text(str(total))
    shoot(page, "leaderboard")
    page.goto(base + "/players/e2e-player")
    expect(page.locator(".stat").first).to_contain_text("1")
    shoot(page, "profile")
    page.goto(base + "/scoring")
    shoot(page, "scoring")

    page.set_viewport_size(PHONE)
    for path, name in [("/", "home"), ("/leaderboard", "leaderboard"),
                       (f"/games/{game.pk}", "summary"), ("/players/e2e-player", "profile"),
                       ("/scoring", "scoring")]:  # fmt: skip
        page.goto(base + path)
        assert fits_the_width(page), name
        shoot(page, name)
    page.goto(base + "/")
    page.click("text=Play a game")
    target = int(page.locator("#play").get_attribute("data-target"))
    draw_digit(page, target)
    expect(page.locator("#submit")).to_be_enabled()
    shoot(page, "play")
    page.click("#submit")
    page.wait_for_url(RESULT_URL)
    expect(page.locator("#points-value")).to_have_text(re.compile(r"^\+\d+$"))
    shoot(page, "round-result")

    page.click("text=Log out")
    expect(page.locator("h1")).to_have_text("You are logged out")
    for path, name in [("/accounts/login", "login"), ("/accounts/signup", "signup")]:
        page.goto(base + path)
        assert fits_the_width(page), name
        shoot(page, name)


@pytest.mark.django_db(transaction=True)
def test_the_result_page_says_the_model_is_busy_until_a_worker_scores_the_drawing(
    page, live_server
):
    """No worker runs here: the drawing waits, and the page says so plainly."""
    player = get_user_model().objects.create_user("busy-player", password=PASSWORD)
    game = services.game_start(player=player)
    round = services.round_start(round=services.game_current_round(game=game))
    with mock.patch("guessgame.game.tasks.predict_drawing.delay"):  # the queue is down
        drawing = submit(round, player)
    page.goto(live_server.url + "/accounts/login")
    page.fill("#id_username", "busy-player")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/rounds/{round.pk}/result")
    verdict = page.locator("#verdict-main")

    expect(verdict).to_have_text("The model is looking…")
    expect(verdict).to_have_text("The model is busy", timeout=20_000)
    expect(page.locator("#verdict-sub")).to_contain_text("will be scored as soon as the model is")
    shoot(page, "round-result-busy")
    services.record_prediction(  # a worker is back: the page, still asking, shows the points
        drawing=drawing, probabilities=probabilities_for(round.target, 0.9), model_version=None
    )
    expect(verdict).to_have_text(f"Recognised: {round.target}!", timeout=20_000)
    expect(page.locator("#points-value")).to_have_text(re.compile(r"^\+[1-9]\d*$"))


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("text=Log out")).to_be_visible()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_scribble_in_a_round_is_told_it_is_not_a_digit_and_scores_nothing(
    page, live_server, worker_process, not_digit_model, viewport
):
    if viewport == "phone":
        page.set_viewport_size(PHONE_390)
    get_user_model().objects.create_user("scribbler", password=PASSWORD)
    log_in(page, live_server.url, "scribbler")
    page.click("text=Play a game")

    draw_digit(page, 0, lines=scribble_lines())
    expect(page.locator("#guess-main")).to_have_text("That doesn't look like a digit")
    expect(page.locator("#play")).to_have_attribute("data-state", "not-digit")
    target = page.locator("#play").get_attribute("data-target")
    expect(page.locator("#guess-sub")).to_have_text(f"Draw your {target} as one clear digit.")
    shoot(page, "play-not-digit")

    page.click("#submit")
    page.wait_for_url(RESULT_URL)
    expect(page.locator("#verdict-main")).to_have_text("That doesn't look like a digit")
    expect(page.locator("#verdict-sub")).to_contain_text("sure it is not a digit: no points")
    expect(page.locator("#points-value")).to_have_text("+0")
    assert page.locator("[data-not-digit]").get_attribute("class").count("is-best") == 1
    assert fits_the_width(page)
    shoot(page, "round-result-not-digit")

    game = Game.objects.get(player__username="scribbler")
    assert game.score == 0
    page.goto(f"{live_server.url}/games/{game.pk}")
    expect(page.locator(".round-tile").first).to_contain_text("not a digit")
    shoot(page, "summary-not-digit")
