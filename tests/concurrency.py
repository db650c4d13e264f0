"""Calls run at the same moment, each in its own thread: what two tabs, two reviewers or
a flood of probes do to the code under test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from django.db import connections


def at_once(task: Callable, calls: Iterable[tuple] = ((),) * 2, *, timeout: float = 30.0) -> list:
    """Run ``task(*args)`` for each ``args`` of ``calls``, each in a thread of its own,
    released together by a barrier; wait for all (at most ``timeout`` seconds each).

    Each thread has its own database connection, closed when its call ends (a test
    database cannot be dropped while one is open). Returns the exceptions the calls
    raised, so a test can say there were none.
    """
    calls = list(calls)
    start = threading.Barrier(len(calls))
    raised: list[BaseException] = []

    def run(args: tuple) -> None:
        try:
            start.wait(timeout)
            task(*args)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            raised.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(args,)) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return raised
