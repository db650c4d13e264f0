"""Benchmark POST /api/v1/predict end to end: web -> Redis -> Celery worker -> back.

Starts the `make serve` stack itself (DJANGO_ENV=production, gunicorn gthread with
whitenoise, a Celery worker; Redis is the local server) on a spare port, once per path:

- ``one task per drawing``: GUESSGAME_BATCHING=off, the original demo's way;
- ``batched``: dynamic batching (inference/batching.py).

For each: (1) one client, keep-alive, sequential requests: median and p95 latency;
(2) Debian's wrk, 32 connections, posting real drawings rendered with
inference.canvas.render_strokes (bench/wrk/predict.lua): predictions/s, p50/p95/p99,
errors. Then the RSS of every worker process. Prints a table with ratios and writes
bench/results/api.json.

    .venv/bin/python bench/bench_api.py [--duration 15] [--pool solo] [--model-dir DIR]

Not a test: the figures depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reports import write_report  # noqa: E402
from inference.canvas import CANVAS_PX, render_strokes  # noqa: E402

# ---------------------------------------------------------------------------
# Settings of the run
# ---------------------------------------------------------------------------
PORT = 8150
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
VAR_DIR = ROOT / "var" / "bench-inference"
DRAWINGS_DIR = VAR_DIR / "drawings"
DRAWING_COUNT = 24
ONE_CLIENT_WARMUP = 50
ONE_CLIENT_REQUESTS = 400
WRK_CONNECTIONS = 32
WRK_THREADS = 2
RESULTS = ROOT / "bench" / "results" / "api.json"
TARGETS = {"one_client_median_ms": 8.0, "throughput_per_s": 400, "p95_ms": 150.0}

# Digit skeletons on a 0-1 square, drawn with a little random jitter and placement.
SKELETONS = {
    0: [[(0.5, 0.1), (0.2, 0.3), (0.2, 0.7), (0.5, 0.9), (0.8, 0.7), (0.8, 0.3), (0.5, 0.1)]],
    1: [[(0.4, 0.2), (0.55, 0.1), (0.55, 0.9)]],
    2: [[(0.2, 0.3), (0.5, 0.1), (0.8, 0.3), (0.2, 0.9), (0.85, 0.9)]],
    3: [[(0.2, 0.15), (0.75, 0.25), (0.4, 0.5), (0.8, 0.7), (0.2, 0.9)]],
    4: [[(0.6, 0.1), (0.2, 0.6), (0.85, 0.6)], [(0.65, 0.35), (0.65, 0.9)]],
    5: [[(0.8, 0.1), (0.3, 0.1), (0.25, 0.45), (0.75, 0.55), (0.7, 0.85), (0.2, 0.9)]],
    6: [[(0.7, 0.1), (0.3, 0.5), (0.3, 0.85), (0.7, 0.85), (0.7, 0.55), (0.3, 0.55)]],
    7: [[(0.2, 0.1), (0.8, 0.1), (0.4, 0.9)]],
    8: [
        [
            (0.5, 0.5),
            (0.2, 0.3),
            (0.5, 0.1),
            (0.8, 0.3),
            (0.2, 0.7),
            (0.5, 0.9),
            (0.8, 0.7),
            (0.5, 0.5),
        ]
    ],  # fmt: skip
    9: [[(0.75, 0.45), (0.3, 0.45), (0.3, 0.1), (0.75, 0.1), (0.75, 0.45), (0.7, 0.9)]],
}


def write_drawings(directory: Path, count: int, seed: int = 7) -> list[bytes]:
    """Render ``count`` drawings like the browser canvas sends them (RGBA PNG)."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    bodies = []
    for index in range(count):
        digit = index % 10
        scale = rng.uniform(0.5, 0.8) * CANVAS_PX
        offset = rng.uniform(0.05, 0.4, size=2) * CANVAS_PX
        strokes = []
        for stroke in SKELETONS[digit]:
            points = np.array(stroke) * scale + offset + rng.normal(0, 3, size=(len(stroke), 2))
            times = np.arange(len(stroke)) * 40.0
            strokes.append([points[:, 0].tolist(), points[:, 1].tolist(), times.tolist()])
        body = render_strokes(strokes)
        (directory / f"{index + 1:02d}.png").write_bytes(body)
        bodies.append(body)
    return bodies


