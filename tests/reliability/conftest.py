"""A private stack for tests that break things: its own redis-server, web and worker.

Killing the shared Redis or the session's worker would break other tests, so these
tests start their own on spare ports, against the same test database.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, WorkerProcess, free_port, start_redis_server, subprocess_env


class PrivateWorker(WorkerProcess):
    """A worker (with beat, for the sweep) on the private Redis."""

    def __init__(self, log_path: Path, redis_url: str):
        super().__init__(log_path, extra_args=("--beat", f"--schedule={log_path.parent}/beat"))
        self.redis_url = redis_url
        self.app = "guessgame"  # tests.reliability.slow_worker holds each prediction

    def start(self, wait: bool = True) -> None:
        argv = [
            sys.executable, "-m", "celery", "-A", self.app, "worker", "--loglevel=INFO",
            "--concurrency=1", f"--hostname={self.hostname}", "--without-gossip",
            "--without-mingle", *self.extra_args,
        ]  # fmt: skip
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        if wait:
            self.wait_until_log_says("ready.")

    def env(self) -> dict:
        # A short sweep so a test sees recovery in seconds, not the default 30 s.
        return subprocess_env(REDIS_URL=self.redis_url, GUESSGAME_SWEEP_SECONDS="2")

    def wait_until_log_says(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as log:
                log.seek(self.log_offset)
                said = log.read().decode(errors="replace")
            if text in said:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(self.log_path.read_text()[-3000:])
            time.sleep(0.1)
        raise RuntimeError(f"worker never said {text!r}: {self.log_path.read_text()[-3000:]}")

    def started(self) -> list[int]:
        """Drawing ids whose prediction a slow worker has started (and is holding)."""
        return self._drawings_logged("event=prediction_started")

    def recorded(self) -> list[int]:
        """Drawing ids whose prediction this worker (across restarts) wrote, one per write."""
        return self._drawings_logged("event=prediction_recorded")

    def _drawings_logged(self, event: str) -> list[int]:
        ids = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if event in line:
                ids.append(int(line.split("drawing=")[1].split()[0]))
        return ids


class PrivateStack:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.redis: subprocess.Popen | None = None
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.web: subprocess.Popen | None = None
        self.worker = PrivateWorker(tmp / "worker.log", self.redis_url)

    def start_redis(self) -> None:
        self.redis = start_redis_server(port=self.redis_port)

    def stop_redis(self) -> None:
        self.redis.terminate()
        self.redis.wait(10)

    def start_web(self) -> None:
        argv = [
            sys.executable, "-m", "gunicorn", "guessgame.wsgi", "--bind",
            f"127.0.0.1:{self.web_port}", "--workers", "1", "--worker-class", "gthread",
            "--threads", "8", "--timeout", "30",
        ]  # fmt: skip
        self.web_log = open(self.tmp / "web.log", "ab")
        self.web = subprocess.Popen(
            argv, cwd=ROOT, env=subprocess_env(REDIS_URL=self.redis_url),
            stdout=self.web_log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.base_url + "/scoring", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError((self.tmp / "web.log").read_text()[-3000:])

    def session_for(self, user) -> requests.Session:
        """An HTTP session logged in as ``user``, with a CSRF token, like a browser's."""
        from django.test import Client

        client = Client()
        client.force_login(user)
        session = requests.Session()
        token = secrets.token_hex(16)  # a 32-character CSRF secret
        session.cookies.set("sessionid", client.cookies["sessionid"].value)
        session.cookies.set("csrftoken", token)
        session.headers.update({"X-CSRFToken": token, "Referer": self.base_url + "/"})
        return session

    def stop(self) -> None:
        self.worker.stop()
        if self.web and self.web.poll() is None:
            os.killpg(self.web.pid, signal.SIGTERM)
            self.web.wait(10)
        if self.redis and self.redis.poll() is None:
            self.stop_redis()


@pytest.fixture
def private_stack(tmp_path, django_db_setup, active_model):
    stack = PrivateStack(tmp_path)
    stack.start_redis()
    stack.start_web()
    stack.worker.start()
    yield stack
    stack.stop()
