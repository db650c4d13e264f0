"""Whole games on one page, in Chromium: no page load between rounds, the round ends the
moment the server's model names the target, the bell, a reload, Back, a guest who signs
up at the end, at desktop and phone sizes. Screenshots go to var/screenshots/."""

import random
import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from guessgame.game import constants, services, words
from guessgame.game.models import Drawing, Game, is_guest
from guessgame.game.words import a_digit
from inference.client import WorkerUnavailable
from tests.e2e.conftest import (
    PHONE,
    PHONE_390,
    PHONE_SMALL,
    draw_digit,
    fits_the_width,
    shoot,
)
from tests.e2e.strokes import CROSS_HATCH, DIGIT_POLYLINES
from tests.factories import PASSWORD, probabilities_for, submit

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PLAY_URL = re.compile(r"/play/\d+$")
SUMMARY_URL = re.compile(r"/games/\d+$")


def i_know(digit: int) -> str:
    return f"Oh, I know, it's {a_digit(digit)}!"


def mark_the_page(page) -> None:
    """A flag in the page's JavaScript: gone if the browser ever loads another page."""
    page.evaluate("window.__onePage = true")


def still_the_same_page(page) -> bool:
    return page.evaluate("window.__onePage === true")


def start_round(page, number: int, *, key: bool = False) -> int:
    """Start the round from its card (a tap, or the Space key) and read its target."""
    game = page.locator("#game")
    expect(game).to_have_attribute("data-phase", "ready")
    expect(page.locator("#round-number")).to_have_text(str(number))
    expect(page.locator("#target")).to_have_text("?")  # not known before the round starts
    if key:
        page.keyboard.press("Space")
    else:
        page.click("#start")
    expect(game).to_have_attribute("data-phase", "playing")
    return int(page.locator("#target").text_content())


def play_round(page, number: int, *, key: bool = False, shots: str = "") -> bool:
    """Draw the target; True when the model recognised it (the round ended by itself),
    False when the player had to press Done."""
    target = start_round(page, number, key=key)
    draw_digit(page, target)
    state = page.locator("#game")
    try:
        expect(state).to_have_attribute("data-state", "got-it", timeout=8_000)
    except AssertionError:
        page.click("#done")
        return False
    expect(page.locator("#guess-main")).to_have_text(i_know(target))
    expect(page.locator("#announce")).to_have_text(i_know(target))
    expect(page.locator("#card")).to_be_visible()
    if shots:
        shoot(page, shots)
    return True


def play_a_whole_game(page, *, shots: str = "") -> int:
    recognised = 0
    for number in range(1, 11):
        recognised += play_round(
            page, number, key=number % 2 == 0, shots=shots if number == 1 else ""
        )
    return recognised


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("text=Log out")).to_be_visible()


def seeded_game(username: str, seed: int = 4) -> Game:
    player = get_user_model().objects.create_user(username, password=PASSWORD)
    return services.game_start(player=player, rng=random.Random(seed))  # targets 8, 2, ...


@pytest.mark.django_db(transaction=True)
def test_a_guest_plays_ten_rounds_on_one_page_then_saves_their_score(
    page, live_server, worker_process, active_model
):
    base = live_server.url
    page.goto(base + "/")
    shoot(page, "home")
    page.click("#play-now")
    page.wait_for_url(PLAY_URL)
    mark_the_page(page)
    shoot(page, "play-card")
    state_reads = []
    page.on("request", lambda r: state_reads.append(r.url) if "/state.json" in r.url else None)

    recognised = play_a_whole_game(page, shots="play-recognised")

    expect(page.locator("#summary h1")).to_have_text("Game over", timeout=20_000)
    assert still_the_same_page(page), "the game loaded another page"
    assert SUMMARY_URL.search(page.url)
    # Our hand-drawn digits are clear: the model should read nearly all of them.
    assert recognised >= 8
    # A recognised round's answer brings the next card: the game's state is asked for
    # at most after a round the player ended (and while its last drawing is judged).
    assert len(state_reads) <= 1 + 3 * (10 - recognised), state_reads
    tiles = page.locator(".round-tile")
    expect(tiles).to_have_count(10)
    expect(page.locator(".round-tile img.seen-img")).to_have_count(10)
    expect(page.locator(".round-tile .top-guesses").first).to_be_visible()
    game = Game.objects.get()
    assert game.is_finished and is_guest(game.player)
    expect(page.locator("#total")).to_have_text(str(game.score))
    assert game.score == sum(r.points for r in game.rounds.all())
    shoot(page, "gallery")

    page.click("#save-score")
    page.fill("#id_username", "e2e-player")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(SUMMARY_URL)
    expect(page.locator(".messages")).to_contain_text("Your games are saved")
    expect(page.locator(".lead")).to_contain_text("You are #1 on the leaderboard")
    assert Game.objects.get().player.username == "e2e-player"
    page.goto(base + "/leaderboard")
    expect(page.locator("tr.is-me")).to_contain_text("e2e-player")
    shoot(page, "leaderboard")
    page.goto(base + "/scoring")
    shoot(page, "scoring")