# ---------------------------------------------------------------------------
# The stack
# ---------------------------------------------------------------------------
def stack_env(args, *, batching: bool) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "guessgame.settings",
            "DJANGO_ENV": "production",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "GUESSGAME_VAR_DIR": str(VAR_DIR),
            "REDIS_URL": REDIS_URL,
            "GUESSGAME_PORT": str(args.port),
            "GUESSGAME_API_RATE": "off",  # a benchmark is one very busy client
            "GUESSGAME_BATCHING": "on" if batching else "off",
            "GUESSGAME_BATCH_WINDOW_MS": str(args.window_ms),
            "GUESSGAME_BATCH_DISPATCHERS": str(args.dispatchers),
            "WEB_CONCURRENCY": str(args.web_workers),
            "GUNICORN_THREADS": str(args.threads),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DATABASE_URL", None)  # SQLite under VAR_DIR
    return env


def prepare_database(args) -> None:
    """Migrate the bench database; activate --model-dir if given (else the shipped one)."""
    env = stack_env(args, batching=True)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env=env, check=True)  # fmt: skip
    if args.model_dir:
        code = (
            "import django; django.setup();"
            "from pathlib import Path; from inference.registry import register_model_dir;"
            f"register_model_dir(Path({str(args.model_dir)!r})).activate()"
        )
        subprocess.run([python, "-c", code], cwd=ROOT, env=env, check=True)


class Stack:
    """gunicorn + celery worker, started like `make serve`'s guessgame/supervisord.conf."""

    def __init__(self, args, *, batching: bool) -> None:
        self.args = args
        self.env = stack_env(args, batching=batching)
        self.procs: list[subprocess.Popen] = []
        self.log = open(VAR_DIR / f"stack-{'batched' if batching else 'plain'}.log", "ab")

    def start(self) -> None:
        bin_dir = Path(sys.executable).parent
        worker = [
            str(bin_dir / "celery"), "-A", "guessgame", "worker", "--loglevel=WARNING",
            f"--concurrency={self.args.concurrency}", f"--pool={self.args.pool}",
            "--prefetch-multiplier=1", "--without-gossip", "--without-mingle",
            "--without-heartbeat",
        ]  # fmt: skip
        web = [
            str(bin_dir / "gunicorn"),
            "guessgame.wsgi",
            "--config",
            "guessgame/gunicorn.conf.py",
        ]
        for argv in (worker, web):
            self.procs.append(
                subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=self.log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
            )  # fmt: skip
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        body = (DRAWINGS_DIR / "01.png").read_bytes()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status, _ = post(self.args.port, body)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"stack not ready, see {self.log.name}")

    def worker_rss_mb(self) -> dict:
        """RSS of the worker's main process and of each pool child, in MB."""
        main = self.procs[0].pid
        pids = [main] + [int(p) for p in _children(main)]
        return {str(pid): _rss_mb(pid) for pid in pids}

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.log.close()


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------
_connection: http.client.HTTPConnection | None = None


def post(port: int, body: bytes) -> tuple[int, bytes]:
    """One POST on a kept-alive connection (reopened after an error)."""
    global _connection
    if _connection is None or _connection.port != port:
        _connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        _connection.request(
            "POST", "/api/v1/predict", body=body, headers={"Content-Type": "image/png"}
        )
        response = _connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        _connection.close()
        _connection = None
        raise


def one_client(port: int, bodies: list[bytes]) -> dict:
    for index in range(ONE_CLIENT_WARMUP):
        post(port, bodies[index % len(bodies)])
    timings, errors = [], 0
    for index in range(ONE_CLIENT_REQUESTS):
        started = time.perf_counter()
        status, _ = post(port, bodies[index % len(bodies)])
        timings.append((time.perf_counter() - started) * 1000)
        errors += status != 200
    timings.sort()
    return {
        "requests": len(timings),
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "errors": errors,
    }


