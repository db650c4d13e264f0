"""The default run needs no server: SQLite, the embedded Redis and a worker (`make run`)."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inference.canvas import render_strokes
from tests.conftest import ROOT, free_port

SEVEN = [[[40, 180, 120], [40, 40, 190], [0, 200, 400]]]


def http(method: str, url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def start_stack(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Start a process manager in its own process group, its output going to `log` (a file,
    not a pipe: nothing reads a pipe while the test waits, and a failure shows it all)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def first_traceback(log: Path) -> str:
    """The stack's first error line, then the output around its traceback (else the log's
    end), for failure messages: the error comes first, so a shortened report still has it."""
    text = log.read_text(errors="replace")
    at = text.find("Traceback")
    if at < 0:
        return text[-4000:]
    start = text.rfind("\n", 0, at) + 1
    process = text[start:at].split("|")[0][9:].strip()  # "16:30:07 web.1    | " -> web.1
    lines = [line.split("| ", 1)[-1] for line in text[at:].splitlines()[1:] if process in line[:30]]
    error = next((line for line in lines if line and not line[0].isspace()), "?")
    return f"first error: {error}\n" + text[max(0, at - 1500) : at + 4000]


HEALTH_TOKEN = "zero-setup-probe"
"""Given to the stacks as GUESSGAME_HEALTH_TOKEN, so /readyz shows its details."""


def wait_until_healthy(base: str, stack: subprocess.Popen, log: Path, seconds: float = 120) -> dict:
    """Poll /readyz until every part is up (the stack's processes start in any order),
    then check the load balancers' /healthz agrees."""
    deadline = time.monotonic() + seconds
    status, body = None, None
    while time.monotonic() < deadline and stack.poll() is None:
        try:
            status, body = http(
                "GET", base + "/readyz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"}
            )
            if status == 200:
                live_status, live = http("GET", base + "/healthz")
                assert live_status == 200 and live["status"] == "ok", live
                return body
        except (urllib.error.URLError, ConnectionError) as error:
            status, body = None, repr(error)
        time.sleep(1)
    raise AssertionError(f"/readyz never answered 200: {status} {body}\n{first_traceback(log)}")


def stop_with_ctrl_c(stack: subprocess.Popen, log: Path) -> None:
    """Ctrl-C the whole process group; every process of the stack must be gone after."""
    os.killpg(stack.pid, signal.SIGINT)
    try:
        stack.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(stack.pid, signal.SIGKILL)
        stack.wait()
    time.sleep(1)
    with pytest.raises(ProcessLookupError):
        os.killpg(stack.pid, 0)
    assert "Traceback" not in log.read_text(errors="replace"), first_traceback(log)


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
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_ENV", "DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in drop | {"SECRET_KEY"}}
    env.update(
        GUESSGAME_VAR_DIR=str(tmp_path / "var"), PORT=str(free_port()),
        GUESSGAME_HEALTH_TOKEN=HEALTH_TOKEN,
    )  # fmt: skip
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    log = tmp_path / "stack.log"
    stack = start_stack(["make", "--no-print-directory", "serve"], env, log)
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
