"""The default run needs no server: SQLite, the embedded Redis and a worker (`make run`)."""

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from inference.canvas import render_strokes
from tests.conftest import ROOT, free_port
from tests.serve_stack import (
    HEALTH_TOKEN,
    http,
    serve_env,
    start_serve,
    start_stack,
    stop_with_ctrl_c,
    wait_until_healthy,
)

SEVEN = [[[40, 180, 120], [40, 40, 190], [0, 200, 400]]]


@pytest.mark.integration
def test_a_fresh_checkout_migrates_starts_and_predicts_with_no_services(tmp_path):
    # The shipped model is part of the repository: without it nothing could predict.
    assert (ROOT / "inference" / "shipped" / "default-v2" / "model.tflite").exists()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        GUESSGAME_VAR_DIR=str(tmp_path / "var"), GUESSGAME_PORT=str(free_port()),
        GUESSGAME_HEALTH_TOKEN=HEALTH_TOKEN,
    )  # fmt: skip
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "var" / "db.sqlite3").exists()

    log = tmp_path / "stack.log"
    stack = start_stack(
        [str(Path(sys.executable).parent / "honcho"), "--procfile", "Procfile", "start"], env, log
    )
    base = f"http://127.0.0.1:{env['GUESSGAME_PORT']}"
    try:
        body = wait_until_healthy(base, stack, log)
        assert body["broker"]["embedded"] is True
        assert body["database"]["vendor"] == "sqlite"

        png = render_strokes(SEVEN)
        status, prediction = http(
            "POST", base + "/api/v1/predict", data=png, headers={"Content-Type": "image/png"}
        )
        assert status == 200, prediction
        assert prediction["blank"] is False
        assert prediction["digit"] == 7
        assert prediction["model_version"] == body["model_version"]
    finally:
        # Ctrl-C stops every process of the stack: none of the group is left running.
        stop_with_ctrl_c(stack, log)


@pytest.mark.integration
def test_make_serve_runs_the_production_stack_with_no_services_and_stops_on_ctrl_c(tmp_path):
    """`make serve` as a new user (or an outside judge) runs it: gunicorn, whitenoise, a
    worker, beat and the embedded Redis; /healthz, static files and the API answer."""
    env = serve_env(tmp_path / "var", free_port())
    log = tmp_path / "stack.log"
    stack = start_serve(env, log)
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        body = wait_until_healthy(base, stack, log)
        assert body["broker"]["embedded"] is True and body["workers"]["count"] >= 1

        png = render_strokes(SEVEN)
        status, prediction = http(
            "POST", base + "/api/v1/predict", data=png, headers={"Content-Type": "image/png"}
        )
        assert status == 200, prediction
        assert prediction["digit"] == 7 and prediction["model_version"] == body["model_version"]

        status, error = http(
            "POST",
            base + "/api/v1/predict",
            data=b"not a png",
            headers={"Content-Type": "image/png"},
        )
        assert status == 400 and error["error"]

        with urllib.request.urlopen(base + "/", timeout=10) as page:
            html = page.read().decode()
            assert "Strict-Transport-Security" not in page.headers  # plain HTTP here
        stylesheet = html.split('rel="stylesheet" href="')[1].split('"')[0]
        with urllib.request.urlopen(base + stylesheet, timeout=10) as css:  # whitenoise
            assert css.status == 200 and "max-age" in css.headers.get("Cache-Control", "")
    finally:
        stop_with_ctrl_c(stack, log)
