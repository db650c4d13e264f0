"""Workers say they are alive by writing a timestamp to Redis; /healthz reads it.

Asking the workers themselves (Celery's ``control.ping``) costs the web process two
broker connections and a second of waiting per probe: under a flood of probes that
exhausted kombu's connection pool and hung every web thread. Instead each worker
publishes a heartbeat into one sorted set (member: the worker's name, score: the time)
every :data:`INTERVAL_SECONDS`, and a reader asks Redis once, with a short timeout,
which members are newer than :data:`TTL_SECONDS`.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from celery.signals import worker_ready, worker_shutdown

log = logging.getLogger(__name__)

KEY = "guessgame:worker-heartbeats"
INTERVAL_SECONDS = 5.0
TTL_SECONDS = 15.0
"""A worker unseen for this long counts as gone: three missed beats, not one slow one."""
READ_TIMEOUT_SECONDS = 0.25
"""Longest a health probe waits on Redis: a probe must stay cheap when Redis is not."""


def publish(client: redis.Redis, hostname: str, *, now: float | None = None) -> None:
    """Record one beat for ``hostname`` and forget workers gone for long."""
    now = time.time() if now is None else now
    pipe = client.pipeline(transaction=False)
    pipe.zadd(KEY, {hostname: now})
    pipe.zremrangebyscore(KEY, "-inf", now - 4 * TTL_SECONDS)
    pipe.expire(KEY, int(4 * TTL_SECONDS))
    pipe.execute()


def withdraw(client: redis.Redis, hostname: str) -> None:
    """A worker shutting down says so at once instead of fading out after the TTL."""
    client.zrem(KEY, hostname)


def live_workers(client: redis.Redis, *, now: float | None = None) -> dict[str, float]:
    """Name -> seconds since its last beat, for every worker seen within the TTL."""
    now = time.time() if now is None else now
    beats = client.zrangebyscore(KEY, now - TTL_SECONDS, "+inf", withscores=True)
    return {name.decode(): round(max(0.0, now - at), 1) for name, at in beats}


def client_for(url: str, *, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


class Publisher(threading.Thread):
    """A daemon thread in the worker's main process that beats until stopped.

    A thread, not a Celery task: a worker busy with a long batch still beats, and a
    beat never waits in the queue behind drawings.
    """

    def __init__(self, url: str, hostname: str) -> None:
        super().__init__(name="guessgame-heartbeat", daemon=True)
        self.client = client_for(url, timeout=2.0)
        self.hostname = hostname
        self.stopped = threading.Event()
        self._failing = False

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                publish(self.client, self.hostname)
                if self._failing:
                    log.info("heartbeat=resumed worker=%s", self.hostname)
                self._failing = False
            except redis.RedisError as exc:
                if not self._failing:  # once per outage, not every beat
                    log.warning("heartbeat=failed worker=%s error=%s", self.hostname, exc)
                self._failing = True
            self.stopped.wait(INTERVAL_SECONDS)

    def stop(self) -> None:
        self.stopped.set()
        try:
            withdraw(self.client, self.hostname)
        except redis.RedisError:
            pass  # the beat expires by itself


_publisher: Publisher | None = None


@worker_ready.connect
def _start_beating(sender=None, **_) -> None:
    from django.conf import settings

    global _publisher
    _publisher = Publisher(settings.REDIS_URL, sender.hostname)
    _publisher.start()


@worker_shutdown.connect
def _stop_beating(**_) -> None:
    if _publisher is not None:
        _publisher.stop()
