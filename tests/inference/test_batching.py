"""Dynamic batching: drawings that arrive together travel as one task; a lone one at once."""

from __future__ import annotations

import os
import threading
import time
from contextlib import ExitStack

import pytest

from inference.batching import Batcher
from tests.concurrency import at_once


class FakeWorker:
    """Records each batch sent; answers payload "7" with [7.0] * 10, optionally held back."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.error: Exception | None = None

    def __call__(self, batch: list[str], *, timeout: float) -> dict:
        self.batches.append(list(batch))
        self.hold.wait(5)
        if self.error is not None:
            raise self.error
        rows = [[float(payload) if payload.isdigit() else -1.0] * 10 for payload in batch]
        return {"model_version": "fake-v1", "probabilities": rows}


@pytest.fixture
def worker() -> FakeWorker:
    return FakeWorker()


def test_a_lone_drawing_goes_at_once_without_waiting_for_the_window(worker):
    batcher = Batcher(worker, window=2.0, max_size=64)
    started = time.monotonic()
    row, version = batcher.submit("1", timeout=5).result(timeout=5)
    assert time.monotonic() - started < 0.5
    assert (row, version) == ([1.0] * 10, "fake-v1")


def test_drawings_arriving_together_share_one_task(worker):
    batcher = Batcher(worker, window=2.0, max_size=64)
    with ExitStack() as stack:
        slots = [stack.enter_context(batcher.incoming()) for _ in range(5)]
        futures = [slot.submit(str(n), timeout=5) for n, slot in enumerate(slots)]
    answers = [future.result(timeout=5) for future in futures]

    assert worker.batches == [["0", "1", "2", "3", "4"]]
    assert [row[0] for row, _ in answers] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_withdrawn_drawing_does_not_hold_the_batch_open(worker):
    batcher = Batcher(worker, window=2.0, max_size=64)
    with batcher.incoming() as blank, batcher.incoming() as drawing:
        future = drawing.submit("7", timeout=5)
        assert not blank.submitted
    started = time.monotonic()
    future.result(timeout=5)
    assert time.monotonic() - started < 0.5


def test_the_window_caps_the_wait_for_a_drawing_that_never_comes(worker):
    batcher = Batcher(worker, window=0.05, max_size=64)
    with batcher.incoming() as slow, batcher.incoming() as quick:
        future = quick.submit("3", timeout=5)
        future.result(timeout=2)  # answered while `slow` is still being preprocessed
        slow.submit("4", timeout=5).result(timeout=2)
    assert worker.batches == [["3"], ["4"]]


def busy_with(batcher: Batcher, worker, name: str):
    """Send one drawing and hold the worker on it: the next ones must wait for it."""
    worker.hold.clear()
    future = batcher.submit(name, timeout=5)
    while not worker.batches:
        time.sleep(0.001)
    return future


def test_drawings_queued_while_a_batch_is_with_the_worker_leave_together(worker):
    batcher = Batcher(worker, window=0.0, max_size=64)
    first = busy_with(batcher, worker, "a")
    later = [batcher.submit(name, timeout=5) for name in "bcd"]
    worker.hold.set()
    for future in [first, *later]:
        future.result(timeout=5)
    assert worker.batches == [["a"], ["b", "c", "d"]]


def test_a_batch_never_exceeds_the_maximum_size(worker):
    batcher = Batcher(worker, window=0.0, max_size=3)
    busy_with(batcher, worker, "x")
    futures = [batcher.submit(str(n), timeout=5) for n in range(7)]
    worker.hold.set()
    for future in futures:
        future.result(timeout=5)
    assert [len(batch) for batch in worker.batches] == [1, 3, 3, 1]


def test_a_failed_batch_fails_every_drawing_in_it(worker):
    batcher = Batcher(worker, window=1.0, max_size=64)
    worker.error = TimeoutError("no worker")
    with batcher.incoming() as one, batcher.incoming() as two:
        futures = [one.submit("1", timeout=5), two.submit("2", timeout=5)]
    for future in futures:
        with pytest.raises(TimeoutError, match="no worker"):
            future.result(timeout=5)
    # The dispatcher survives a failure and serves the next drawing.
    worker.error = None
    assert batcher.submit("3", timeout=5).result(timeout=5)[1] == "fake-v1"


def test_a_drawing_whose_request_gave_up_is_not_sent(worker):
    batcher = Batcher(worker, window=0.0, max_size=64)
    busy_with(batcher, worker, "busy")
    batcher.submit("expired", timeout=0.01)
    time.sleep(0.05)
    fresh = batcher.submit("fresh", timeout=5)
    worker.hold.set()
    fresh.result(timeout=5)
    assert worker.batches == [["busy"], ["fresh"]]


def test_many_request_threads_get_their_own_rows(worker):
    batcher = Batcher(worker, window=0.002, max_size=8)
    results: dict[int, float] = {}

    def request(n: int) -> None:
        with batcher.incoming() as slot:
            future = slot.submit(str(n), timeout=5)
        results[n] = future.result(timeout=5)[0][0]

    assert at_once(request, [(n,) for n in range(40)], timeout=10) == []
    assert results == {n: float(n) for n in range(40)}
    assert all(len(batch) <= 8 for batch in worker.batches)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_process_starts_its_own_dispatcher(worker):
    batcher = Batcher(worker, window=0.0, max_size=64)
    batcher.submit("parent", timeout=5).result(timeout=5)  # parent's thread is running

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's thread did not survive the fork
        try:
            row, _ = batcher.submit("9", timeout=5).result(timeout=5)
            os.write(write_end, b"ok" if row == [9.0] * 10 else b"wrong")
        finally:
            os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert os.read(read_end, 10) == b"ok"
    assert status == 0


def test_each_batch_reports_its_size_and_how_long_each_drawing_queued(worker):
    seen: list[tuple[int, list[float]]] = []
    batcher = Batcher(worker, window=2.0, max_size=64, observe=lambda n, w: seen.append((n, w)))
    with ExitStack() as stack:
        slots = [stack.enter_context(batcher.incoming()) for _ in range(3)]
        futures = [slot.submit(str(n), timeout=5) for n, slot in enumerate(slots)]
    for future in futures:
        future.result(timeout=5)

    assert [size for size, _ in seen] == [3]
    assert len(seen[0][1]) == 3 and all(0 <= wait < 5 for wait in seen[0][1])


def test_a_failing_observer_never_costs_a_prediction(worker):
    def broken(size, waits):
        raise RuntimeError("metrics down")

    batcher = Batcher(worker, window=2.0, max_size=64, observe=broken)
    assert batcher.submit("4", timeout=5).result(timeout=5) == ([4.0] * 10, "fake-v1")
