"""Proof that the flywheel works: players the model cannot read, review, a gated fine-tune.

One run, end to end, through the parts a real deployment uses:

1. ``make serve`` (gunicorn, a Celery worker, beat, the embedded Redis; SQLite) on a
   free port with its own var dir (var/bench-flywheel), through the tests' launcher.
2. Guests with the boxy hand (bench/hands.py: seven-segment digits the shipped model
   mostly calls "not a digit" or misreads) play whole games over HTTP as game.js does:
   start a round, draw the card's digit in real time (strokes with their timings, sent
   at each pen-up for a live guess), Done when the model does not get it. A few rounds
   are scribbles instead (JUNK_SHARE), which review must keep out of training.
3. A staff member reviews through the review service the staff pages call: each queue
   mode in turn ("confident disagreements", "not a digit", least confident, flagged,
   a random audit), approving digits and rejecting scribbles, up to REVIEW_BUDGET
   decisions.
4. ``manage.py retrain`` (defaults: fine-tune the active model on the trusted drawings
   with a replay of MNIST; the gate compares it with the active model on MNIST test, the
   canvas benchmark, the non-digit benchmark and the fixed players' hold-out) while the
   stack keeps serving; the gate's verdict decides the activation.
5. The new version is live: /healthz names it, and new guests with the same hand play
   again, so the recognition rate in the game is measured before and after.
6. Both models (before: the shipped one; after: the retrained one) answer the same
   drawings: the players' hold-out (players never trained on, by the gate's stable
   hash), NEW boxy players the run never saw, MNIST test, the canvas benchmark and the
   non-digit benchmark. Each difference gets a 95% paired bootstrap interval
   (resampling players for players' drawings, items for the benchmarks).

    .venv/bin/python bench/bench_flywheel.py [--players 60] [--games 2]

Writes bench/results/flywheel.json; the README's "The flywheel, measured" quotes it.
About 20-30 minutes on two cores; not a test (the figures depend on the machine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hands import boxy_digit, boxy_drawings  # noqa: E402
from bench.reports import write_report  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.serve_stack import serve_env, start_serve, stop_with_ctrl_c, wait_until_healthy  # noqa: E402
from training import negatives  # noqa: E402

VAR_DIR = ROOT / "var" / "bench-flywheel"
RESULTS = ROOT / "bench" / "results" / "flywheel.json"
VERSION = "flywheel-1"
"""The retrained version's name."""
PLAY_SEED = 20_261_203
"""Players' hands; the NEW players of step 6 use FRESH_SEED, never played."""
FRESH_SEED = 4_242_000
FRESH_N = 1000
FRESH_PER_PLAYER = 10
JUNK_SHARE = 0.05
"""Share of rounds where the player scribbles instead of drawing the card's digit."""
JUNK_SEED = 99_017
"""Scribbles from training.negatives with a seed of their own (not the benchmark's)."""
REVIEW_BUDGET = 500
REVIEW_BATCH = 25
REACTION_MS = 400
"""From the round's start to the first stroke: reading the card."""
CONCURRENCY = 20
"""Players drawing at once."""
AFTER_PLAYERS = 10
"""New guests who play one game each with the retrained model live."""


# ---------------------------------------------------------------------------
# Players
# ---------------------------------------------------------------------------
@dataclass
class Played:
    """What the run knows about every round: its truth, whether the game recognised it."""

    rounds: dict[int, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, round_id: int, **facts) -> None:
        with self.lock:
            self.rounds[round_id] = facts