def load(port: int, duration: int) -> dict:
    env = dict(os.environ, PREDICT_DRAWINGS=str(DRAWINGS_DIR), PREDICT_COUNT=str(DRAWING_COUNT))
    argv = [
        "wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{duration}s", "--timeout", "10s",
        "-s", str(ROOT / "bench" / "wrk" / "predict.lua"), f"http://127.0.0.1:{port}/api/v1/predict",
    ]  # fmt: skip
    output = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    raw = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    errors = sum(raw[key] for key in raw if key.startswith("errors_"))
    return {
        "connections": WRK_CONNECTIONS,
        "duration_s": round(raw["duration_us"] / 1e6, 2),
        "requests": raw["requests"],
        "predictions_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": errors,
        "errors_detail": {key: raw[key] for key in raw if key.startswith("errors_")},
    }


def run_path(args, bodies: list[bytes], *, batching: bool) -> dict:
    stack = Stack(args, batching=batching)
    stack.start()
    try:
        latency = one_client(args.port, bodies)
        throughput = load(args.port, args.duration)
        # wrk leaves its last requests in flight; let them finish before stopping the
        # worker, or they end as 503s that no client sees but the log shows.
        time.sleep(1.5)
        rss = stack.worker_rss_mb()
    finally:
        stack.stop()
    return {"one_client": latency, "wrk": throughput, "worker_rss_mb": rss}


def ratio(new: float, old: float) -> str:
    return f"{new / old:.2f}x" if old else "-"


def print_table(results: dict) -> None:
    plain, batched = results["one task per drawing"], results["batched"]
    rows = [
        ("one client: median ms", "one_client", "median_ms"),
        ("one client: p95 ms", "one_client", "p95_ms"),
        ("32 conns: predictions/s", "wrk", "predictions_per_s"),
        ("32 conns: p50 ms", "wrk", "p50_ms"),
        ("32 conns: p95 ms", "wrk", "p95_ms"),
        ("32 conns: p99 ms", "wrk", "p99_ms"),
        ("32 conns: errors", "wrk", "errors"),
    ]
    print(f"\n{'':28}{'one task/drawing':>18}{'batched':>12}{'batched/plain':>15}")
    for label, part, key in rows:
        old, new = plain[part][key], batched[part][key]
        print(f"{label:28}{old:>18}{new:>12}{ratio(new, old):>15}")
    for name, result in results.items():
        print(f"worker RSS MB ({name}): {result['worker_rss_mb']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=PORT, help="Port for gunicorn (8100-8199).")
    parser.add_argument("--duration", type=int, default=15, help="Seconds of wrk load per path.")
    parser.add_argument("--pool", default="solo", help="Celery pool: solo, prefork, threads.")
    parser.add_argument("--concurrency", type=int, default=1, help="Celery pool size.")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes.")
    parser.add_argument("--threads", type=int, default=32, help="gunicorn threads per process.")
    parser.add_argument("--window-ms", type=float, default=2.0, help="Batching window, ms.")
    parser.add_argument(
        "--dispatchers", type=int, default=2, help="Batches in flight per web process."
    )
    parser.add_argument("--model-dir", type=Path, help="Register and activate this model.")
    parser.add_argument(
        "--only", choices=["batched", "plain"], help="Run one path only (for tuning)."
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where to write the JSON.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    bodies = write_drawings(DRAWINGS_DIR, DRAWING_COUNT)
    prepare_database(args)

    results = {}
    for name, batching in (("one task per drawing", False), ("batched", True)):
        if args.only and args.only != ("batched" if batching else "plain"):
            continue
        print(f"== {name} ...", flush=True)
        results[name] = run_path(args, bodies, batching=batching)
        print(json.dumps(results[name], indent=1), flush=True)

    if len(results) == 2:
        print_table(results)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count()},
        "stack": {
            "gunicorn": f"{args.web_workers} gthread workers x {args.threads} threads",
            "celery": f"--pool={args.pool} --concurrency={args.concurrency}",
            "batch_window_ms": args.window_ms,
            "batch_dispatchers": args.dispatchers,
            "wrk": f"-t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{args.duration}s",
            "redis": REDIS_URL,
        },
        "targets": TARGETS,
        "results": results,
    }
    write_report(args.out, report)


if __name__ == "__main__":
    main()