def play_as_a_guest(page, live_server, size: dict) -> None:
    """At this screen size, from the home page's Play now to a new game's page."""
    page.set_viewport_size(size)
    page.goto(live_server.url + "/")
    page.click("#play-now")
    page.wait_for_url(PLAY_URL)


@pytest.mark.django_db(transaction=True)
def test_a_whole_game_on_a_390_phone_needs_no_scrolling_and_no_submit(
    page, live_server, worker_process, active_model
):
    play_as_a_guest(page, live_server, PHONE_390)
    mark_the_page(page)
    assert page.locator("#submit").count() == 0

    for number in range(1, 11):
        target = start_round(page, number)
        assert page.evaluate("window.scrollY") == 0
        draw_digit(page, target, scroll=False)
        try:
            expect(page.locator("#game")).to_have_attribute("data-state", "got-it", timeout=8_000)
        except AssertionError:
            page.click("#done")
        if number == 1:
            shoot(page, "play-recognised", full_page=False)

    expect(page.locator("#summary h1")).to_have_text("Game over", timeout=20_000)
    assert still_the_same_page(page)
    assert fits_the_width(page)
    shoot(page, "gallery")


@pytest.mark.django_db(transaction=True)
def test_on_a_360_by_640_phone_the_live_guess_is_in_view_while_drawing(
    page, live_server, worker_process, active_model
):
    play_as_a_guest(page, live_server, PHONE_SMALL)
    shoot(page, "play-card", full_page=False)
    target = start_round(page, 1)

    # Half the digit, the pen still down: the player looks at the guess now.
    half = DIGIT_POLYLINES[target][0][: max(2, len(DIGIT_POLYLINES[target][0]) // 2)]
    draw_digit(page, target, lines=[half], scroll=False, up=False)
    page.wait_for_function(  # a function: a bare expression is eval'd, which the CSP forbids
        "() => document.querySelector('[data-canvas]').dataset.guessedVersion"
    )
    guess = page.locator("#guess").bounding_box()
    canvas = page.locator("canvas.draw-canvas").bounding_box()
    assert page.evaluate("window.scrollY") == 0
    assert guess["y"] >= 0 and guess["y"] + guess["height"] <= PHONE_SMALL["height"]
    assert canvas["y"] + canvas["height"] <= PHONE_SMALL["height"]
    expect(page.locator("#guess-main")).not_to_have_text("Your turn")
    shoot(page, "play-drawing", full_page=False)
    page.mouse.up()
    if page.locator("#game").get_attribute("data-phase") == "playing":
        draw_digit(page, target, scroll=False)
    expect(page.locator("#game")).to_have_attribute("data-state", "got-it")
    shoot(page, "play-recognised", full_page=False)
    assert fits_the_width(page)


@pytest.mark.django_db(transaction=True)
def test_the_bell_ends_a_round_with_the_last_drawing_and_the_next_card_follows(
    page, live_server, worker_process, not_digit_model
):
    game = seeded_game("bell-ringer", seed=3)  # a 1 first: lines across are nothing like it
    log_in(page, live_server.url, "bell-ringer")
    page.goto(f"{live_server.url}/play/{game.pk}")
    mark_the_page(page)
    start_round(page, 1)

    draw_digit(page, 0, lines=CROSS_HATCH)
    expect(page.locator("#guess-main")).to_have_text(words.NOT_A_DIGIT)
    expect(page.locator("#game")).to_have_attribute("data-state", "not-digit")
    shoot(page, "play-not-digit")
    expect(page.locator("#card-main")).to_have_text(
        "Time's up!", timeout=constants.ROUND_SECONDS * 1000 + 5000
    )
    expect(page.locator("#card-sub")).to_have_text(f"{words.NOT_A_DIGIT}.")
    shoot(page, "play-bell")

    expect(page.locator("#round-number")).to_have_text("2", timeout=10_000)
    expect(page.locator("#game")).to_have_attribute("data-phase", "ready")
    assert still_the_same_page(page)
    first = game.rounds.get(number=1)
    drawing = Drawing.objects.get(round=first)
    assert first.scored and first.points == 0 and drawing.not_digit
    assert game.rounds.get(number=2).started_at is None  # the next card waits for the player


@pytest.mark.django_db(transaction=True)
def test_an_empty_canvas_at_skip_moves_on_and_a_reload_mid_round_keeps_strokes_and_clock(
    page, live_server, worker_process, active_model
):
    game = seeded_game("reloader")  # targets 8, then 2
    log_in(page, live_server.url, "reloader")
    page.goto(f"{live_server.url}/play/{game.pk}")
    start_round(page, 1)
    page.click("#done")  # "Skip": nothing drawn
    expect(page.locator("#round-number")).to_have_text("2")
    assert game.rounds.get(number=1).points == 0

    assert start_round(page, 2) == 2
    started_at = game.rounds.get(number=2).started_at
    draw_digit(page, 2, lines=[[(68, 78), (82, 50), (112, 40)]])  # the top of a 2
    page.wait_for_timeout(1500)
    page.reload()

    expect(page.locator("#game")).to_have_attribute("data-phase", "playing")
    expect(page.locator("#target")).to_have_text("2")
    expect(page.locator("[data-canvas]")).to_have_attribute("data-strokes", "1")  # redrawn
    assert int(page.locator("#timer-value").text_content()) < constants.ROUND_SECONDS
    draw_digit(page, 2)
    expect(page.locator("#game")).to_have_attribute("data-state", "got-it")
    second = game.rounds.get(number=2)
    assert second.started_at == started_at and second.points > 0
    assert len(Drawing.objects.get(round=second).strokes) == 2  # the stroke from before the reload


@pytest.mark.django_db(transaction=True)
def test_back_never_starts_a_round_and_never_restarts_a_clock(page, live_server):
    game = seeded_game("back-and-forth")
    log_in(page, live_server.url, "back-and-forth")
    page.goto(f"{live_server.url}/play/{game.pk}")
    expect(page.locator("#game")).to_have_attribute("data-phase", "ready")
    page.goto(f"{live_server.url}/leaderboard")
    page.go_back()
    expect(page.locator("#game")).to_have_attribute("data-phase", "ready")
    assert not game.rounds.filter(started_at__isnull=False).exists()

    start_round(page, 1)
    started_at = game.rounds.get(number=1).started_at
    page.goto(f"{live_server.url}/scoring")
    page.go_back()
    expect(page.locator("#game")).to_have_attribute("data-phase", "playing")
    expect(page.locator("#round-number")).to_have_text("1")
    assert game.rounds.get(number=1).started_at == started_at
    assert not game.rounds.filter(number__gt=1, started_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_busy_model_is_said_plainly_and_the_sound_toggle_is_remembered(
    page, live_server, worker_process, active_model
):
    game = seeded_game("quiet-player")
    log_in(page, live_server.url, "quiet-player")
    page.goto(f"{live_server.url}/play/{game.pk}")
    voice = page.locator("#voice")
    expect(voice).to_have_attribute("aria-pressed", "true")
    voice.click()
    expect(voice).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(page.locator("#voice")).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("localStorage.getItem('guessgame.voice')") == "off"

    start_round(page, 1)
    busy = WorkerUnavailable()
    with mock.patch("inference.client.predict_strokes", side_effect=busy) as predict:
        draw_digit(page, 8)
        expect(page.locator("#guess-main")).to_have_text("The model is busy")
        expect(page.locator("#guess-sub")).to_contain_text("Asking again")
        shoot(page, "play-busy")
        calls = predict.call_count
        page.wait_for_timeout(2500)  # the page asks again by itself
        assert predict.call_count > calls
    expect(page.locator("#game")).to_have_attribute("data-state", "got-it")  # a worker is back


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
    log_in(page, live_server.url, "busy-player")
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


@pytest.mark.django_db(transaction=True)
def test_pages_fit_a_phone(page, live_server):
    page.set_viewport_size(PHONE)
    for path, name in [("/", "home"), ("/leaderboard", "leaderboard"), ("/scoring", "scoring"),
                       ("/accounts/login", "login"), ("/accounts/signup", "signup")]:  # fmt: skip
        page.goto(live_server.url + path)
        assert fits_the_width(page), name
        shoot(page, name)
