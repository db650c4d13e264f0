"""Keep Python's full garbage collections short in the long-running processes.

A web or worker process holds ~100,000 objects from its start (Django, the URL
resolvers, the templates, Celery, NumPy...) that live as long as it does. Each full
(generation 2) collection walks them all: about 55 ms on this project's 2-core machine,
every few seconds under load, with the GIL held, so every thread of the process stalls
and a live guess that would take 30 ms takes 90. ``gc.freeze()`` once the process has
started moves them out of the collector's sight; objects made later are collected as
before.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect once, then exempt everything alive now from later collections; returns
    how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
