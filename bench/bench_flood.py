"""Flood test of `make serve`: each anonymous endpoint in turn, while probes check the site.

Starts `make serve` itself through the launcher the tests use (tests/serve_stack.py) on
a free loopback port, with its own var dir (var/bench-flood: SQLite, the embedded Redis),
and signs in one player. Then floods each anonymous endpoint in turn with Debian's wrk
(loopback only, 80 connections, --seconds each, then 5 s of quiet): GET /healthz, GET /,
GET /leaderboard, GET /accounts/login, POST /api/v1/predict (a real drawing) and
POST /guess (a real drawing, no CSRF token).

Meanwhile three probes, from another loopback address (127.0.0.2, so a per-address rate
limit sees another client, as it would see another user), keep asking: GET /healthz,
POST /api/v1/predict, and the player, who plays a round about once a second (start it,
draw for as long as the digit takes, send the strokes). Each
probe's answers are cut into phases: before the floods, during each flood and the 5 s
after it. At the end every drawing the player was told was stored must be stored and
predicted. Target: the probes keep answering, answer 200 again within 5 s of each flood's
end, and nothing stored is lost; the exit status is 1 when a target is missed.
Prints a table and writes bench/results/flood.json.

    .venv/bin/python bench/bench_flood.py [--seconds 30] [--connections 80]

Not a test: the figures depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_load import manage  # noqa: E402

from bench.reports import write_report  # noqa: E402
from inference.canvas import render_strokes  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.e2e.strokes import digit_strokes  # noqa: E402
from tests.serve_stack import serve_env, start_serve, stop_with_ctrl_c, wait_until_healthy  # noqa: E402

# ---------------------------------------------------------------------------
# Settings of the run
# ---------------------------------------------------------------------------
VAR_DIR = ROOT / "var" / "bench-flood"
RESULTS = ROOT / "bench" / "results" / "flood.json"
FLOOD_SCRIPT = ROOT / "bench" / "wrk" / "flood.lua"
WRK_THREADS = 2
QUIET_SECONDS = 5
"""After each flood: the window in which the site must answer again."""
BASELINE_SECONDS = 5
PROBE_ADDRESS = "127.0.0.2"
PROBE_TIMEOUT_SECONDS = 5
PROBE_PAUSE_SECONDS = 0.2
PLAYER_PAUSE_SECONDS = 1.0
SETTLE_SECONDS = 60
"""At the end, how long the worker gets to predict the player's last drawings."""
TARGET_PROBES = ["GET /healthz", "POST /api/v1/predict"]
"""The probes that must answer during each flood and again within QUIET_SECONDS after;
the player's rounds count for the target through what is stored."""
PLAYER, PASSWORD = "flood-player", "flood-password-not-secret"

