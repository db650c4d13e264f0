"""``manage.py`` in a process of its own: settings are read once per process, so a test of
what the environment does to them starts a fresh one."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

PER_RUN = {"SECRET_KEY", "DJANGO_ENV", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
"""What the test run sets that a real process would not have (DJANGO_ALLOW_ASYNC_UNSAFE
is for the browser tests only; production never has it)."""


def manage(
    *args: str, unset: set[str] = frozenset(), umask: int = -1, **env: str
) -> subprocess.CompletedProcess:
    """``manage.py *args`` with the test's environment less PER_RUN and ``unset``, plus
    ``env``; its output as text."""
    environment = {k: v for k, v in os.environ.items() if k not in PER_RUN | unset}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True,
        text=True, timeout=120, umask=umask,
    )  # fmt: skip


def shell(code: str, **options) -> subprocess.CompletedProcess:
    """Run Python ``code`` in a Django shell (settings loaded); options as :func:`manage`."""
    return manage("shell", "--no-imports", "-c", code, **options)
