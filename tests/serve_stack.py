"""One launcher for `make serve`'s stack, shared by the tests and the benches that need the
real thing: `make` in its own process group, output to a file, /healthz polled until up.

Under `make serve`, supervisord puts each program in a process group of its own, so a
check that nothing is left looks at every process the stack ever had, not one group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def http(method: str, url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def serve_env(var_dir: Path, port: int) -> dict:
    """The environment of a new user typing `make serve`: no services, no secret key."""
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_ENV", "DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in drop | {"SECRET_KEY"}}
    env.update(GUESSGAME_VAR_DIR=str(var_dir), PORT=str(port), GUESSGAME_HEALTH_TOKEN=HEALTH_TOKEN)
    env["PATH"] = f"{BIN}:{env['PATH']}"
    return env


def start_stack(command: list[str], env: dict, log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    """Start a process manager in its own process group, its output going to `log` (a file,
    not a pipe: nothing reads a pipe while the test waits, and a failure shows it all).
    Opened for appending: supervisord reopens /dev/stdout, and both must write at the end."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def start_serve(env: dict, log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    """`make serve` in ``cwd`` (a checkout: this one, or a bench's baseline)."""
    return start_stack(["make", "--no-print-directory", "serve"], env, log, cwd)


def first_traceback(log: Path) -> str:
    """The stack's first error line, then the output around its traceback (else the log's
    end), for failure messages: the error comes first, so a shortened report still has it."""
    text = log.read_text(errors="replace")
    at = text.find("Traceback")
    if at < 0:
        return text[-4000:]
    start = text.rfind("\n", 0, at) + 1
    lines = text[at:].splitlines()[1:]
    if "|" in text[start:at]:  # honcho: "16:30:07 web.1    | "; supervisord: no prefix
        process = text[start:at].split("|")[0][9:].strip()
        lines = [line.split("| ", 1)[-1] for line in lines if process in line[:30]]
    error = next((line for line in lines if line and not line[0].isspace()), "?")
    return f"first error: {error}\n" + text[max(0, at - 1500) : at + 4000]


HEALTH_TOKEN = "zero-setup-probe"
"""Given to the stacks as GUESSGAME_HEALTH_TOKEN, so /readyz shows its details."""


LIVENESS_LAG_SECONDS = 6.0
"""Three of guessgame.health's SNAPSHOT_SECONDS (not imported: the benches use this module
without Django set up)."""


def assert_liveness_agrees(base: str) -> None:
    """/healthz says ok within one snapshot period of /readyz saying so: each web process
    keeps its own snapshot, and the probe may reach one computed just before the workers'
    first heartbeat."""
    deadline = time.monotonic() + LIVENESS_LAG_SECONDS
    while True:
        live_status, live = http("GET", base + "/healthz")
        if (live_status == 200 and live["status"] == "ok") or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert live_status == 200 and live["status"] == "ok", live


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
                assert_liveness_agrees(base)
                return body
        except OSError as error:  # refused, reset or timed out while starting
            status, body = None, repr(error)
        time.sleep(1)
    raise AssertionError(f"/readyz never answered 200: {status} {body}\n{first_traceback(log)}")


def descendants(pid: int) -> set[int]:
    """Every living process under `pid` (children, their children, ...)."""
    found, todo = set(), [pid]
    while todo:
        path = Path(f"/proc/{todo.pop()}/task")
        for task in path.iterdir() if path.exists() else ():
            children = task / "children"
            for child in children.read_text().split() if children.exists() else ():
                if int(child) not in found:
                    found.add(int(child))
                    todo.append(int(child))
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to read its exit status."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_leftovers(pids: set[int]) -> None:
    """SIGKILL whatever of the stack still runs, each in its own process group."""
    for pid in pids:
        if alive(pid):
            try:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def stop_with_ctrl_c(stack: subprocess.Popen, log: Path) -> None:
    """Ctrl-C the whole process group; every process of the stack must be gone after."""
    seen = descendants(stack.pid)
    os.killpg(stack.pid, signal.SIGINT)
    try:
        stack.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(stack.pid, signal.SIGKILL)
        stack.wait()
    time.sleep(1)
    left = sorted(pid for pid in seen if alive(pid))
    kill_leftovers(seen)
    assert not left, f"still running after Ctrl-C: {[command_line(pid) for pid in left]}"
    try:
        os.killpg(stack.pid, 0)
        raise AssertionError("the stack's process group outlived Ctrl-C")
    except ProcessLookupError:
        pass
    assert "Traceback" not in log.read_text(errors="replace"), first_traceback(log)
