"""How many players can draw at once: the game page's live-guess rate, before and after.

Starts `make serve` through the launcher the tests use (tests/serve_stack.py) on a free
loopback port with its own var dir (var/bench-players: SQLite, the embedded Redis).
Each simulated player is a guest playing real games over HTTP, as game.js does: start
a round, draw the target in real time (strokes sent as JSON with their timings, the
server draws them), stop when the model recognises it or press Done at the end, then
the next round. What differs between the two runs is only WHEN the page asks for a
live guess while the player draws:

- before: the page of the first version (static/js/canvas.js's ``throttle`` at
  LIVE_GUESS_DEBOUNCE_MS = 150): while the drawing changes, a guess every 150 ms, one
  request at a time, the newest drawing sent when it returns;
- after: static/js/live.js: a guess at each pen-up, while a stroke goes on at most one
  every LIVE_GUESS_INTERVAL_MS, never the same drawing twice, one at a time.

The number of players steps up, each step run with both policies in turn, until the
live guesses' p95 latency passes GUESS_P95_MS (or errors pass 1%); a policy's capacity
is the most players that stayed within it, and the report gives the ratio after/before,
and each policy's guesses per player per second (what the page costs the server). Both
send to the round's guess endpoint (strokes as JSON), so only the rate differs.

The load generator is gevent with geventhttpclient (from locust, in the bench extra):
one greenlet per player, a fraction of a millisecond of CPU per request, on the same
machine as the server.

    .venv/bin/python bench/bench_players.py [--step-seconds 20] [--max-players 400]

Writes bench/results/players.json. Not a test: the figures depend on what else the
machine is doing.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import requests
from geventhttpclient import HTTPClient
from geventhttpclient.url import URL

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guessgame.game.constants import LIVE_GUESS_INTERVAL_MS  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.e2e.strokes import digit_strokes  # noqa: E402
from tests.serve_stack import serve_env, start_serve, stop_with_ctrl_c, wait_until_healthy  # noqa: E402

# ---------------------------------------------------------------------------
# Settings of the run
# ---------------------------------------------------------------------------
VAR_DIR = ROOT / "var" / "bench-players"
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
WARM_UP_SECONDS = 4
"""Each step's first seconds (players starting, caches warming) are not measured."""
STEPS = (2, 4, 6, 8, 10, 14, 20, 28, 40, 56, 80, 110, 150, 200, 280, 400)
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
    return Drawing(events=events, bodies=bodies, duration_ms=strokes[-1][2][-1])


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


POLICIES = {"before": OldPage, "after": NewPage}


# ---------------------------------------------------------------------------
# A player
# ---------------------------------------------------------------------------
@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    guesses: int = 0
    rounds: int = 0
    recognised: int = 0
    measuring: bool = False

    def reset(self) -> None:
        self.latencies_ms, self.errors, self.guesses = [], 0, 0
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
        self.running = True

    def request(self, method: str, path: str, body: bytes | None = None):
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        response = self.http.request(method, path, body=body or b"", headers=headers)
        data = response.read()
        return response.status_code, data, response

    def new_game(self) -> None:
        status, _, response = self.request("POST", "/play/new")
        if status != 302:
            raise RuntimeError(f"POST /play/new answered {status}")
        location = response.get("location") or ""
        self.game_url = location if location.startswith("/") else URL(location).path

    def guess(self, prefix: int) -> dict | None:
        started = time.perf_counter()
        try:
            status, data, _ = self.request(
                "POST", self.round["guess_url"], DRAWINGS[self.round["target"]].bodies[prefix]
            )
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
        """One round: the game's state, start, draw; a new game when this one is over."""
        if self.game_url is None:
            self.new_game()
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

    def play_round(self) -> None:
        drawing = DRAWINGS[self.round["target"]]
        guesser = self.policy(self)
        began = time.perf_counter()
        gevent.sleep(REACTION_MS / 1000)
        for at_ms, kind, prefix in drawing.events:
            wait = (began + (REACTION_MS + at_ms) / 1000) - time.perf_counter()
            if wait > 0:
                gevent.sleep(wait)
            if guesser.won or not self.running:
                break
            guesser.changed(prefix, kind)
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


def sign_in_guests(base: str, count: int) -> list[dict]:
    """Cookies of ``count`` guests, each with a game (as a browser gets by pressing Play)."""
    guests = []
    for _ in range(count):
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


