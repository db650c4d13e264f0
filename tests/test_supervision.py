"""`make serve` survives a crash: the process that died comes back alone, the rest serve on.

Under honcho a SIGKILLed worker took web, Redis and beat down with it; under supervisord
(guessgame/supervisord.conf) it is restarted while the web keeps answering, and the
same holds the other way round for gunicorn's master.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inference.canvas import render_strokes
from tests.conftest import ROOT, free_port
from tests.e2e.strokes import digit_strokes
from tests.serve_stack import (
    alive,
    command_line,
    descendants,
    first_traceback,
    http,
    kill_leftovers,
    serve_env,
    start_serve,
    wait_until_healthy,
)

SHELLS = {"sh", "bash", "dash"}
COME_BACK_SECONDS = 90
"""How long a restarted process may take to serve again on a busy 2-core machine: this
bounds the wait, it is not a speed target (bench/ measures speed)."""


def top_processes(root: int, *words: str) -> list[int]:
    """The stack's processes whose command line holds `words` and whose parent's does not
    (gunicorn's master, not its workers), shells that start them (honcho's) left out."""
    matches = [
        pid
        for pid in descendants(root)
        if all(w in command_line(pid) for w in words)
        and Path(command_line(pid).split()[0]).name not in SHELLS
    ]
    return [pid for pid in matches if _parent(pid) not in matches]


def find_process(root: int, *words: str) -> int:
    found = top_processes(root, *words)
    assert len(found) == 1, f"expected one {words} process: {[command_line(p) for p in found]}"
    return found[0]


def _parent(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])


def predicts(base: str) -> bool:
    try:
        status, body = http(
            "POST",
            base + "/api/v1/predict",
            render_strokes(digit_strokes(7)),
            {"Content-Type": "image/png"},
        )
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
    return status == 200 and body["digit"] == 7


def home_page_status(base: str) -> int | None:
    try:
        with urllib.request.urlopen(base + "/", timeout=10) as page:
            return page.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def program_states(env: dict) -> dict[str, str]:
    """`make status`'s answer: program name -> RUNNING, STARTING, BACKOFF..."""
    status = subprocess.run(
        ["make", "--no-print-directory", "status"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    return dict(line.split()[:2] for line in status.stdout.splitlines()[1:] if line.strip())


def wait_for(condition, what: str, stack: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + COME_BACK_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        if stack.poll() is not None:
            break
        time.sleep(0.5)
    raise AssertionError(f"{what}: not after {COME_BACK_SECONDS} s\n{first_traceback(log)}")


@pytest.mark.integration
def test_a_killed_worker_and_a_killed_web_server_each_come_back_while_the_other_serves(tmp_path):
    env = serve_env(tmp_path / "var", free_port())
    base = f"http://127.0.0.1:{env['PORT']}"
    log = tmp_path / "stack.log"
    stack = start_serve(env, log)
    seen: set[int] = set()
    try:
        wait_until_healthy(base, stack, log)
        assert predicts(base)
        seen |= descendants(stack.pid)

        # The worker dies: the web keeps serving pages, and predictions work again.
        worker = find_process(stack.pid, "celery", "guessgame worker")
        web = find_process(stack.pid, "gunicorn")
        os.kill(worker, signal.SIGKILL)
        assert home_page_status(base) == 200
        wait_for(lambda: predicts(base), "predictions after the worker's SIGKILL", stack, log)
        new_worker = find_process(stack.pid, "celery", "guessgame worker")
        assert new_worker != worker
        assert find_process(stack.pid, "gunicorn") == web  # the web server was left alone
        seen |= descendants(stack.pid)

        # gunicorn's master dies: a new one serves, and the worker was never restarted.
        # (The killed master's workers answer for a moment on their own, then exit: wait
        # for them to go and for a new master to answer.)
        orphans = descendants(web)
        os.kill(web, signal.SIGKILL)
        # Until they exit, the orphaned workers count as top gunicorn processes too.
        wait_for(
            lambda: not any(alive(pid) for pid in orphans), "the old workers' exit", stack, log
        )
        wait_for(
            lambda: (
                len(top_processes(stack.pid, "gunicorn")) == 1
                and top_processes(stack.pid, "gunicorn") != [web]
            ),
            "a new gunicorn master",
            stack,
            log,
        )
        new_web = find_process(stack.pid, "gunicorn")
        wait_for(lambda: predicts(base), "predictions after gunicorn's SIGKILL", stack, log)
        assert find_process(stack.pid, "gunicorn") == new_web
        assert find_process(stack.pid, "celery", "guessgame worker") == new_worker
        seen |= descendants(stack.pid)

        # `make status` (the README's way to look) shows every program running again.
        every_program_running = dict.fromkeys(("beat", "broker", "web", "worker"), "RUNNING")
        wait_for(lambda: program_states(env) == every_program_running, "`make status`", stack, log)

        # A service manager's stop: SIGTERM to make alone stops every process of the stack.
        os.kill(stack.pid, signal.SIGTERM)
        stack.wait(timeout=90)
        left = [command_line(pid) for pid in seen if alive(pid)]
        assert not left, f"still running after the stack stopped: {left}"
        with pytest.raises(ProcessLookupError):
            os.killpg(stack.pid, 0)
    finally:
        # Whatever failed or timed out above, leave nothing running.
        if stack.poll() is None:
            seen |= descendants(stack.pid)
            os.kill(stack.pid, signal.SIGTERM)
            try:
                stack.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
        kill_leftovers(seen)