DRAWING = render_strokes(digit_strokes(7))
BOUNDARY = "floodboundary7"
GUESS_BODY = (
    (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="d.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    + DRAWING
    + f"\r\n--{BOUNDARY}--\r\n".encode()
)

FLOODS = [
    {"name": "GET /healthz", "method": "GET", "path": "/healthz"},
    {"name": "GET /", "method": "GET", "path": "/"},
    {"name": "GET /leaderboard", "method": "GET", "path": "/leaderboard"},
    {"name": "GET /accounts/login", "method": "GET", "path": "/accounts/login"},
    {"name": "POST /api/v1/predict", "method": "POST", "path": "/api/v1/predict",
     "body": DRAWING, "content_type": "image/png"},
    {"name": "POST /guess (no CSRF)", "method": "POST", "path": "/guess",
     "body": GUESS_BODY, "content_type": f"multipart/form-data; boundary={BOUNDARY}"},
]  # fmt: skip


# ---------------------------------------------------------------------------
# Probes: (time, probe, answer, ms) samples; the answer is the status or the error's name
# ---------------------------------------------------------------------------
class FromProbeAddress(HTTPAdapter):
    """Connect from 127.0.0.2: the server sees a client apart from the flood's 127.0.0.1."""

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (PROBE_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


def probe_session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromProbeAddress())
    return session


class Probes:
    def __init__(self, base: str) -> None:
        self.base = base
        self.samples: list[tuple[float, str, int | str, float]] = []
        self.stored_drawings: list[int] = []
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self.ask_healthz, daemon=True),
            threading.Thread(target=self.ask_predict, daemon=True),
            threading.Thread(target=self.play, daemon=True),
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(PROBE_TIMEOUT_SECONDS * 3)

    def timed(self, probe: str, send, *args, **kwargs) -> requests.Response | None:
        """send(*args, **kwargs), kept as a sample; the response, None on a socket error."""
        started = time.monotonic()
        try:
            response = send(*args, timeout=PROBE_TIMEOUT_SECONDS, **kwargs)
            answer: int | str = response.status_code
        except requests.RequestException as error:
            response, answer = None, type(error).__name__
        self.samples.append((time.time(), probe, answer, (time.monotonic() - started) * 1000))
        return response

    def ask_healthz(self) -> None:
        session = probe_session()
        while not self.stopping.wait(PROBE_PAUSE_SECONDS):
            self.timed("GET /healthz", session.get, self.base + "/healthz")

    def ask_predict(self) -> None:
        session = probe_session()
        while not self.stopping.wait(PROBE_PAUSE_SECONDS):
            self.timed(
                "POST /api/v1/predict", session.post, self.base + "/api/v1/predict",
                data=DRAWING, headers={"Content-Type": "image/png"},
            )  # fmt: skip

    def play(self) -> None:
        """A signed-in player submitting rounds: each 201 names a drawing that must last."""
        session = probe_session()
        session.get(self.base + "/accounts/login", timeout=30)
        session.post(
            self.base + "/accounts/login",
            data={"username": PLAYER, "password": PASSWORD, "next": "/",
                  "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            timeout=30,
        )  # fmt: skip
        game_url = None
        while not self.stopping.wait(PLAYER_PAUSE_SECONDS):
            csrf = {"X-CSRFToken": session.cookies.get("csrftoken", "")}
            try:
                if game_url is None:
                    new = session.post(
                        self.base + "/play/new", headers=csrf, allow_redirects=False,
                        timeout=PROBE_TIMEOUT_SECONDS,
                    )  # fmt: skip
                    game_url = new.headers.get("Location") if new.status_code == 302 else None
                    continue
                state = session.get(
                    self.base + game_url + "/state.json", timeout=PROBE_TIMEOUT_SECONDS
                ).json()
                if not state.get("round"):
                    game_url = None  # the game is over
                    continue
                round = session.post(
                    self.base + state["round"]["start_url"], headers=csrf,
                    timeout=PROBE_TIMEOUT_SECONDS,
                ).json()  # fmt: skip
            except (requests.RequestException, ValueError):
                continue
            if "target" not in round:
                continue
            strokes = digit_strokes(round["target"])
            time.sleep(strokes[-1][2][-1] / 1000)  # as long as the drawing takes
            response = self.timed(
                "player: submit a round", session.post, self.base + round["submit_url"],
                headers=csrf, json={"strokes": strokes},
            )  # fmt: skip
            if response is not None and response.status_code == 201:
                self.stored_drawings.append(response.json()["drawing"])


# ---------------------------------------------------------------------------
# Floods
# ---------------------------------------------------------------------------
def flood(base: str, spec: dict, seconds: int, connections: int) -> dict:
    """wrk on one endpoint for `seconds`; its counts and answers by status."""
    env = {"FLOOD_METHOD": spec["method"], "PATH": "/usr/bin:/bin"}
    if "body" in spec:
        body = VAR_DIR / "flood-body"
        body.write_bytes(spec["body"])
        env.update(FLOOD_BODY=str(body), FLOOD_CONTENT_TYPE=spec["content_type"])
    argv = [
        "wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(FLOOD_SCRIPT), base + spec["path"],
    ]  # fmt: skip
    output = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    raw = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds_run, 1),
        "statuses": dict(sorted(raw["statuses"].items())),
        "socket_errors": {k[7:]: raw[k] for k in raw if k.startswith("errors_") and raw[k]},
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
    }


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------
def window(samples: list, probe: str, start: float, end: float) -> dict:
    """One probe's answers between `start` and `end` (epoch s): counts, errors, p50/p95."""
    inside = [s for s in samples if s[1] == probe and start <= s[0] < end]
    times = sorted(s[3] for s in inside)

    def pick(q: float) -> float | None:
        return round(times[min(len(times) - 1, int(len(times) * q))], 1) if times else None

    answers = Counter(str(s[2]) for s in inside)
    return {
        "requests": len(inside),
        "errors": sum(n for answer, n in answers.items() if answer not in ("200", "201")),
        "answers": dict(answers.most_common()),
        "p50_ms": pick(0.5),
        "p95_ms": pick(0.95),
    }