class Guest:
    """A guest with the boxy hand playing whole games over HTTP, as the game page does."""

    def __init__(self, base: str, number: int, played: Played, *, seed: int) -> None:
        self.base, self.number, self.played, self.seed = base, number, played, seed
        self.http = requests.Session()
        self.http.get(base + "/", timeout=30)
        self.drawn = 0

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        headers = {  # the token as of now: signing in as a guest rotates it
            "X-CSRFToken": self.http.cookies["csrftoken"],
            "Referer": self.base + "/",
            "Accept": "application/json",
        }
        return self.http.post(
            self.base + path, json=body, headers=headers, allow_redirects=False, timeout=60
        )

    def play_games(self, games: int) -> None:
        for _ in range(games):
            response = self.post("/play/new")
            if response.status_code != 302:
                raise RuntimeError(f"POST /play/new answered {response.status_code}")
            game_url = response.headers["Location"]
            while self.play_round(game_url):
                pass

    def play_round(self, game_url: str) -> bool:
        state = self.http.get(self.base + game_url + "/state.json", timeout=30).json()
        if not state.get("round"):
            return False
        started = self.post(state["round"]["start_url"])
        if started.status_code != 200:
            raise RuntimeError(f"round start answered {started.status_code}: {started.text[:200]}")
        round_ = started.json()
        begun = time.monotonic()
        rng = np.random.default_rng([self.seed, self.number, self.drawn])
        junk = rng.random() < JUNK_SHARE
        if junk:
            scribbles, _ = negatives.make_negative_strokes(
                1, JUNK_SEED + self.number * 1000 + self.drawn
            )
            strokes = scribbles[0]
        else:
            strokes = boxy_digit(round_["target"], rng).strokes
        self.drawn += 1
        strokes = [[xs, ys, [t + REACTION_MS for t in ts]] for xs, ys, ts in strokes]
        recognised = False
        for end in range(1, len(strokes) + 1):  # a live guess at each pen-up
            time.sleep(max(0.0, begun + strokes[end - 1][2][-1] / 1000 - time.monotonic()))
            answer = self.post(round_["guess_url"], {"strokes": strokes[:end]})
            if answer.status_code == 200 and answer.json().get("recognised"):
                recognised = True
                break
        if not recognised:
            self.post(round_["submit_url"], {"strokes": strokes})
        self.played.add(
            round_["id"],
            player=self.number,
            target=round_["target"],
            junk=junk,
            recognised=recognised,
        )
        return True


def play(base: str, players: range, games: int, played: Played, *, seed: int) -> float:
    """Every player plays ``games`` games, CONCURRENCY at once; returns the wall seconds."""
    started = time.monotonic()
    failures = []

    def one(number: int) -> None:
        try:
            Guest(base, number, played, seed=seed).play_games(games)
        except Exception as error:  # counted and shown: a bench reports, it does not stop
            failures.append(repr(error))

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, players))
    if failures:
        print(f"  {len(failures)} players stopped early; first: {failures[0]}", flush=True)
    if len(failures) == len(players):
        raise RuntimeError("no player could play: see above")
    return time.monotonic() - started


def recognition(played: Played, numbers: range) -> dict:
    digits = [r for r in played.rounds.values() if r["player"] in numbers and not r["junk"]]
    hits = sum(r["recognised"] for r in digits)
    return {"rounds": len(digits), "recognised": hits, "rate": hits / max(1, len(digits))}


# ---------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------
def wait_for_predictions(seconds: float = 300) -> None:
    from guessgame.game.models import Drawing

    deadline = time.monotonic() + seconds
    while Drawing.objects.filter(prediction_status=Drawing.Prediction.PENDING).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("drawings still waiting for the model after 5 minutes")
        time.sleep(1)


def review(played: Played, budget: int) -> dict:
    """A staff member works the queue modes in turn: digits approved, scribbles rejected."""
    from django.contrib.auth import get_user_model

    from guessgame.review import services
    from guessgame.review.selectors import QUEUE_MODE_KEYS

    staff, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True}
    )
    decisions: dict[str, Counter] = {mode: Counter() for mode in QUEUE_MODE_KEYS}
    spent = 0
    for mode in QUEUE_MODE_KEYS:
        while spent < budget:
            batch = services.claim_for_review(
                reviewer=staff, mode=mode, limit=min(REVIEW_BATCH, budget - spent)
            )
            if not batch:
                break
            junk = [d for d in batch if played.rounds[d.round_id]["junk"]]
            digits = [d for d in batch if not played.rounds[d.round_id]["junk"]]
            if junk:
                services.review_reject(drawings=junk, reviewer=staff)
            if digits:
                services.review_approve(drawings=digits, reviewer=staff)
            decisions[mode].update(rejected=len(junk), approved=len(digits))
            spent += len(batch)
    return {mode: dict(counts) for mode, counts in decisions.items() if counts}


