"""Load test of the `make serve` stack with locust: players and API clients, with faults.

Starts everything itself, apart from the shared services: its own Redis (Debian's
redis-server on a spare port, so it can be restarted), a fresh PostgreSQL database
``guessgame_load`` on 127.0.0.1:5432 (SQLite under var/bench-load when PostgreSQL is
unreachable), N player accounts, gunicorn (guessgame/gunicorn.conf.py), a Celery worker
and ``celery beat`` (sweep every 5 s). Then runs bench/load/locustfile.py headless, one
phase after another:

- ``50 players`` (40 s), ``200 players`` (60 s): players plus API clients, 4:1;
- ``200 + worker kill``: the worker is SIGKILLed 35 s in, restarted 5 s later;
- ``200 + Redis restart``: Redis is stopped 35 s in and a new, empty one
  started on the same port 5 s later.

After each phase it waits for the sweep (up to 30 s) and counts the drawings stored vs
predicted, which must match. Prints a table and writes bench/results/load.json.

    .venv/bin/python bench/bench_load.py [--pool solo|prefork] [--phases 50,200,kill,redis]

Not a test: the figures depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from argparse import Namespace
from collections import Counter
from pathlib import Path

from bench_api import _children, stack_env

from bench.reports import write_report  # bench_api put the checkout on sys.path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# ---------------------------------------------------------------------------
# Settings of the run
# ---------------------------------------------------------------------------
VAR_DIR = ROOT / "var" / "bench-load"
RESULTS = ROOT / "bench" / "results" / "load.json"
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"
PORT_RANGE = range(8400, 8500)
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PG_DATABASE = "guessgame_load"
PLAYER_WEIGHT, API_WEIGHT = 4, 1  # as in the locustfile
SWEEP_SECONDS = 5
SETTLE_SECONDS = 30
"""After a phase, how long the sweep gets to predict every stored drawing."""
FAULT_AFTER_SECONDS = 35
"""When the fault hits, counted from the phase's start: after the 200 sign-ins (PBKDF2,
0.2 s of CPU each) have gone through, so the fault meets players who are playing."""
FAULT_DOWN_SECONDS = 5

PHASES = {
    "50": {"label": "50 players", "players": 50, "seconds": 40, "fault": None},
    "200": {"label": "200 players", "players": 200, "seconds": 60, "fault": None},
    "kill": {"label": "200 + worker kill", "players": 200, "seconds": 60, "fault": "worker"},
    "redis": {"label": "200 + Redis restart", "players": 200, "seconds": 60, "fault": "redis"},
}


def free_port(taken: set[int]) -> int:
    for port in PORT_RANGE:
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port in 8400-8499")


# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------
def fresh_database() -> str:
    """DATABASE_URL of a new, empty database: PostgreSQL if reachable, else SQLite."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")
        return f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"
    except Exception as exc:  # no server, no driver: the bench still runs
        print(f"PostgreSQL unreachable ({exc}); using SQLite", flush=True)
        (VAR_DIR / "db.sqlite3").unlink(missing_ok=True)
        return f"sqlite:///{VAR_DIR / 'db.sqlite3'}"


def manage(env: dict, *argv: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *argv], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip


CREATE_ACCOUNTS = """
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
User = get_user_model()
password = make_password({password!r})  # one hash for all: hashing 200 takes a minute
User.objects.bulk_create(
    [User(username=f"load-{{n:04d}}", password=password) for n in range({count})],
    ignore_conflicts=True,
)
"""

COUNT_DRAWINGS = """
import json
from django.db.models import Count
from guessgame.game.models import Drawing
by_status = dict(Drawing.objects.values_list("prediction_status").annotate(n=Count("id")))
print(json.dumps({"stored": sum(by_status.values()), "by_status": by_status}))
"""


