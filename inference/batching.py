"""Dynamic batching in the web process: drawings that arrive together share one task.

Celery costs a few milliseconds of CPU per message whatever the task does, so sending
one task per drawing caps throughput far below what the model can do (0.1 ms a
drawing). As Triton and TF Serving do, requests queue here and a dispatcher thread sends
what has gathered as ONE task, predicted in one model call, then hands each request its
row of the answer.

A lone drawing does not wait: the dispatcher holds a batch open (for at most
``window`` seconds) only while other requests of this process are still being
preprocessed and so about to join it. Under load, drawings that arrive while a batch is
with the worker gather in the queue and leave together as the next batch.

One dispatcher thread owns every Celery call (send the task, wait for its result):
Celery's Redis result backend copes badly with dozens of threads waiting at once.
Request threads only wait on their Future. The thread starts lazily in the process that
first submits, so it survives gunicorn's fork (a thread does not cross ``fork()``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

SendBatch = Callable[..., dict]
"""``send(batch: list[str], *, timeout: float) -> {"model_version", "probabilities"}``."""

ObserveBatch = Callable[[int, list[float]], None]
"""``observe(size, waits)``: a batch left with ``size`` drawings that waited ``waits`` s."""


@dataclass
class _Item:
    payload: str
    deadline: float
    future: Future = field(default_factory=Future)
    queued_at: float = field(default_factory=time.monotonic)


class Batcher:
    """A queue of drawings and the dispatcher thread(s) that send them in batches.

    ``window`` is in seconds, ``max_size`` in drawings. Each Future resolves to
    ``(probabilities: list[float], model_version: str)`` or to the exception ``send``
    raised for its batch.
    """

    def __init__(
        self,
        send: SendBatch,
        *,
        window: float,
        max_size: int,
        dispatchers: int = 1,
        observe: ObserveBatch | None = None,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._send = send
        self._observe = observe
        self.window = max(0.0, window)
        self.max_size = max_size
        self.dispatchers = max(1, dispatchers)
        self._items: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._arriving = 0
        self._threads: list[threading.Thread] = []
        self._pid: int | None = None
        self.batch_sizes: deque[int] = deque(maxlen=1000)
        """Sizes of the most recent batches sent, for tests and benchmarks."""
        _all_batchers.add(self)

    def _after_fork_in_child(self) -> None:
        # A thread of the parent may have held the lock at fork(); the child's copy
        # would stay locked forever. Queued items belong to the parent's requests.
        self._cond = threading.Condition()
        self._items.clear()
        self._arriving = 0
        self._threads = []
        self._pid = None

    # -- request side ---------------------------------------------------------------
    def submit(self, payload: str, *, timeout: float) -> Future:
        """Queue one drawing; the Future resolves when its batch comes back."""
        return self._put(payload, timeout=timeout, announced=False)

    @contextmanager
    def incoming(self) -> Iterator[_Slot]:
        """Announce a drawing that is on its way (being preprocessed).

        While any drawing is announced, the dispatcher keeps an open batch waiting for
        it, up to the window. Leaving the block without ``slot.submit`` withdraws it
        (a blank or unreadable drawing never reaches the worker).
        """
        self._ensure_started()
        with self._cond:
            self._arriving += 1
        slot = _Slot(self)
        try:
            yield slot
        finally:
            if not slot.submitted:
                with self._cond:
                    self._arriving -= 1
                    self._cond.notify_all()

    def _put(self, payload: str, *, timeout: float, announced: bool) -> Future:
        self._ensure_started()
        item = _Item(payload=payload, deadline=time.monotonic() + timeout)
        with self._cond:
            if announced:
                self._arriving -= 1
            self._items.append(item)
            self._cond.notify_all()
        return item.future

    # -- dispatcher side ------------------------------------------------------------
    def _ensure_started(self) -> None:
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._cond:
            if self._pid == pid:
                return
            self._threads = [
                threading.Thread(target=self._run, name=f"batcher-{n}", daemon=True)
                for n in range(self.dispatchers)
            ]
            for thread in self._threads:
                thread.start()
            self._pid = pid

    def _take_batch(self) -> list[_Item]:
        """Block until drawings are queued, hold the batch open while more are coming."""
        with self._cond:
            while not self._items:
                self._cond.wait()
            close_at = self._items[0].queued_at + self.window
            while len(self._items) < self.max_size and self._arriving > 0:
                remaining = close_at - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch: list[_Item] = []
            now = time.monotonic()
            while self._items and len(batch) < self.max_size:
                item = self._items.popleft()
                # Its request has already given up waiting: do not make the worker pay.
                if item.deadline > now and item.future.set_running_or_notify_cancel():
                    batch.append(item)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch:
                self._dispatch(batch)

    def _dispatch(self, batch: list[_Item]) -> None:
        self.batch_sizes.append(len(batch))
        if self._observe is not None:
            now = time.monotonic()
            try:
                self._observe(len(batch), [now - item.queued_at for item in batch])
            except Exception:  # figures must never cost a prediction
                log.warning("event=batch_observe_failed", exc_info=True)
        timeout = max(0.05, max(item.deadline for item in batch) - time.monotonic())
        try:
            answer = self._send([item.payload for item in batch], timeout=timeout)
            rows = answer["probabilities"]
            version = answer["model_version"]
            if len(rows) != len(batch):
                raise RuntimeError(f"Asked for {len(batch)} predictions, got {len(rows)}.")
        except Exception as exc:  # every waiter must hear about it, whatever it is
            log.warning("event=batch_failed size=%d error=%r", len(batch), exc)
            for item in batch:
                item.future.set_exception(exc)
            return
        for item, row in zip(batch, rows, strict=True):
            item.future.set_result((row, version))


_all_batchers: weakref.WeakSet[Batcher] = weakref.WeakSet()


def _reset_batchers_in_child() -> None:
    for batcher in list(_all_batchers):
        batcher._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_batchers_in_child)


class _Slot:
    def __init__(self, batcher: Batcher) -> None:
        self._batcher = batcher
        self.submitted = False

    def submit(self, payload: str, *, timeout: float) -> Future:
        if self.submitted:
            raise RuntimeError("This slot already carried a drawing.")
        self.submitted = True
        return self._batcher._put(payload, timeout=timeout, announced=True)