def recovered_after(samples: list, probe: str, flood_end: float) -> float | None:
    """Seconds from the flood's end to the probe's first answer after which every answer
    of the quiet window was a success (0 when none failed); None if the last one failed."""
    quiet = [s for s in samples if s[1] == probe and flood_end <= s[0] < flood_end + QUIET_SECONDS]
    if not quiet or str(quiet[-1][2]) not in ("200", "201"):
        return None
    failed = [s for s in quiet if str(s[2]) not in ("200", "201")]
    return round(max(0.0, failed[-1][0] - flood_end), 1) if failed else 0.0


def print_table(report: dict) -> None:
    """A Markdown table (README's): per flood, wrk's rate and answers, then each probe's
    p95 ms (errors) during the flood / in the 5 s after it."""
    probes = list(report["baseline"])

    def cell(figures: dict) -> str:
        return (
            f"{figures['p95_ms'] if figures['p95_ms'] is not None else '-'} ({figures['errors']})"
        )

    print("\n| flood | wrk req/s (answers) | " + " | ".join(probes) + " |")
    print("| --- | --- |" + " --- |" * len(probes))
    baseline = " | ".join(cell(report["baseline"][p]) for p in probes)
    print(f"| none ({BASELINE_SECONDS} s before) | | {baseline} |")
    for name, phase in report["floods"].items():
        flood = phase["flood"]
        answers = ", ".join(f"{k}: {v}" for k, v in flood["statuses"].items()) or "none"
        cells = " | ".join(
            f"{cell(phase['during'][p])} / {cell(phase['after'][p])}" for p in probes
        )
        print(f"| {name} | {flood['requests_per_s']} ({answers}) | {cells} |")
    stored = report["stored"]
    print(
        f"\nplayer's drawings: {stored['told_stored']} answered 201, {stored['found']} stored, "
        f"{stored['lost']} lost, {stored['unpredicted']} not predicted"
    )
    print(f"target met: {report['target_met']}")


