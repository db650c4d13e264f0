"""How many players can draw at once: the first version's game against today's.

Starts two `make serve` stacks through the launcher the tests use (tests/serve_stack.py),
each on a free loopback port with its own var dir (SQLite, the embedded Redis):

- before: the game's first version (BASELINE_COMMIT, checked out with `git archive`
  into var/bench-players/baseline): one page per round. A signed-up player loads the
  play page (which starts the round's clock), draws the target while the page asks for
  a live guess every 150 ms as long as the drawing changes (canvas.js's ``throttle`` at
  LIVE_GUESS_DEBOUNCE_MS, a PNG each time, to ``POST /guess``), looks at the guess and
  taps Submit (the PNG and its strokes), lands on the result page, which polls
  ``result.json`` until the worker has scored it (500 ms, then 1.5x longer each time),
  reads it and taps "Next round": the play page again.
- after: this checkout. A guest plays the one-page game as game.js does: start the
  round, draw (strokes as JSON with their timings; the server draws them), a live guess
  at each pen-up and at most one every LIVE_GUESS_INTERVAL_MS while a stroke goes on,
  never the same drawing twice (static/js/live.js); the round ends when the model
  recognises the drawing (its answer brings the next card), or the player presses Done;
  then the next card.

Both draw the same digits at a person's pace. The number of players steps up, each step
run on both stacks in turn (so a change in what else the machine does hits both alike),
until the live guesses' p95 latency passes GUESS_P95_MS (or errors pass 1%); a flow's
capacity is the most players that stayed within it, and the report gives the ratio
after/before, with each flow's live guesses and requests per player per second (what a
player costs the server).

The load generator is gevent with geventhttpclient (from locust, in the bench extra):
one greenlet per player, a fraction of a millisecond of CPU per request, on the same
machine as the servers.

    .venv/bin/python bench/bench_players.py [--step-seconds 20] [--min-players N]
        [--max-players 400] [--threads N] [--postgres]

Writes bench/results/players.json. Not a test: the figures depend on what else the
machine is doing.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import requests
from geventhttpclient import HTTPClient
from geventhttpclient.url import URL

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reports import write_report  # noqa: E402
from guessgame.game.constants import LIVE_GUESS_INTERVAL_MS  # noqa: E402
from inference.canvas import render_strokes  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.e2e.strokes import digit_strokes  # noqa: E402
from tests.serve_stack import serve_env, start_serve, stop_with_ctrl_c, wait_until_healthy  # noqa: E402

# ---------------------------------------------------------------------------
# Settings of the run
# ---------------------------------------------------------------------------
VAR_DIR = ROOT / "var" / "bench-players"
BASELINE_COMMIT = "e41bc80138b2ed52eb604e8a64fbd4c6c0469900"
"""The game's first version: one page per round, Submit, a result page (issue 12's "today")."""
LOOK_MS = 600
"""The first version: the drawing is done, the player reads the live guess, taps Submit."""
RESULTS = ROOT / "bench" / "results" / "players.json"
GUESS_P95_MS = 150
"""The live guess must come back within this, for 95% of guesses, to feel live."""
MAX_ERROR_RATE = 0.01
OLD_PAGE_INTERVAL_MS = 150
"""The first version's page: LIVE_GUESS_DEBOUNCE_MS in guessgame/game/constants.py,
used by throttle() in static/js/canvas.js for every change of the drawing."""
PACE = 3.0
"""digit_strokes draws at 0.75 px/ms; a person drawing a digit is about this much slower
(a digit in 0.6 to 1.8 s)."""
PEN_LIFT_MS = 250
"""Between two strokes of a digit."""
REACTION_MS = 400
"""From the round's start to the first stroke: reading the card."""
CELEBRATION_MS = 1800
"""The page shows a recognised round this long before the next card."""
DONE_AFTER_MS = 1200
"""A drawing the model has not recognised: the player looks, then presses Done."""
ARRIVALS_SECONDS = 4
"""A step's players arrive at random moments within this, about one round of the one-page
game. Until run 12 they all arrived within half a second, and their rounds, the same
length each, then kept in step: bursts of a whole crowd's round starts and recognitions
a few seconds apart that no crowd of people makes (README, "Players at once")."""
WARM_UP_SECONDS = 4
"""After the last arrival, seconds not measured (caches warming, rounds under way)."""
STEPS = (
    2, 4, 6, 8, 10, 14, 20, 28, 34, 40, 48, 56, 68, 80, 96, 110, 120, 135, 150, 175, 200,
    280, 400,
)  # fmt: skip
"""About 1.15x apart from 28 players on: the capacity ratio is read to about 15%."""
MOVE_EVERY_MS = 16
"""A pointer move per frame while drawing: each one changes the drawing."""


