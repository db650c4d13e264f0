"""The shipped model beside the previous one and the demo's CNN, on every benchmark.

Each model is scored on the same drawings, made once (``training.evaluate``): MNIST
test, the canvas benchmark with its calibration error (ECE), the non-digit benchmark
(non-digits named as a digit at the game's threshold) and the style benchmark (digits in
hands unlike MNIST). Beside them, what serving costs: one drawing in process
(preprocessing + LiteRT on one thread, the models timed in turn, drawing by drawing, in
one run) and the resident memory of a process that loaded the model and predicted.

    .venv/bin/python bench/bench_models.py [--canvas 10000] [--drawings 300]

Prints a table and writes ``bench/results/models.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.reports import write_report  # noqa: E402
from inference.preprocess import preprocess_png  # noqa: E402
from inference.runtime import LiteRTModel  # noqa: E402
from training import evaluate  # noqa: E402
from training.data import load_mnist  # noqa: E402

SHIPPED = ROOT / "inference" / "shipped"
MODELS = {
    "seed (the demo's CNN)": ROOT / "var" / "models" / "seed-full",
    "default-v2": SHIPPED / "default-v2",
    "default-v3": SHIPPED / "default-v3",
}
RESULTS = ROOT / "bench" / "results" / "models.json"
WARMUP = 20

RSS_PROBE = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guessgame.settings")
django.setup()
import numpy as np
import guessgame.celery, inference.tasks  # what a worker process imports
from inference.runtime import LiteRTModel
model = LiteRTModel(sys.argv[1])
for size in (1, 8, 64):
    model.predict(np.zeros((size, 28, 28), np.float32))
# VmHWM, not ru_maxrss: after fork and exec, ru_maxrss keeps the parent's peak.
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
"""


def peak_rss_mb(model_file: Path) -> float:
    """Peak resident memory of a fresh process set up as a worker (Django, the Celery
    app, the tasks) that loaded the model and predicted batches of 1, 8 and 64."""
    out = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(model_file)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
        env={**os.environ, "GUESSGAME_VAR_DIR": str(ROOT / "var" / "bench")},
    )  # fmt: skip
    return int(out.stdout.split()[-1]) / 1024


def time_in_turn(pngs: list[bytes], models: dict[str, LiteRTModel]) -> dict[str, np.ndarray]:
    """Seconds per drawing (PNG -> guess), the models alternating drawing by drawing, so
    a busy moment of the machine costs them all alike."""
    for model in models.values():
        for png in pngs[:WARMUP]:
            model.predict(preprocess_png(png).pixels)
    times = {name: [] for name in models}
    for png in pngs:
        for name, model in models.items():
            started = time.perf_counter()
            model.predict(preprocess_png(png).pixels)
            times[name].append(time.perf_counter() - started)
    return {name: np.asarray(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--canvas", type=int, default=10_000, help="canvas benchmark digits")
    parser.add_argument("--drawings", type=int, default=300, help="drawings timed per model")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    present = {name: d for name, d in MODELS.items() if (d / "model.tflite").exists()}
    missing = sorted(set(MODELS) - set(present))
    if missing:
        print(f"skipped (not trained here; `make bench` trains the seed CNN): {missing}")
    test = load_mnist().test
    print("drawing the benchmarks once for every model ...", flush=True)
    inputs = evaluate.benchmark_inputs(test.images, test.labels, canvas_limit=args.canvas)
    results = {}
    for name, directory in present.items():
        stats = evaluate.score(evaluate.tflite_predict(directory / "model.tflite"), inputs)
        results[name] = {
            "mnist_test_accuracy": stats["mnist_test_accuracy"],
            "mnist_refused": stats["mnist_refused"],
            "canvas_accuracy": stats["canvas_accuracy"],
            "canvas_refused": stats["canvas_refused"],
            "canvas_ece": stats["canvas_ece"],
            "nondigit_named_as_digit": stats["nondigit"]["named_as_digit_rate"],
            "nondigit_per_kind": stats["nondigit"]["per_kind"],
            "style_accuracy": stats["style"]["accuracy"],
            "style_refused": stats["style"]["refused"],
            "model_file_kb": round((directory / "model.tflite").stat().st_size / 1024),
            "worker_model_rss_mb": round(peak_rss_mb(directory / "model.tflite"), 1),
        }

    pngs = evaluate.canvas_drawings(test.images, seed=evaluate.CANVAS_SEED, limit=args.drawings)
    loaded = {name: LiteRTModel(d / "model.tflite") for name, d in present.items()}
    for name, times in time_in_turn(pngs, loaded).items():
        results[name]["one_drawing_ms_median"] = round(float(np.median(times)) * 1000, 3)
        results[name]["one_drawing_ms_p95"] = round(float(np.percentile(times, 95)) * 1000, 3)
    if "default-v2" in results and "default-v3" in results:
        ratio = (
            results["default-v3"]["one_drawing_ms_median"]
            / results["default-v2"]["one_drawing_ms_median"]
        )
        results["default-v3"]["one_drawing_vs_v2"] = round(ratio, 3)

    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "canvas_digits": len(inputs.canvas_labels),
        "nondigit_drawings": len(inputs.nondigit_kinds),
        "style_digits": len(inputs.style_labels),
        "threshold": evaluate.GAME_THRESHOLD,
        "drawings_timed": len(pngs),
        "models": results,
    }
    write_report(args.out, report)
    rows = [
        ("MNIST test", "mnist_test_accuracy", "{:.2%}"),
        ("canvas benchmark", "canvas_accuracy", "{:.2%}"),
        ("  digits refused", "canvas_refused", "{:.2%}"),
        ("  ECE", "canvas_ece", "{:.2%}"),
        ("non-digits named a digit", "nondigit_named_as_digit", "{:.1%}"),
        ("style benchmark", "style_accuracy", "{:.2%}"),
        ("one drawing, median ms", "one_drawing_ms_median", "{:.2f}"),
        ("worker process RSS, MB", "worker_model_rss_mb", "{:.0f}"),
    ]
    print(f"{'':28}" + "".join(f"{name[:22]:>24}" for name in results))
    for label, key, fmt in rows:
        print(f"{label:28}" + "".join(f"{fmt.format(r[key]):>24}" for r in results.values()))
    print(f"written: {args.out}")
    return report


if __name__ == "__main__":
    main()