def player_drawings(env: dict, told: list[int]) -> dict:
    """The player's drawings in the database: how many, by status, and which told ids are
    missing or unpredicted (after waiting for the worker)."""
    code = f"""
import json
from collections import Counter
from guessgame.game.models import Drawing
rows = dict(Drawing.objects.filter(round__game__player__username={PLAYER!r})
            .values_list("id", "prediction_status"))
told = {told!r}
print(json.dumps({{"stored": len(rows), "by_status": Counter(rows.values()),
    "lost": [i for i in told if i not in rows],
    "unpredicted": [i for i in rows if rows[i] != "done"]}}))
"""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        found = json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])
        if not found["unpredicted"] or time.monotonic() > deadline:
            return found
        time.sleep(2)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30, help="Seconds of flood per endpoint.")
    parser.add_argument("--connections", type=int, default=80, help="wrk connections.")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where to write the JSON.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("needs wrk (apt-get install wrk; `make bench` installs it)")

    shutil.rmtree(VAR_DIR, ignore_errors=True)
    VAR_DIR.mkdir(parents=True)
    env = serve_env(VAR_DIR, free_port())
    env.pop("HOST", None)  # gunicorn binds 127.0.0.1: the flood stays on this machine
    base = f"http://127.0.0.1:{env['PORT']}"
    log = VAR_DIR / "stack.log"
    print(f"make serve on {base}, log {log}", flush=True)
    stack = start_serve(env, log)
    probes = Probes(base)
    report: dict = {"floods": {}}
    try:
        wait_until_healthy(base, stack, log)
        create_player = (
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user({PLAYER!r}, password={PASSWORD!r})"
        )
        manage(env, "shell", "-c", create_player)
        probes.start()
        time.sleep(BASELINE_SECONDS)
        started = time.time()
        timeline = []
        for spec in FLOODS:
            print(f"== flood {spec['name']} for {args.seconds} s ...", flush=True)
            flood_start = time.time()
            figures = flood(base, spec, args.seconds, args.connections)
            flood_end = time.time()
            time.sleep(QUIET_SECONDS)
            timeline.append((spec["name"], flood_start, flood_end, figures))
            print(f"   {json.dumps(figures)}", flush=True)
        probes.stop()
        drawings = player_drawings(env, probes.stored_drawings)
    finally:
        probes.stop()
        try:
            stop_with_ctrl_c(stack, log)
            report["stack_stop"] = "clean: every process gone, no traceback"
        except AssertionError as error:  # keep the figures; say what the stop left
            report["stack_stop"] = str(error)[:2000]
            print(f"the stack's stop: {error}", file=sys.stderr)

    samples = probes.samples
    names = [*TARGET_PROBES, "player: submit a round"]
    report["baseline"] = {p: window(samples, p, started - BASELINE_SECONDS, started) for p in names}
    target_met = True
    for name, flood_start, flood_end, figures in timeline:
        phase = {
            "flood": figures,
            "during": {p: window(samples, p, flood_start, flood_end) for p in names},
            "after": {p: window(samples, p, flood_end, flood_end + QUIET_SECONDS) for p in names},
            "recovered_after_s": {p: recovered_after(samples, p, flood_end) for p in names},
        }
        answered = all(phase["during"][p]["requests"] > phase["during"][p]["errors"]
                       for p in TARGET_PROBES)  # fmt: skip
        recovered = all(phase["recovered_after_s"][p] is not None for p in TARGET_PROBES)
        phase["target_met"] = answered and recovered
        target_met &= phase["target_met"]
        report["floods"][name] = phase
    report["stored"] = {
        "told_stored": len(probes.stored_drawings),
        "found": drawings["stored"],
        "by_status": drawings["by_status"],
        "lost": len(drawings["lost"]),
        "unpredicted": len(drawings["unpredicted"]),
    }
    target_met &= not drawings["lost"] and not drawings["unpredicted"]
    report["target_met"] = target_met
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(["python", *sys.argv]),
        "stack": "make serve (SQLite, embedded Redis; 2 gunicorn gthread x 32 threads)",
        "flood": f"wrk -t{WRK_THREADS} -c{args.connections}, {args.seconds} s per endpoint, "
        f"then {QUIET_SECONDS} s quiet; probes from {PROBE_ADDRESS} every "
        f"{PROBE_PAUSE_SECONDS} s (player: {PLAYER_PAUSE_SECONDS} s), timeout "
        f"{PROBE_TIMEOUT_SECONDS} s",
        **report,
    }
    print_table(report)
    write_report(args.out, report)
    raise SystemExit(0 if target_met else 1)


if __name__ == "__main__":
    main()