# ---------------------------------------------------------------------------
# Both models on the same drawings
# ---------------------------------------------------------------------------
def compare(name: str, labels, before, after, groups, *, what: str) -> dict:
    """Accuracies of both models on one set, the difference and its paired interval."""
    from guessgame.review.gate import paired_bootstrap

    right_before = before.argmax(axis=1) == labels
    right_after = after.argmax(axis=1) == labels
    low, high = paired_bootstrap(right_after, right_before, groups)
    return {
        "set": name,
        "size": len(labels),
        "groups": int(len(np.unique(groups))),
        "resampled": what,
        "before": float(right_before.mean()),
        "after": float(right_after.mean()),
        "difference": float(right_after.mean() - right_before.mean()),
        "interval_95": [low, high],
    }


def evaluate_models(before_path: Path, after_path: Path, played: Played) -> list[dict]:
    from guessgame.game.models import Drawing
    from guessgame.review import gate
    from guessgame.review.export import drawing_pixels
    from inference.contract import NOT_DIGIT_CLASS, from_uint8
    from inference.runtime import LiteRTModel
    from training import evaluate, styles
    from training.data import load_mnist

    models = [LiteRTModel(before_path), LiteRTModel(after_path)]
    results = []

    held = [  # the digits they drew (their scribbles are not digits to score)
        d
        for d in Drawing.objects.with_truth()
        if gate.is_holdout_player(d.player_id) and not played.rounds[d.round_id]["junk"]
    ]
    held = [(d, drawing_pixels(d)) for d in held]
    held = [(d, p) for d, p in held if p is not None]
    if held:
        pixels = from_uint8(np.stack([p for _, p in held]))
        labels = np.array([d.truth for d, _ in held])
        groups = np.array([d.player_id for d, _ in held])
        before, after = (m.predict(pixels) for m in models)
        results.append(
            compare("players' hold-out (played, never trained on)", labels, before, after,
                    groups, what="players")
        )  # fmt: skip

    fresh = boxy_drawings(FRESH_N, FRESH_SEED)
    pixels = from_uint8(np.stack([styles.drawing_pixels(d) for d in fresh]))
    labels = np.array([d.label for d in fresh])
    groups = np.arange(len(fresh)) // FRESH_PER_PLAYER
    before, after = (m.predict(pixels) for m in models)
    results.append(
        compare("new boxy players (never played)", labels, before, after, groups, what="players")
    )

    test = load_mnist().test
    inputs = evaluate.benchmark_inputs(test.images, test.labels)
    for name, pixels, labels in (
        ("MNIST test", inputs.mnist_images, inputs.mnist_labels),
        ("canvas benchmark", inputs.canvas_pixels, inputs.canvas_labels),
        ("style benchmark", inputs.style_pixels, inputs.style_labels),
    ):
        before, after = (m.predict(pixels) for m in models)
        results.append(compare(name, labels, before, after, np.arange(len(labels)), what="items"))
    not_digit = np.full(len(inputs.nondigit_pixels), NOT_DIGIT_CLASS)
    before, after = (m.predict(inputs.nondigit_pixels) for m in models)
    results.append(
        compare("non-digit benchmark, called not a digit", not_digit, before, after,
                np.arange(len(not_digit)), what="items")
    )  # fmt: skip
    return results