# ---------------------------------------------------------------------------
# A drawing as the page sees it: pointer moves over time, and the bodies to send
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Drawing:
    """A digit drawn in real time: ``events`` are (ms from the first stroke, kind, prefix)
    with kind "move" (the drawing changed) or "up" (a stroke ended); ``bodies[prefix]``
    is the JSON the page sends for the drawing so far, timed from the round's start."""

    events: list[tuple[float, str, int]]
    bodies: list[bytes]
    duration_ms: float
    pngs: list[bytes] = field(default_factory=list)
    """The first version's page sent the canvas as a PNG: ``pngs[prefix]``."""


def record_drawing(digit: int) -> Drawing:
    """The digit's strokes at a person's pace, sampled once a frame like pointer events."""
    strokes, t0 = [], 0.0
    for xs, ys, ts in digit_strokes(digit):
        ts = [t0 + (t - ts[0]) * PACE for t in ts]
        strokes.append((xs, ys, ts))
        t0 = ts[-1] + PEN_LIFT_MS
    events, bodies, sent = [], [], []
    for xs, ys, ts in strokes:
        last_frame = -math.inf
        for i in range(len(xs)):
            if i < len(xs) - 1 and ts[i] - last_frame < MOVE_EVERY_MS:
                continue
            last_frame = ts[i]
            current = [[xs[: i + 1], ys[: i + 1], [REACTION_MS + t for t in ts[: i + 1]]]]
            body = json.dumps({"strokes": [*sent, *current]}).encode()
            bodies.append(body)
            events.append((ts[i], "move", len(bodies) - 1))
        sent.append([xs, ys, [REACTION_MS + t for t in ts]])
        events.append((ts[-1], "up", len(bodies) - 1))
    pngs = [render_strokes(json.loads(body)["strokes"]) for body in bodies]
    return Drawing(events=events, bodies=bodies, duration_ms=strokes[-1][2][-1], pngs=pngs)


DRAWINGS = {digit: record_drawing(digit) for digit in range(10)}


# ---------------------------------------------------------------------------
# When the page asks: the two policies, as in the JavaScript
# ---------------------------------------------------------------------------
class Guesser:
    """One request at a time; the newest drawing goes when the last answer is back."""

    def __init__(self, player: Player) -> None:
        self.player = player
        self.in_flight = False
        self.again = False
        self.answered: int | None = None
        self.current = 0  # the drawing as it is now (a prefix index)
        self.won = False

    def send(self) -> None:
        if self.won:
            return
        if self.in_flight:
            self.again = True
            return
        if self.current == self.answered:  # the same drawing twice: only the old page did
            return
        self.in_flight, self.again = True, False
        prefix = self.current
        gevent.spawn(self._ask, prefix)

    def _ask(self, prefix: int) -> None:
        answer = self.player.guess(prefix)
        self.in_flight = False
        self.answered = prefix if self.dedupe else None
        if answer and answer.get("recognised"):
            self.won = True
            self.player.next_state = answer.get("next")
            return
        if self.again:
            self.send()


class OldPage(Guesser):
    """throttle(guess, 150): a guess every 150 ms while changes keep coming."""

    dedupe = False

    def __init__(self, player: Player) -> None:
        super().__init__(player)
        self.timer = None
        self.pending = False

    def changed(self, prefix: int, kind: str) -> None:
        self.current = prefix
        self.pending = True
        if self.timer is None:
            self.timer = gevent.spawn_later(OLD_PAGE_INTERVAL_MS / 1000, self._run)

    def _run(self) -> None:
        self.timer = None
        if self.pending:
            self.pending = False
            self.send()
            self.timer = gevent.spawn_later(OLD_PAGE_INTERVAL_MS / 1000, self._run)

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.kill(block=False)
        self.won = True