def run_step(base: str, guests: list[dict], policy: str, players: int, seconds: float) -> dict:
    stats = Stats()
    crowd = [Player(base, guests[i], stats, POLICIES[policy]) for i in range(players)]
    greenlets = []
    for player in crowd:  # spread the starts over a second, as people arrive
        greenlets.append(gevent.spawn(player.play))
        gevent.sleep(random.uniform(0, 1.0 / max(1, players)))
    gevent.sleep(WARM_UP_SECONDS)
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
        "p50_ms": round(percentile(stats.latencies_ms, 0.5) or 0, 1),
        "p95_ms": round(p95 or 0, 1),
        "errors": stats.errors,
        "rounds": stats.rounds,
        "recognised": stats.recognised,
        "within_target": p95 is not None and p95 <= GUESS_P95_MS and error_rate <= MAX_ERROR_RATE,
    }


def capacities(base: str, guests: list[dict], seconds: float, most: int) -> dict:
    """Step the players up, each step run with both policies one after the other (so a
    change in what else the machine does hits both alike), until a policy misses the
    target twice in a row (one noisy step on a shared machine does not end its search);
    a policy's capacity is the most players that held."""
    found = {policy: {"capacity": 0, "steps": [], "misses": 0} for policy in POLICIES}
    for players in (n for n in STEPS if n <= most):
        searching = [p for p in POLICIES if found[p]["misses"] < 2]
        if not searching:
            break
        for policy in searching:
            step = run_step(base, guests, policy, players, seconds)
            print(f"  {policy:6} {json.dumps(step)}", flush=True)
            result = found[policy]
            result["steps"].append(step)
            if step["within_target"]:
                result["capacity"], result["misses"] = players, 0
            else:
                result["misses"] += 1
    for result in found.values():
        del result["misses"]
    return found


PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PG_DATABASE = "guessgame_players"


def fresh_postgres_database() -> str:
    """DATABASE_URL of a new, empty PostgreSQL database for the run."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    return f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step-seconds", type=float, default=20, help="Measured seconds a step.")
    parser.add_argument("--max-players", type=int, default=400, help="Stop the steps here.")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where to write the JSON.")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help=f"A fresh PostgreSQL database {PG_DATABASE} on 127.0.0.1:5432 instead of SQLite.",
    )
    args = parser.parse_args()

    shutil.rmtree(VAR_DIR, ignore_errors=True)
    VAR_DIR.mkdir(parents=True)
    env = serve_env(VAR_DIR, free_port())
    env.update(GUESSGAME_GUEST_RATE="off", GUESSGAME_API_RATE="off")  # one address, many
    if args.postgres:
        env["DATABASE_URL"] = fresh_postgres_database()
    base = f"http://127.0.0.1:{env['PORT']}"
    log = VAR_DIR / "stack.log"
    print(f"make serve on {base}, log {log}", flush=True)
    stack = start_serve(env, log)
    report: dict = {
        "database": "postgresql" if args.postgres else "sqlite",
        "target": f"live guess p95 <= {GUESS_P95_MS} ms, errors <= {MAX_ERROR_RATE:.0%}",
        "step_seconds": args.step_seconds,
        "policies": {
            "before": f"a guess every {OLD_PAGE_INTERVAL_MS} ms while the drawing changes",
            "after": f"a guess at each pen-up, at most every {LIVE_GUESS_INTERVAL_MS} ms "
            "while a stroke goes on, never the same drawing twice",
        },
    }
    try:
        # migrate and collectstatic come first: minutes on a busy two-core machine
        wait_until_healthy(base, stack, log, seconds=600)
        most = min(args.max_players, STEPS[-1])
        print(f"signing in {most} guests ...", flush=True)
        guests = sign_in_guests(base, most)
        report.update(capacities(base, guests, args.step_seconds, most))
    finally:
        try:
            stop_with_ctrl_c(stack, log)
        except AssertionError as error:  # keep the figures; say what the stop left
            report["stack_stop"] = str(error)[:2000]

    before, after = report["before"]["capacity"], report["after"]["capacity"]
    report["ratio"] = round(after / before, 2) if before else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(f"{'policy':8} {'players':>8} {'guesses/player/s':>17} {'p95 at capacity':>16}")
    for policy in POLICIES:
        held = [s for s in report[policy]["steps"] if s["players"] == report[policy]["capacity"]]
        rate = held[0]["guesses_per_player_second"] if held else "-"
        p95 = held[0]["p95_ms"] if held else "-"
        print(f"{policy:8} {report[policy]['capacity']:>8} {rate:>17} {p95:>16}")
    print(f"ratio after/before: {report['ratio']}  (written to {args.out})")


if __name__ == "__main__":
    main()