# ---------------------------------------------------------------------------
def setup_django(env: dict) -> None:
    """This process reads and writes the stack's database, as a staff page would."""
    os.environ.update({k: env[k] for k in ("GUESSGAME_VAR_DIR",)})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guessgame.settings")
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=60, help="Guests with the boxy hand.")
    parser.add_argument("--games", type=int, default=2, help="Games (of 10 rounds) each.")
    parser.add_argument("--budget", type=int, default=REVIEW_BUDGET, help="Review decisions.")
    parser.add_argument("--epochs", type=int, default=None, help="retrain --epochs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    shutil.rmtree(VAR_DIR, ignore_errors=True)
    VAR_DIR.mkdir(parents=True)
    env = serve_env(VAR_DIR, free_port())
    env.update(GUESSGAME_GUEST_RATE="off", GUESSGAME_API_RATE="off")  # one address, many
    base = f"http://127.0.0.1:{env['PORT']}"
    log = VAR_DIR / "stack.log"
    print(f"make serve on {base}, log {log}", flush=True)
    stack = start_serve(env, log)
    report: dict = {"hand": "boxy (bench/hands.py)", "players": args.players, "games": args.games}
    try:
        wait_until_healthy(base, stack, log, seconds=600)
        setup_django(env)
        from inference.models import ModelVersion

        shipped = ModelVersion.active()
        report["before_version"] = shipped.name
        played = Played()

        print(f"1. {args.players} guests play {args.games} games each ...", flush=True)
        seconds = play(base, range(args.players), args.games, played, seed=PLAY_SEED)
        wait_for_predictions()
        report["play"] = {
            "seconds": round(seconds, 1),
            "rounds": len(played.rounds),
            "junk_rounds": sum(r["junk"] for r in played.rounds.values()),
            "recognised_before": recognition(played, range(args.players)),
        }
        print(f"   {report['play']}", flush=True)

        print(f"2. staff review, up to {args.budget} decisions ...", flush=True)
        report["review"] = review(played, args.budget)
        print(f"   {report['review']}", flush=True)

        print("3. manage.py retrain (fine-tune, gated) ...", flush=True)
        command = [sys.executable, "manage.py", "retrain", "--name", VERSION]
        if args.epochs:
            command += ["--epochs", str(args.epochs)]
        started = time.monotonic()
        with (VAR_DIR / "retrain.log").open("wb") as out:
            code = subprocess.call(command, cwd=ROOT, env={**env, "SECRET_KEY": "bench"},
                                   stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        if code != 0:
            tail = (VAR_DIR / "retrain.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"manage.py retrain exited {code}:\n{tail}")
        version = ModelVersion.objects.get(name=VERSION)
        report["retrain"] = {
            "exit_code": code,
            "seconds": round(time.monotonic() - started, 1),
            "data": version.metrics["retrain"]["data"],
            "gate": version.metrics["gate"],
            "activated": version.metrics["retrain"]["activated"],
        }
        print(f"   gate: {version.metrics['gate']['reason']}", flush=True)

        live = requests.get(base + "/healthz", timeout=10).json()
        report["live_version_after"] = live.get("model_version")
        print(f"4. /healthz: {live}; {AFTER_PLAYERS} new guests play one game ...", flush=True)
        numbers = range(10_000, 10_000 + AFTER_PLAYERS)
        play(base, numbers, 1, played, seed=PLAY_SEED)
        report["play"]["recognised_after"] = recognition(played, numbers)
        print(f"   {report['play']['recognised_after']}", flush=True)

        print("5. both models on the same drawings ...", flush=True)
        report["comparisons"] = evaluate_models(shipped.tflite_path, version.tflite_path, played)
    finally:
        try:
            stop_with_ctrl_c(stack, log)
        except AssertionError as error:
            report["stack_stop"] = str(error)[:2000]

    write_report(args.out, report)
    print(f"\n{'set':48} {'size':>6} {'before':>7} {'after':>7}  difference [95% interval]")
    for c in report["comparisons"]:
        low, high = c["interval_95"]
        print(
            f"{c['set']:48} {c['size']:>6} {c['before']:>7.2%} {c['after']:>7.2%}  "
            f"{c['difference'] * 100:+.2f} [{low * 100:+.2f}, {high * 100:+.2f}] points"
        )
    print(f"(written to {args.out})")


if __name__ == "__main__":
    main()