def drawing_counts(env: dict) -> dict:
    return json.loads(manage(env, "shell", "-c", COUNT_DRAWINGS).strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# The stack
# ---------------------------------------------------------------------------
class Stack:
    """Redis + gunicorn + Celery worker + beat, like `make serve`, each restartable."""

    def __init__(self, args, env: dict, redis_port: int) -> None:
        self.args, self.env, self.redis_port = args, env, redis_port
        self.procs: dict[str, subprocess.Popen] = {}
        self.log = open(VAR_DIR / "stack.log", "ab")

    def argv(self, name: str) -> list[str]:
        pool = (
            ["--pool=solo"] if self.args.pool == "solo" else ["--pool=prefork", "--concurrency=2"]
        )
        return {
            "redis": ["/usr/bin/redis-server", "--port", str(self.redis_port), "--bind",
                      "127.0.0.1", "--save", "", "--appendonly", "no"],
            "worker": [str(BIN / "celery"), "-A", "guessgame", "worker", "--loglevel=WARNING",
                       "--without-gossip", "--without-mingle", *pool],
            "beat": [str(BIN / "celery"), "-A", "guessgame", "beat", "--loglevel=WARNING",
                     f"--schedule={VAR_DIR / 'celerybeat-schedule'}"],
            "web": [str(BIN / "gunicorn"), "guessgame.wsgi", "--config",
                    "guessgame/gunicorn.conf.py"],
        }[name]  # fmt: skip

    def start(self, name: str) -> None:
        self.log.write(f"\n== {time.strftime('%H:%M:%S')} start {name}\n".encode())
        self.log.flush()
        self.procs[name] = subprocess.Popen(
            self.argv(name), cwd=ROOT, env=self.env, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        self.log.write(f"\n== {time.strftime('%H:%M:%S')} {sig.name} {name}\n".encode())
        os.killpg(proc.pid, sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def start_all(self) -> None:
        for name in ("redis", "worker", "beat", "web"):
            self.start(name)
        wait_ready(self.args.port, FINAL_DRAWING)

    def stop_all(self) -> None:
        for name in ("web", "beat", "worker", "redis"):
            self.stop(name)
        self.log.close()

    def pids(self, name: str) -> list[int]:
        main = self.procs[name].pid
        return [main] + [int(p) for p in _children(main)]


def wait_ready(port: int, body: bytes, timeout: float = 90) -> None:
    """Until the API answers a prediction: web, Redis and worker are all up."""
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", "/api/v1/predict", body=body,
                               headers={"Content-Type": "image/png"})  # fmt: skip
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"stack not ready, see {VAR_DIR / 'stack.log'}")


# ---------------------------------------------------------------------------
# One phase
# ---------------------------------------------------------------------------
def run_phase(args, stack: Stack, key: str) -> dict:
    phase = PHASES[key]
    players = phase["players"]
    users = players * (PLAYER_WEIGHT + API_WEIGHT) // PLAYER_WEIGHT
    duration = args.duration or phase["seconds"]
    prefix = VAR_DIR / f"locust-{key}"
    samples_out = VAR_DIR / f"samples-{key}.json"
    samples_out.unlink(missing_ok=True)
    env = dict(os.environ, LOAD_ACCOUNTS=str(args.accounts), LOAD_PASSWORD=args.password,
               LOAD_SAMPLES_OUT=str(samples_out), PYTHONUNBUFFERED="1")  # fmt: skip
    argv = [
        str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "-u", str(users),
        "-r", str(args.spawn_rate), "--run-time", f"{duration}s", "--csv", str(prefix),
        "--host", f"http://127.0.0.1:{args.port}", "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    before = drawing_counts(stack.env)
    print(f"== {phase['label']}: {users} users for {duration} s ...", flush=True)
    load_before = os.getloadavg()
    with open(f"{prefix}.log", "wb") as log:
        locust = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        fault_log, fault_started = [], None
        if phase["fault"]:
            fault_started = time.time() + FAULT_AFTER_SECONDS
            fault_log = inject_fault(stack, phase["fault"])
        locust.wait(duration + 60)
    load_after = os.getloadavg()
    settle = settle_drawings(stack.env, before)
    result = {
        "users": users,
        "players": players,
        "duration_s": duration,
        "spawn_rate": args.spawn_rate,
        **read_samples(samples_out, fault_started),
        **settle,
        "fault": fault_log,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
    }
    return result


def inject_fault(stack: Stack, fault: str) -> list[str]:
    """Kill the worker (SIGKILL) or stop Redis, then bring a new one up 5 s later."""
    events = []
    time.sleep(FAULT_AFTER_SECONDS)
    if fault == "worker":
        events.append(f"{time.strftime('%H:%M:%S')} SIGKILL worker pids {stack.pids('worker')}")
        stack.stop("worker", signal.SIGKILL)
    else:
        events.append(f"{time.strftime('%H:%M:%S')} stop Redis")
        stack.stop("redis")
    print(f"   {events[-1]}", flush=True)
    time.sleep(FAULT_DOWN_SECONDS)
    stack.start(fault)
    events.append(f"{time.strftime('%H:%M:%S')} started a new {fault}")
    print(f"   {events[-1]}", flush=True)
    return events


def settle_drawings(env: dict, before: dict) -> dict:
    """Wait for the sweep to predict every stored drawing; the phase's counts."""
    started = time.monotonic()
    while True:
        counts = drawing_counts(env)
        pending = counts["by_status"].get("pending", 0)
        if pending == 0 or time.monotonic() - started > SETTLE_SECONDS:
            break
        time.sleep(2)
    done = counts["by_status"].get("done", 0) - before["by_status"].get("done", 0)
    return {
        "drawings_stored": counts["stored"] - before["stored"],
        "drawings_predicted": done,
        "drawings_by_status_total": counts["by_status"],
        "settle_s": round(time.monotonic() - started, 1),
    }


def figures(samples: list, seconds: float) -> dict:
    """requests/s, percentiles (nearest rank, ms) and failures of (time, name, ms, error)."""
    times = sorted(sample[2] for sample in samples)

    def pick(q: float) -> float | None:
        return times[min(len(times) - 1, int(len(times) * q))] if times else None

    return {
        "requests": len(times),
        "failures": sum(sample[3] is not None for sample in samples),
        "requests_per_s": round(len(times) / seconds, 1) if seconds else 0,
        "p50_ms": pick(0.5),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "max_ms": times[-1] if times else None,
    }


def read_samples(path: Path, fault_started: float | None) -> dict:
    """The phase's figures from every request the locustfile kept."""
    raw = json.loads(path.read_text())
    samples = raw["requests"]
    first, last = samples[0][0], samples[-1][0]
    seconds = last - first
    signed_in = max(s[0] for s in samples if "/accounts/login" in s[1])
    after_sign_in = [s for s in samples if s[0] > signed_in]
    routes = sorted({s[1] for s in samples})
    kinds = Counter(f"{s[1]}: {s[3]}" for s in samples if s[3] is not None)
    result = {
        "total": figures(samples, seconds),
        "after_sign_in": {
            "seconds": round(last - signed_in, 1),
            **figures(after_sign_in, last - signed_in),
        },
        "routes": {r: figures([s for s in samples if s[1] == r], seconds) for r in routes},
        "failure_kinds": [f"{n}x {kind}" for kind, n in kinds.most_common(8)],
        "scoring": summarise_scoring(raw["scoring"]),
    }
    if fault_started is not None:
        window_end = fault_started + FAULT_DOWN_SECONDS + 10
        window = [s for s in samples if fault_started <= s[0] < window_end]
        result["fault_window"] = {
            "seconds": FAULT_DOWN_SECONDS + 10,
            **figures(window, FAULT_DOWN_SECONDS + 10),
        }
    return result


def summarise_scoring(raw: dict) -> dict:
    times = sorted(raw["scored_ms"])

    def pick(q: float) -> int | None:
        return times[min(len(times) - 1, int(len(times) * q))] if times else None

    return {
        "rounds_submitted": raw["rounds"],
        "scored_in_time": len(times),
        "gave_up": raw["gave_up"],
        "submit_to_scored_p50_ms": pick(0.5),
        "submit_to_scored_p95_ms": pick(0.95),
    }


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
def print_table(results: dict) -> None:
    header = (f"{'phase':22}{'users':>6}{'req/s':>7}{'p50':>6}{'p95':>7}{'p99':>7}{'fails':>6}"
              f"{'| signed in: req/s':>18}{'p50':>6}{'p95':>6}{'p99':>6}"
              f"{'| stored':>9}{'predicted':>10}"
              f"{'| scored p95':>12}{'gave up':>8}")  # fmt: skip
    print("\n" + header + "\n" + "-" * len(header))
    for label, r in results.items():
        t, n, s = r["total"], r["after_sign_in"], r["scoring"]
        print(
            f"{label:22}{r['users']:>6}{t['requests_per_s']:>7}{t['p50_ms']:>6.0f}"
            f"{t['p95_ms']:>7.0f}{t['p99_ms']:>7.0f}{t['failures']:>6}"
            f"{n['requests_per_s']:>18}{n['p50_ms']:>6.0f}{n['p95_ms']:>6.0f}{n['p99_ms']:>6.0f}"
            f"{r['drawings_stored']:>9}{r['drawings_predicted']:>10}"
            f"{s['submit_to_scored_p95_ms'] or '-':>12}{s['gave_up']:>8}"
        )
    print("(ms; 'signed in': from the last sign-in (PBKDF2) of the ramp on; 'scored p95': from")
    print(" the submit's 201 to result.json saying scored, as the players polled it)")
    for label, r in results.items():
        if "fault_window" in r:
            w = r["fault_window"]
            print(f"  {label}, {w['seconds']} s from the fault: {w['requests_per_s']} req/s, "
                  f"p50 {w['p50_ms']}, p95 {w['p95_ms']}, p99 {w['p99_ms']}, "
                  f"{w['failures']} failures")  # fmt: skip
        for kind in r["failure_kinds"][:5]:
            print(f"  {label}: {kind}")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
FINAL_DRAWING = b""


def main() -> None:
    global FINAL_DRAWING
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", default="50,200,kill,redis",
                        help="Comma-separated phases among 50, 200, kill, redis.")  # fmt: skip
    parser.add_argument(
        "--duration", type=int, default=0, help="Seconds per phase (default: 40 or 60)."
    )
    parser.add_argument("--spawn-rate", type=int, default=10, help="Users started per second.")
    parser.add_argument("--pool", choices=["solo", "prefork"], default="solo",
                        help="Celery pool: solo, or prefork --concurrency=2.")  # fmt: skip
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes.")
    parser.add_argument("--threads", type=int, default=32, help="gunicorn threads per process.")
    parser.add_argument("--accounts", type=int, default=200, help="Player accounts created.")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where to write the JSON.")
    args = parser.parse_args()
    keys = args.phases.split(",")
    unknown = set(keys) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {sorted(unknown)}")

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    taken: set[int] = set()
    args.port, redis_port = free_port(taken), free_port(taken)
    args.password = secrets.token_urlsafe(12)
    sys.path.insert(0, str(ROOT))
    from inference.canvas import render_strokes
    from tests.e2e.strokes import digit_strokes

    FINAL_DRAWING = render_strokes(digit_strokes(3))

    api_args = Namespace(port=args.port, window_ms=2.0, dispatchers=2,
                         web_workers=args.web_workers, threads=args.threads)  # fmt: skip
    env = stack_env(api_args, batching=True)
    env.update({
        "SECRET_KEY": secrets.token_urlsafe(50),
        "GUESSGAME_VAR_DIR": str(VAR_DIR),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DATABASE_URL": fresh_database(),
        "CONN_MAX_AGE": "60",
        "GUESSGAME_SWEEP_SECONDS": str(SWEEP_SECONDS),
        # Hundreds of players sign in from this one address: a per-client login limit
        # would stop the load test, not protect anything.
        "GUESSGAME_LOGIN_RATE": "off",
    })  # fmt: skip
    (VAR_DIR / "celerybeat-schedule").unlink(missing_ok=True)
    print(f"database {env['DATABASE_URL']}, Redis :{redis_port}, web :{args.port}", flush=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "shell", "-c", CREATE_ACCOUNTS.format(password=args.password, count=args.accounts))

    stack = Stack(args, env, redis_port)
    results = {}
    try:
        stack.start_all()
        for key in keys:
            results[PHASES[key]["label"]] = run_phase(args, stack, key)
            print(json.dumps(results[PHASES[key]["label"]]["total"]), flush=True)
    except KeyboardInterrupt:
        print("interrupted: stopping the stack", flush=True)
    finally:
        stack.stop_all()
    if not results:
        return
    print_table(results)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count()},
        "command": " ".join(["python", *sys.argv]),
        "stack": {
            "gunicorn": f"{args.web_workers} gthread workers x {args.threads} threads",
            "celery": "--pool=solo" if args.pool == "solo" else "--pool=prefork --concurrency=2",
            "beat_sweep_seconds": SWEEP_SECONDS,
            "database": env["DATABASE_URL"].split("@")[-1],
            "conn_max_age_s": 60,
            "batching": "on (2 ms window, 2 dispatchers)",
            "locust": f"Player:ApiClient = {PLAYER_WEIGHT}:{API_WEIGHT}, -r {args.spawn_rate}",
        },
        "phases": results,
    }
    write_report(args.out, report)


if __name__ == "__main__":
    main()