class NewPage(Guesser):
    """LiveGuesser: at each pen-up at once, while drawing at most every interval."""

    dedupe = True

    def __init__(self, player: Player) -> None:
        super().__init__(player)
        self.timer = None

    def changed(self, prefix: int, kind: str) -> None:
        self.current = prefix
        if kind == "up":
            if self.timer is not None:
                self.timer.kill(block=False)
                self.timer = None
            self.send()
        elif self.timer is None:
            self.timer = gevent.spawn_later(LIVE_GUESS_INTERVAL_MS / 1000, self._fire)

    def _fire(self) -> None:
        self.timer = None
        self.send()

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.kill(block=False)
        self.won = True


# ---------------------------------------------------------------------------
# A player
# ---------------------------------------------------------------------------
@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    guesses: int = 0
    requests: int = 0
    rounds: int = 0
    recognised: int = 0
    measuring: bool = False

    def reset(self) -> None:
        self.latencies_ms, self.errors, self.guesses, self.requests = [], 0, 0, 0
        self.rounds = self.recognised = 0


class Player:
    """A guest with a game, playing rounds until told to stop."""

    def __init__(self, base: str, cookies: dict, stats: Stats, policy: type[Guesser]) -> None:
        self.url = URL(base)
        self.http = HTTPClient.from_url(self.url, concurrency=2, network_timeout=30)
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.headers = {
            "Cookie": cookie,
            "X-CSRFToken": cookies["csrftoken"],
            "Referer": base + "/",
            "Accept": "application/json",
        }
        self.stats = stats
        self.policy = policy
        self.game_url: str | None = None
        self.round: dict | None = None
        self.next_state: dict | None = None
        """The game as a recognised guess left it: the next card without state.json."""
        self.running = True

    def request(self, method: str, path: str, body: bytes | None = None, content_type=None):
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        if self.stats.measuring:
            self.stats.requests += 1
        response = self.http.request(method, path, body=body or b"", headers=headers)
        data = response.read()
        return response.status_code, data, response

    def guess_request(self, prefix: int) -> tuple[str, bytes, str | None]:
        """Where the page sends the drawing so far, and how: the round's strokes as JSON."""
        return self.round["guess_url"], DRAWINGS[self.round["target"]].bodies[prefix], None

    def new_game(self) -> None:
        status, _, response = self.request("POST", "/play/new")
        if status != 302:
            raise RuntimeError(f"POST /play/new answered {status}")
        location = response.get("location") or ""
        self.game_url = location if location.startswith("/") else URL(location).path

    def guess(self, prefix: int) -> dict | None:
        started = time.perf_counter()
        try:
            status, data, _ = self.request("POST", *self.guess_request(prefix))
        except Exception:  # a dropped connection counts as an error
            status, data = 0, b""
        elapsed = (time.perf_counter() - started) * 1000
        if self.stats.measuring:
            self.stats.guesses += 1
            if status == 200:
                self.stats.latencies_ms.append(elapsed)
            else:
                self.stats.errors += 1
        return json.loads(data) if status == 200 else None

    def play(self) -> None:
        while self.running:
            try:
                self.play_one()
            except Exception as error:  # a dropped connection: count it, go on
                print(f"player: {error!r}", file=sys.stderr)
                gevent.sleep(1)

    def play_one(self) -> None:
        """One round: the game's state (from the last recognised guess, as game.js takes
        it, or asked for), start, draw; a new game when this one is over."""
        if self.game_url is None:
            self.new_game()
        state, self.next_state = self.next_state, None
        if state is None:
            status, data, _ = self.request("GET", self.game_url + "/state.json")
            state = json.loads(data) if status == 200 else {}
        if not state.get("round"):
            self.game_url = None
            return
        status, data, _ = self.request("POST", state["round"]["start_url"])
        if status != 200:
            gevent.sleep(1)
            return
        self.round = json.loads(data)
        self.play_round()

    def draw(self, drawing: Drawing, guesser: Guesser) -> None:
        """The digit at a person's pace, the page told of every change."""
        began = time.perf_counter()
        gevent.sleep(REACTION_MS / 1000)
        for at_ms, kind, prefix in drawing.events:
            wait = (began + (REACTION_MS + at_ms) / 1000) - time.perf_counter()
            if wait > 0:
                gevent.sleep(wait)
            if guesser.won or not self.running:
                break
            guesser.changed(prefix, kind)

    def play_round(self) -> None:
        drawing = DRAWINGS[self.round["target"]]
        guesser = self.policy(self)
        self.draw(drawing, guesser)
        deadline = time.perf_counter() + DONE_AFTER_MS / 1000
        while not guesser.won and time.perf_counter() < deadline and self.running:
            gevent.sleep(0.05)
        won = guesser.won
        guesser.stop()
        if self.stats.measuring:
            self.stats.rounds += 1
            self.stats.recognised += won
        if won:
            gevent.sleep(CELEBRATION_MS / 1000)
        else:
            self.request("POST", self.round["submit_url"], drawing.bodies[-1])
            gevent.sleep(CELEBRATION_MS / 1000)


