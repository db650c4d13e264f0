"""Load test of guessgame: players signing in and playing rounds, and API clients.

Run by bench/bench_load.py (which starts the stack and creates the accounts), or by hand
against a running `make serve` whose database holds the accounts:

    LOAD_ACCOUNTS=200 LOAD_PASSWORD=... .venv/bin/locust -f bench/load/locustfile.py \
        --headless -u 250 -r 10 --run-time 40s --host http://127.0.0.1:8000

Environment:
    LOAD_ACCOUNTS      how many accounts load-0000... exist (players share them round-robin)
    LOAD_PASSWORD      their password
    LOAD_SCORE_WAIT    seconds a player polls result.json before giving up on a round
    LOAD_SAMPLES_OUT   where to write every request and the submit-to-scored times (JSON),
                       optional: bench_load.py computes its figures from them

Requests are named by route (/play/[id]/state.json, /rounds/[id]/guess, ...) so the
stats group.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
import time
from pathlib import Path

from locust import HttpUser, between, events, task

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from inference.canvas import render_strokes  # noqa: E402
from tests.e2e.strokes import digit_strokes  # noqa: E402

# ---------------------------------------------------------------------------
# Settings of the players
# ---------------------------------------------------------------------------
ACCOUNTS = int(os.environ.get("LOAD_ACCOUNTS", "200"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "load-password")
SCORE_WAIT_SECONDS = float(os.environ.get("LOAD_SCORE_WAIT", "8"))
SCORE_POLL_SECONDS = 0.25
ROUNDS_PER_GAME = 10
LIVE_GUESSES = 3
"""Live guesses per round, sent as the drawing grows (live.js sends one at each pen-up
and at most one every 600 ms while drawing; a person draws for a second or two)."""
GUESS_PAUSE_SECONDS = (0.3, 0.8)

GAME_URL = re.compile(r"/play/(\d+)$")


# ---------------------------------------------------------------------------
# Drawings, rendered once: the full digit, and the digit as it grows (live guesses)
# ---------------------------------------------------------------------------
def _partial(strokes: list, fraction: float) -> list:
    """The first ``fraction`` of the strokes' points, as a drawing in progress."""
    total = sum(len(stroke[0]) for stroke in strokes)
    keep, partial = max(2, int(total * fraction)), []
    for xs, ys, ts in strokes:
        if keep <= 0:
            break
        partial.append([xs[:keep], ys[:keep], ts[:keep]])
        keep -= len(xs)
    return partial


STROKES = {digit: digit_strokes(digit) for digit in range(10)}
FINAL_PNG = {digit: render_strokes(strokes) for digit, strokes in STROKES.items()}
GROWING_STROKES = {
    digit: [_partial(strokes, (step + 1) / (LIVE_GUESSES + 1)) for step in range(LIVE_GUESSES)]
    for digit, strokes in STROKES.items()
}

_account_numbers = itertools.count()
_scoring = {"scored_ms": [], "gave_up": 0, "rounds": 0, "recognised_live": 0}
_requests: list[tuple] = []


@events.request.add_listener
def keep_request(request_type, name, response_time, exception, **kwargs) -> None:
    """Every request with its end time (s), so a phase can be cut into time windows."""
    error = None if exception is None else f"{type(exception).__name__}: {exception}"[:160]
    _requests.append(
        (round(time.time(), 3), f"{request_type} {name}", round(response_time, 1), error)
    )


@events.quit.add_listener
def write_samples(**kwargs) -> None:
    """Written at quit, after the last request (locust's own CSV can miss the last ones)."""
    out = os.environ.get("LOAD_SAMPLES_OUT")
    if out:
        Path(out).write_text(json.dumps({"requests": _requests, "scoring": _scoring}) + "\n")


# ---------------------------------------------------------------------------
# The users
# ---------------------------------------------------------------------------
class Player(HttpUser):
    """Signs in once, then plays whole games: ten rounds of draw, guess, submit, result."""

    weight = 4
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.username = f"load-{next(_account_numbers) % ACCOUNTS:04d}"
        self.client.headers["Referer"] = self.host + "/"
        self.client.get("/accounts/login", name="/accounts/login")
        with self.client.post(
            "/accounts/login",
            data={
                "csrfmiddlewaretoken": self._csrf(),
                "username": self.username,
                "password": PASSWORD,
                "next": "/",
            },
            headers=self._csrf_header(),
            name="/accounts/login",
            catch_response=True,
        ) as response:
            if "/accounts/login" in response.url:
                response.failure(f"login refused for {self.username}")

    def _csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def _csrf_header(self) -> dict:
        return {"X-CSRFToken": self._csrf()}

    @task
    def play_a_game(self) -> None:
        response = self.client.post(
            "/play/new", headers=self._csrf_header(), name="/play/new", allow_redirects=False
        )
        found = GAME_URL.search(response.headers.get("Location", ""))
        if response.status_code != 302 or not found:
            return
        game_id = found.group(1)
        for _ in range(ROUNDS_PER_GAME):
            if not self.play_a_round(game_id):
                return

    def play_a_round(self, game_id: str) -> bool:
        """One round as game.js plays it; False when the game is over or broken.

        Start the round, send live guesses as the drawing grows (strokes as JSON, the
        server draws them); a guess that names the target ends the round; else the
        whole drawing is sent and the worker scores it.
        """
        state = self.client.get(f"/play/{game_id}/state.json", name="/play/[id]/state.json")
        if state.status_code != 200 or not state.json().get("round"):
            return False  # the game is over, or an error already counted
        started = self.client.post(
            state.json()["round"]["start_url"], headers=self._csrf_header(),
            name="/rounds/[id]/start",
        )  # fmt: skip
        if started.status_code != 200:
            return False
        round_ = started.json()
        target = round_["target"]
        for strokes in GROWING_STROKES[target]:
            time.sleep(random.uniform(*GUESS_PAUSE_SECONDS))
            guess = self.client.post(
                round_["guess_url"], json={"strokes": strokes}, headers=self._csrf_header(),
                name="/rounds/[id]/guess",
            )  # fmt: skip
            if guess.status_code == 200 and guess.json().get("recognised"):
                _scoring["recognised_live"] += 1
                return True
        time.sleep(STROKES[target][-1][2][-1] / 1000)  # the rest of the drawing
        with self.client.post(
            round_["submit_url"],
            json={"strokes": STROKES[target]},
            headers=self._csrf_header(),
            name="/rounds/[id]/submit",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"submit answered {response.status_code}")
                return True
        self.wait_for_score(str(round_["id"]))
        return True

    def wait_for_score(self, round_id: str) -> None:
        """Poll result.json like result.js until the worker has scored the round."""
        submitted = time.monotonic()
        _scoring["rounds"] += 1
        while time.monotonic() - submitted < SCORE_WAIT_SECONDS:
            time.sleep(SCORE_POLL_SECONDS)
            response = self.client.get(
                f"/rounds/{round_id}/result.json", name="/rounds/[id]/result.json"
            )
            if response.status_code == 200 and response.json().get("scored"):
                _scoring["scored_ms"].append(round((time.monotonic() - submitted) * 1000))
                return
        _scoring["gave_up"] += 1


class ApiClient(HttpUser):
    """A program calling the public prediction API with raw PNG bodies."""

    weight = 1
    wait_time = between(0.2, 1.0)

    @task
    def predict(self) -> None:
        self.client.post(
            "/api/v1/predict",
            data=FINAL_PNG[random.randrange(10)],
            headers={"Content-Type": "image/png"},
            name="/api/v1/predict",
        )
