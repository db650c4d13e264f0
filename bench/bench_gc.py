"""How long a full garbage collection holds a web process, with and without the freeze.

A gunicorn process's thread that runs a full (generation-2) collection holds the GIL
until it is done: every request of that process waits. This loads the web app as
gunicorn's ``post_worker_init`` leaves it (Django set up, the WSGI handler, every view
imported through the URL resolver), times ``gc.collect(2)`` as it is, then after
``guessgame.gc_freeze.freeze_startup_objects`` (what that hook and the Celery worker's
``worker_ready`` call), in one process, one after the other.

    .venv/bin/python bench/bench_gc.py [--repeat 15]

Writes bench/results/gc.json. Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reports import write_report  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "gc.json"


def load_the_web_app() -> None:
    """What a gunicorn worker holds once it has served a few pages."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guessgame.settings")
    from django.core.wsgi import get_wsgi_application

    from guessgame.gc_freeze import load_every_view

    get_wsgi_application()
    load_every_view()


def full_collection_ms(repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        gc.collect(2)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="Collections timed each way.")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where to write the JSON.")
    args = parser.parse_args()

    load_the_web_app()
    from guessgame.gc_freeze import freeze_startup_objects

    tracked = len(gc.get_objects())
    before = full_collection_ms(args.repeat)
    frozen = freeze_startup_objects()
    after = full_collection_ms(args.repeat)
    report = {
        "objects_tracked": tracked,
        "objects_frozen": frozen,
        "repeat": args.repeat,
        "before_ms_median": round(statistics.median(before), 2),
        "after_us_median": round(statistics.median(after) * 1000, 1),
    }
    print(
        f"full collection, web app loaded ({tracked:,} objects): "
        f"{report['before_ms_median']} ms as it is, {report['after_us_median']} µs frozen "
        "(objects made later are still collected: under load, 6-10 ms; README)"
    )
    write_report(args.out, report)


if __name__ == "__main__":
    main()