def multipart(fields: dict[str, tuple[str | None, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body as the browser's FormData sends it, and its type."""
    boundary = "----guessgame-bench-boundary"
    parts = []
    for name, (filename, data, content_type) in fields.items():
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        parts.append(f"{head}Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class FirstVersionPlayer(Player):
    """A signed-up player on the first version's pages (the module docstring's "before")."""

    def guess_request(self, prefix: int) -> tuple[str, bytes, str | None]:
        png = DRAWINGS[self.round["target"]].pngs[prefix]
        return ("/guess", *multipart({"image": ("drawing.png", png, "image/png")}))

    def play_one(self) -> None:
        """Load the play page (it starts the round), play it; a new game after the last."""
        if self.game_url is None:
            self.new_game()
        status, data, _ = self.request("GET", self.game_url)
        page = data.decode(errors="replace")
        if status != 200 or 'id="play"' not in page:  # the game is over: its summary
            self.game_url = None
            return
        self.round = {
            "target": int(_attribute(page, "data-target")),
            "submit_url": _attribute(page, "data-submit-url"),
        }
        self.play_round()

    def play_round(self) -> None:
        drawing = DRAWINGS[self.round["target"]]
        guesser = OldPage(self)
        self.draw(drawing, guesser)
        gevent.sleep(LOOK_MS / 1000)
        guesser.stop()
        strokes = json.dumps(json.loads(drawing.bodies[-1])["strokes"]).encode()
        body, content_type = multipart(
            {
                "image": ("drawing.png", drawing.pngs[-1], "image/png"),
                "strokes": (None, strokes, "application/json"),
            }
        )
        status, data, _ = self.request("POST", self.round["submit_url"], body, content_type)
        if self.stats.measuring:
            self.stats.rounds += 1
        if status != 201:
            gevent.sleep(1)
            return
        result_page = json.loads(data)["result_url"]
        self.request("GET", result_page)
        delay = 0.5
        while self.running:  # result.js: poll until the worker has scored it
            status, data, _ = self.request("GET", result_page + ".json")
            if status == 200 and json.loads(data).get("status") != "pending":
                break
            gevent.sleep(delay)
            delay = min(delay * 1.5, 5.0)
        gevent.sleep(CELEBRATION_MS / 1000)  # reads the result, taps "Next round"


def _attribute(page: str, name: str) -> str:
    """The value of the first ``name="..."`` attribute in an HTML page."""
    start = page.index(f'{name}="') + len(name) + 2
    return page[start : page.index('"', start)]


def sign_up_players(base: str, first: int, end: int) -> list[dict]:
    """Cookies of players ``first`` to ``end - 1`` of the first version (it had no
    guests): signed up, each with a game."""
    players = []
    for number in range(first, end):
        session = requests.Session()
        session.get(base + "/accounts/signup", timeout=30)
        password = "bench-players-9f3k"
        response = session.post(
            base + "/accounts/signup",
            data={"username": f"bench{number}", "password1": password, "password2": password},
            headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": base + "/"},
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        assert response.status_code == 302, response.text[:300]
        response = session.post(
            base + "/play/new",
            headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": base + "/"},
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        assert response.status_code == 302, response.text[:300]
        players.append(session.cookies.get_dict())
    return players


def sign_in_guests(base: str, first: int, end: int) -> list[dict]:
    """Cookies of ``end - first`` guests, each with a game (as a browser gets by pressing
    Play)."""
    guests = []
    for _ in range(first, end):
        session = requests.Session()
        session.get(base + "/", timeout=30)
        token = session.cookies["csrftoken"]
        response = session.post(
            base + "/play/new", headers={"X-CSRFToken": token, "Referer": base + "/"},
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        assert response.status_code == 302, response.text[:300]
        guests.append(session.cookies.get_dict())
    return guests


# ---------------------------------------------------------------------------
# A step: N players for a while
# ---------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Flow:
    """One side of the comparison: a stack, how its players sign in and play; players are
    signed in as the steps need them (a sign-up hashes a password: a second each)."""

    base: str
    sign_in: Callable[[str, int, int], list[dict]]
    player: type[Player]
    guesser: type[Guesser]
    cookies: list[dict] = field(default_factory=list)

    def players_cookies(self, count: int) -> list[dict]:
        if len(self.cookies) < count:
            self.cookies += self.sign_in(self.base, len(self.cookies), count)
        return self.cookies[:count]


def run_step(flow: Flow, players: int, seconds: float) -> dict:
    stats = Stats()
    crowd = [
        flow.player(flow.base, cookies, stats, flow.guesser)
        for cookies in flow.players_cookies(players)
    ]
    # Each player arrives at a moment of their own within ARRIVALS_SECONDS, as people do.
    greenlets = [gevent.spawn_later(random.uniform(0, ARRIVALS_SECONDS), p.play) for p in crowd]
    gevent.sleep(ARRIVALS_SECONDS + WARM_UP_SECONDS)
    stats.reset()
    stats.measuring = True
    started = time.perf_counter()
    gevent.sleep(seconds)
    measured = time.perf_counter() - started
    stats.measuring = False
    for player in crowd:
        player.running = False
    gevent.joinall(greenlets, timeout=10)
    gevent.killall([g for g in greenlets if not g.dead], block=False)
    for player in crowd:
        player.http.close()
    p95 = percentile(stats.latencies_ms, 0.95)
    error_rate = stats.errors / stats.guesses if stats.guesses else 0.0
    return {
        "players": players,
        "guesses": stats.guesses,
        "guesses_per_second": round(stats.guesses / measured, 1),
        "guesses_per_player_second": round(stats.guesses / measured / players, 2),
        "requests_per_player_second": round(stats.requests / measured / players, 2),
        "p50_ms": round(percentile(stats.latencies_ms, 0.5) or 0, 1),
        "p95_ms": round(p95 or 0, 1),
        "errors": stats.errors,
        "rounds": stats.rounds,
        "recognised": stats.recognised,
        "within_target": p95 is not None and p95 <= GUESS_P95_MS and error_rate <= MAX_ERROR_RATE,
    }


def capacities(flows: dict[str, Flow], seconds: float, most: int, least: int = 0) -> dict:
    """Step the players up, each step run with both flows one after the other (so a
    change in what else the machine does hits both alike), until a flow misses the
    target twice in a row (one noisy step on a shared machine does not end its search);
    a flow's capacity is the most players that held."""
    found = {name: {"capacity": 0, "steps": [], "misses": 0} for name in flows}
    for players in (n for n in STEPS if least <= n <= most):
        searching = [name for name in flows if found[name]["misses"] < 2]
        if not searching:
            break
        for name in searching:
            step = run_step(flows[name], players, seconds)
            print(f"  {name:6} {json.dumps(step)}", flush=True)
            result = found[name]
            result["steps"].append(step)
            if step["within_target"]:
                result["capacity"], result["misses"] = players, 0
            else:
                result["misses"] += 1
    for result in found.values():
        del result["misses"]
    return found


def baseline_checkout(directory: Path) -> Path:
    """BASELINE_COMMIT's files in ``directory`` (git archive), using this checkout's venv."""
    directory.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", BASELINE_COMMIT], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    (directory / ".venv").symlink_to(ROOT / ".venv")
    return directory


PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def fresh_postgres_database(name: str) -> str:
    """DATABASE_URL of a new, empty PostgreSQL database ``name`` for the run."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step-seconds", type=float, default=20, help="Measured seconds a step.")
    parser.add_argument("--max-players", type=int, default=400, help="Stop the steps here.")
    parser.add_argument(
        "--min-players",
        type=int,
        default=0,
        help="Start the steps here (a quicker run, when both flows are known to hold below).",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where to write the JSON.")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="GUNICORN_THREADS for both stacks (default: each stack's own: 32 before, 4 after).",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="Fresh PostgreSQL databases on 127.0.0.1:5432 instead of SQLite.",
    )
    args = parser.parse_args()

    shutil.rmtree(VAR_DIR, ignore_errors=True)
    VAR_DIR.mkdir(parents=True)
    database = fresh_postgres_database if args.postgres else None
    stacks = {}
    report: dict = {
        "database": "postgresql" if args.postgres else "sqlite",
        "gunicorn_threads": args.threads or "each stack's default (before 32, after 4)",
        "target": f"live guess p95 <= {GUESS_P95_MS} ms, errors <= {MAX_ERROR_RATE:.0%}",
        "step_seconds": args.step_seconds,
        "min_players": args.min_players,
        "baseline_commit": BASELINE_COMMIT,
        "flows": {
            "before": "the first version's pages: a live guess (PNG) every "
            f"{OLD_PAGE_INTERVAL_MS} ms while the drawing changes, Submit, the result page "
            "polling result.json, Next round",
            "after": f"one page: a live guess (strokes) at each pen-up, at most every "
            f"{LIVE_GUESS_INTERVAL_MS} ms while a stroke goes on, never the same drawing "
            "twice; the round ends on recognition",
        },
    }
    try:
        for name, checkout in (
            ("before", baseline_checkout(VAR_DIR / "baseline")),
            ("after", ROOT),
        ):
            var = VAR_DIR / name
            var.mkdir()
            env = serve_env(var, free_port())
            env.update(  # one address, many players
                GUESSGAME_GUEST_RATE="off", GUESSGAME_API_RATE="off",
                GUESSGAME_SIGNUP_RATE="1000000/h",
            )  # fmt: skip
            if args.threads:
                env["GUNICORN_THREADS"] = str(args.threads)
            if database:
                env["DATABASE_URL"] = database(f"guessgame_players_{name}")
            log = var / "stack.log"
            print(f"{name}: make serve in {checkout} on port {env['PORT']}, log {log}", flush=True)
            stacks[name] = (f"http://127.0.0.1:{env['PORT']}", start_serve(env, log, checkout), log)
        for base, stack, log in stacks.values():  # migrate and collectstatic: minutes, busy
            wait_until_healthy(base, stack, log, seconds=600)
        most = min(args.max_players, STEPS[-1])
        flows = {
            "before": Flow(stacks["before"][0], sign_up_players, FirstVersionPlayer, OldPage),
            "after": Flow(stacks["after"][0], sign_in_guests, Player, NewPage),
        }
        report.update(capacities(flows, args.step_seconds, most, args.min_players))
    finally:
        for name, (_, stack, log) in stacks.items():
            try:
                stop_with_ctrl_c(stack, log)
            except AssertionError as error:  # keep the figures; say what the stop left
                report[f"stack_stop_{name}"] = str(error)[:2000]

    before, after = report["before"]["capacity"], report["after"]["capacity"]
    report["ratio"] = round(after / before, 2) if before else None
    write_report(args.out, report)
    print()
    print(
        f"{'flow':8} {'players':>8} {'guesses/player/s':>17} {'requests/player/s':>18} {'p95':>8}"
    )
    for name in ("before", "after"):
        held = [s for s in report[name]["steps"] if s["players"] == report[name]["capacity"]]
        step = held[0] if held else {}
        print(
            f"{name:8} {report[name]['capacity']:>8} "
            f"{step.get('guesses_per_player_second', '-'):>17} "
            f"{step.get('requests_per_player_second', '-'):>18} {step.get('p95_ms', '-'):>8}"
        )
    print(f"ratio after/before: {report['ratio']}  (written to {args.out})")


if __name__ == "__main__":
    main()
